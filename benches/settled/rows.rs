//! The rows of the `settled` bench: one function per row, each timing one sample of `k`
//! iterations (after `WARM` untimed ones) and returning the elapsed time. Each does the same
//! work as the divan row of `benches/spans/` named in its doc.

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent_trace::Record as _;

use crate::systems::*;

/// Untimed iterations before each timed sample: the caches and branch predictors, cold after
/// the settling pause, are warmed by the row's own work, not by another row's.
pub const WARM: u64 = 2;

/// Runs `f` `WARM` times untimed, then `k` times timed.
#[inline(always)]
fn time(k: u64, mut f: impl FnMut()) -> Duration {
    for _ in 0..WARM {
        f();
    }
    let start = Instant::now();
    for _ in 0..k {
        f();
    }
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// Floors.

/// Two reads of agent-trace's clock (`Timestamp::now()`, what a span reads at start and end).
pub fn clock_agent_trace(k: u64) -> Duration {
    time(k, || {
        black_box(agent_trace::Timestamp::now());
        black_box(agent_trace::Timestamp::now());
    })
}

/// Two reads of `std::time::Instant::now()`.
pub fn clock_std(k: u64) -> Duration {
    time(k, || {
        black_box(Instant::now());
        black_box(Instant::now());
    })
}

/// The harness floor of the disabled rows: what they do besides agent-trace's own check — the
/// span name through `black_box`, and a no-op `Span` through `black_box` and dropped.
pub fn floor_span_none(k: u64) -> Duration {
    time(k, || {
        black_box("x");
        drop(black_box(agent_trace::Span::none()))
    })
}

// ---------------------------------------------------------------------------------------------
// Nested sync (`spans/root_plus_10_nested.rs`): 11 spans per iteration.

pub fn nested_agent_trace(k: u64) -> Duration {
    let at = &*AT;
    time(k, || {
        at.provider
            .trace("bench")
            .in_scope(|| agent_trace::custom_span("root").in_scope(|| at_nest(black_box(10))))
    })
}

pub fn nested_fastrace(k: u64) -> Duration {
    time(k, || {
        let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
        let _g = root.set_local_parent();
        fr_nest(black_box(10));
    })
}

pub fn nested_otel(k: u64) -> Duration {
    use opentelemetry::trace::Tracer as _;
    let otel = &*OTEL;
    time(k, || {
        otel.tracer
            .in_span("root", |_| otel_nest(&otel.tracer, black_box(10)))
    })
}

// ---------------------------------------------------------------------------------------------
// Async (`spans/async_root_plus_10.rs`): a root future and 10 awaited children, `block_on` per
// iteration on a current-thread runtime; 11 spans per iteration.

pub fn async_floor(k: u64) -> Duration {
    async fn leaf() {}
    let rt = &*RT;
    time(k, || {
        rt.block_on(async {
            for _ in 0..black_box(10) {
                leaf().await
            }
        })
    })
}

pub fn async_agent_trace(k: u64) -> Duration {
    time(k, at_async_root_plus_10)
}

pub fn async_fastrace(k: u64) -> Duration {
    time(k, fr_async_root_plus_10)
}

pub fn async_otel(k: u64) -> Duration {
    time(k, otel_async_root_plus_10)
}

// ---------------------------------------------------------------------------------------------
// No current trace (`spans/no_current_trace.rs`): one span start + end per iteration, nothing
// recorded.

/// A `#[traced]` sync fn outside any trace.
pub fn no_trace_agent_trace_fn(k: u64) -> Duration {
    time(k, || at_traced_nest(black_box(0)))
}

/// A plain `custom_span` outside any trace.
pub fn no_trace_agent_trace_span(k: u64) -> Duration {
    time(k, || {
        drop(black_box(agent_trace::custom_span(black_box("x"))))
    })
}

/// A `#[fastrace::trace]` sync fn with no local parent.
pub fn no_trace_fastrace_fn(k: u64) -> Duration {
    time(k, || fr_traced_nest(black_box(0)))
}

/// `LocalSpan::enter_with_local_parent` with no local parent.
pub fn no_trace_fastrace_local_span(k: u64) -> Duration {
    time(k, || {
        drop(black_box(
            fastrace::local::LocalSpan::enter_with_local_parent(black_box("x")),
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Disabled (`spans/disabled.rs`): one span start + end per iteration inside a trace that
// records nothing.

/// `agent_trace::set_enabled(false)` inside a running trace.
pub fn disabled_agent_trace(k: u64) -> Duration {
    let at = &*AT;
    let trace = at.provider.trace("bench").start();
    let cx = trace.context().attach();
    agent_trace::set_enabled(false);
    let d = time(k, || {
        drop(black_box(agent_trace::custom_span(black_box("x"))))
    });
    agent_trace::set_enabled(true);
    drop(cx);
    drop(trace);
    d
}

/// A `LocalSpan` under a root whose `SpanContext` is `sampled(false)`, set as local parent.
pub fn disabled_fastrace(k: u64) -> Duration {
    let root = fastrace::Span::root(
        "root",
        fastrace::collector::SpanContext::random().sampled(false),
    );
    let _g = root.set_local_parent();
    time(k, || {
        drop(black_box(
            fastrace::local::LocalSpan::enter_with_local_parent(black_box("x")),
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Typed (`spans/typed_generation_usage.rs`, `spans/typed_function_input.rs`): a root and 10
// typed children per iteration; 11 spans.

pub fn generation_agent_trace(k: u64) -> Duration {
    time(k, at_generation_root_plus_10)
}

pub fn generation_fastrace(k: u64) -> Duration {
    time(k, fr_generation_root_plus_10)
}

pub fn function_agent_trace(k: u64) -> Duration {
    let at = &*AT;
    time(k, || {
        at.provider.trace("bench").in_scope(|| {
            agent_trace::custom_span("root").in_scope(|| {
                for _ in 0..10 {
                    let mut s = agent_trace::function_span("lookup_invoice");
                    s.set_input(black_box(INPUT));
                }
            })
        })
    })
}

pub fn function_fastrace(k: u64) -> Duration {
    use fastrace::local::LocalSpan;
    time(k, || {
        let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
        let _g = root.set_local_parent();
        for _ in 0..10 {
            let _s = LocalSpan::enter_with_local_parent("lookup_invoice")
                .with_property(|| ("input", black_box(INPUT).to_owned()));
        }
    })
}

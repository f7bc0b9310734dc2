//! Span cost of agent-trace against fastrace, opentelemetry_sdk and tracing +
//! tracing-opentelemetry, in one run (divan).
//!
//! ```text
//! cargo bench --bench spans                         # full run, ~1 minute
//! AGENT_TRACE_BENCH_QUICK=1 cargo bench --bench spans   # a few seconds
//! cargo test --benches                              # each bench once, debug build
//! ```
//!
//! Every system exports through its batch pipeline (default settings) into a counting no-op
//! exporter; after the timings, the run prints how many spans each system produced, how many
//! reached its exporter, and how many it dropped.
//!
//! Rows are grouped by scenario; inside a group, one row per system. Rows with an `items`
//! throughput line make N spans per iteration: the time per span is the median divided by N.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use common::*;
use divan::counter::ItemsCount;
use divan::Bencher;

// ---------------------------------------------------------------------------------------------
// The four systems, set up once.

static AT: LazyLock<AgentTrace> = LazyLock::new(AgentTrace::new);
static FASTRACE: LazyLock<std::sync::Arc<Counts>> = LazyLock::new(fastrace_init);
static OTEL: LazyLock<Otel> = LazyLock::new(|| {
    Otel::new(opentelemetry_sdk::trace::Sampler::ParentBased(Box::new(
        opentelemetry_sdk::trace::Sampler::AlwaysOn,
    )))
});
static OTEL_OFF: LazyLock<Otel> =
    LazyLock::new(|| Otel::new(opentelemetry_sdk::trace::Sampler::AlwaysOff));
static TRACING: LazyLock<&'static Otel> = LazyLock::new(tracing_init);

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
});

/// Spans made by the benches, per system (single writer: the bench thread).
static MADE_AT: AtomicU64 = AtomicU64::new(0);
static MADE_FASTRACE: AtomicU64 = AtomicU64::new(0);
static MADE_OTEL: AtomicU64 = AtomicU64::new(0);
static MADE_TRACING: AtomicU64 = AtomicU64::new(0);

#[inline(always)]
fn made(c: &AtomicU64, n: u64) {
    // One writer: a plain load + store, no locked instruction in the timed loop.
    c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

const INPUT: &str = "where is my refund for invoice 42?";

// ---------------------------------------------------------------------------------------------
// Helpers per system.

fn at_nest(depth: u32) {
    if depth == 0 {
        return;
    }
    agent_trace::custom_span("child").in_scope(|| at_nest(depth - 1))
}

#[agent_trace::traced(kind = "custom")]
fn at_traced_nest(depth: u32) {
    if depth > 0 {
        at_traced_nest(depth - 1)
    }
}

#[agent_trace::traced]
async fn at_leaf() {}

fn fr_nest(depth: u32) {
    if depth == 0 {
        return;
    }
    let _s = fastrace::local::LocalSpan::enter_with_local_parent("child");
    fr_nest(depth - 1)
}

#[fastrace::trace]
fn fr_traced_nest(depth: u32) {
    if depth > 0 {
        fr_traced_nest(depth - 1)
    }
}

#[fastrace::trace]
async fn fr_leaf() {}

fn otel_nest(tracer: &opentelemetry_sdk::trace::SdkTracer, depth: u32) {
    use opentelemetry::trace::Tracer as _;
    if depth == 0 {
        return;
    }
    tracer.in_span("child", |_| otel_nest(tracer, depth - 1))
}

async fn otel_leaf(tracer: &opentelemetry_sdk::trace::SdkTracer) {
    use opentelemetry::trace::{FutureExt as _, TraceContextExt as _, Tracer as _};
    let cx = opentelemetry::Context::current_with_span(tracer.start("leaf"));
    async {}.with_context(cx).await
}

#[tracing::instrument(skip_all, name = "child")]
fn tr_nest(depth: u32) {
    if depth > 0 {
        tr_nest(depth - 1)
    }
}

#[tracing::instrument(skip_all)]
async fn tr_leaf() {}

// ---------------------------------------------------------------------------------------------

/// One root span per iteration (agent-trace: a new trace with its root span, two records).
#[divan::bench_group(sample_size = 256)]
mod root {
    use super::*;

    #[divan::bench]
    fn agent_trace(b: Bencher) {
        let at = &*AT;
        b.bench_local(|| {
            at.provider
                .trace("bench")
                .in_scope(|| agent_trace::custom_span("root").end());
            made(&MADE_AT, 1);
        });
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        LazyLock::force(&FASTRACE);
        b.bench_local(|| {
            drop(black_box(fastrace::Span::root(
                "root",
                fastrace::collector::SpanContext::random(),
            )));
            made(&MADE_FASTRACE, 1);
        });
    }

    #[divan::bench]
    fn opentelemetry_sdk(b: Bencher) {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let otel = &*OTEL;
        b.bench_local(|| {
            let mut s = otel.tracer.start("root");
            s.end();
            made(&MADE_OTEL, 1);
        });
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        LazyLock::force(&TRACING);
        b.bench_local(|| {
            drop(black_box(tracing::info_span!("root")));
            made(&MADE_TRACING, 1);
        });
    }
}

/// A root span and 10 nested sync children per iteration (11 spans): time per span = median / 11.
#[divan::bench_group(sample_size = 32)]
mod root_plus_10_nested {
    use super::*;

    #[divan::bench]
    fn agent_trace(b: Bencher) {
        let at = &*AT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            at.provider
                .trace("bench")
                .in_scope(|| agent_trace::custom_span("root").in_scope(|| at_nest(black_box(10))));
            made(&MADE_AT, 11);
        });
    }

    /// The same with `#[traced]` sync functions as the children.
    #[divan::bench]
    fn agent_trace_traced_fn(b: Bencher) {
        let at = &*AT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            at.provider
                .trace("bench")
                .in_scope(|| at_traced_nest(black_box(10)));
            made(&MADE_AT, 11);
        });
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        LazyLock::force(&FASTRACE);
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
            let _g = root.set_local_parent();
            fr_nest(black_box(10));
            made(&MADE_FASTRACE, 11);
        });
    }

    /// The same with `#[fastrace::trace]` sync functions as the children.
    #[divan::bench]
    fn fastrace_trace_fn(b: Bencher) {
        LazyLock::force(&FASTRACE);
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
            let _g = root.set_local_parent();
            fr_traced_nest(black_box(9));
            made(&MADE_FASTRACE, 11);
        });
    }

    #[divan::bench]
    fn opentelemetry_sdk(b: Bencher) {
        use opentelemetry::trace::Tracer as _;
        let otel = &*OTEL;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            otel.tracer
                .in_span("root", |_| otel_nest(&otel.tracer, black_box(10)));
            made(&MADE_OTEL, 11);
        });
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        LazyLock::force(&TRACING);
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            tracing::info_span!("root").in_scope(|| tr_nest(black_box(9)));
            made(&MADE_TRACING, 11);
        });
    }
}

/// agent-trace only: 10 nested sync spans per iteration inside a trace and root span that stay
/// open (the per-span cost without the per-trace cost). Time per span = median / 10.
#[divan::bench_group(sample_size = 32)]
mod nested_10_in_open_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace(b: Bencher) {
        let at = &*AT;
        let trace = at.provider.trace("bench").start();
        let _cx = trace.context().attach();
        agent_trace::custom_span("root").in_scope(|| {
            b.counter(ItemsCount::new(10u32)).bench_local(|| {
                at_nest(black_box(10));
                made(&MADE_AT, 10);
            });
        });
        made(&MADE_AT, 1);
    }

    /// The same on a provider with no processor: the span machinery (ids, clock, context)
    /// without the hand-off to the batch pipeline.
    #[divan::bench]
    fn agent_trace_no_processor(b: Bencher) {
        static BARE: LazyLock<agent_trace::TracerProvider> =
            LazyLock::new(|| agent_trace::TracerProvider::builder().build());
        let trace = BARE.trace("bench").start();
        let _cx = trace.context().attach();
        agent_trace::custom_span("root").in_scope(|| {
            b.counter(ItemsCount::new(10u32))
                .bench_local(|| at_nest(black_box(10)));
        });
    }
}

/// A root future with 10 awaited async child spans per iteration, on a current-thread Tokio
/// runtime (`block_on` per iteration): 11 spans. Time per span = median / 11.
#[divan::bench_group(sample_size = 32)]
mod async_root_plus_10 {
    use super::*;

    /// The same futures and `block_on` with no tracing: the floor under every row here.
    #[divan::bench]
    fn baseline_no_tracing(b: Bencher) {
        async fn leaf() {}
        let rt = &*RT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            rt.block_on(async {
                for _ in 0..black_box(10) {
                    leaf().await
                }
            })
        });
    }

    /// `#[traced]` async fns under a root span attached with `.in_span()`, in a new trace.
    #[divan::bench]
    fn agent_trace(b: Bencher) {
        use agent_trace::Instrument as _;
        let at = &*AT;
        let rt = &*RT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            rt.block_on(at.provider.trace("bench").run(async {
                async {
                    for _ in 0..black_box(10) {
                        at_leaf().await
                    }
                }
                .in_span(agent_trace::custom_span("root"))
                .await
            }));
            made(&MADE_AT, 11);
        });
    }

    /// `#[fastrace::trace]` async fns under a root `Span` attached with `in_span`.
    #[divan::bench]
    fn fastrace(b: Bencher) {
        use fastrace::future::FutureExt as _;
        LazyLock::force(&FASTRACE);
        let rt = &*RT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            rt.block_on(async {
                let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
                async {
                    for _ in 0..black_box(10) {
                        fr_leaf().await
                    }
                }
                .in_span(root)
                .await
            });
            made(&MADE_FASTRACE, 11);
        });
    }

    /// Spans made current for each future with `FutureExt::with_context`.
    #[divan::bench]
    fn opentelemetry_sdk(b: Bencher) {
        use opentelemetry::trace::{FutureExt as _, TraceContextExt as _, Tracer as _};
        let otel = &*OTEL;
        let rt = &*RT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            rt.block_on(async {
                let cx = opentelemetry::Context::current_with_span(otel.tracer.start("root"));
                async {
                    for _ in 0..black_box(10) {
                        otel_leaf(&otel.tracer).await
                    }
                }
                .with_context(cx)
                .await
            });
            made(&MADE_OTEL, 11);
        });
    }

    /// `#[instrument]` async fns under a root span attached with `.instrument()`.
    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        use tracing::Instrument as _;
        LazyLock::force(&TRACING);
        let rt = &*RT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            rt.block_on(
                async {
                    for _ in 0..black_box(10) {
                        tr_leaf().await
                    }
                }
                .instrument(tracing::info_span!("root")),
            );
            made(&MADE_TRACING, 11);
        });
    }
}

/// A root and 10 function (tool-call) child spans carrying their input string (copied into the
/// span, as every system must keep it past the call): 11 spans per iteration.
#[divan::bench_group(sample_size = 32)]
mod typed_function_input {
    use super::*;

    #[divan::bench]
    fn agent_trace(b: Bencher) {
        let at = &*AT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            at.provider.trace("bench").in_scope(|| {
                agent_trace::custom_span("root").in_scope(|| {
                    for _ in 0..10 {
                        let mut s = agent_trace::function_span("lookup_invoice");
                        s.set_input(black_box(INPUT));
                    }
                })
            });
            made(&MADE_AT, 11);
        });
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        use fastrace::local::LocalSpan;
        LazyLock::force(&FASTRACE);
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
            let _g = root.set_local_parent();
            for _ in 0..10 {
                let _s = LocalSpan::enter_with_local_parent("lookup_invoice")
                    .with_property(|| ("input", black_box(INPUT).to_owned()));
            }
            made(&MADE_FASTRACE, 11);
        });
    }

    #[divan::bench]
    fn opentelemetry_sdk(b: Bencher) {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let otel = &*OTEL;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            otel.tracer.in_span("root", |_| {
                for _ in 0..10 {
                    let mut s = otel.tracer.start("lookup_invoice");
                    s.set_attribute(opentelemetry::KeyValue::new(
                        "input",
                        black_box(INPUT).to_owned(),
                    ));
                }
            });
            made(&MADE_OTEL, 11);
        });
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        LazyLock::force(&TRACING);
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            tracing::info_span!("root").in_scope(|| {
                for _ in 0..10 {
                    drop(tracing::info_span!(
                        "lookup_invoice",
                        input = black_box(INPUT)
                    ));
                }
            });
            made(&MADE_TRACING, 11);
        });
    }
}

/// A root and 10 generation child spans with a model and token usage: 11 spans per iteration.
#[divan::bench_group(sample_size = 32)]
mod typed_generation_usage {
    use super::*;

    #[divan::bench]
    fn agent_trace(b: Bencher) {
        let at = &*AT;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            at.provider.trace("bench").in_scope(|| {
                agent_trace::custom_span("root").in_scope(|| {
                    for _ in 0..10 {
                        let mut s = agent_trace::generation_span().with_model("gpt-4o-mini");
                        s.record_usage(agent_trace::Usage::tokens(black_box(12), black_box(5)));
                    }
                })
            });
            made(&MADE_AT, 11);
        });
    }

    #[divan::bench]
    fn fastrace(b: Bencher) {
        use fastrace::local::LocalSpan;
        use std::borrow::Cow;
        LazyLock::force(&FASTRACE);
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
            let _g = root.set_local_parent();
            for _ in 0..10 {
                let _s = LocalSpan::enter_with_local_parent("generation").with_properties(|| {
                    [
                        ("gen_ai.request.model", Cow::Borrowed("gpt-4o-mini")),
                        (
                            "gen_ai.usage.input_tokens",
                            Cow::Owned(black_box(12u64).to_string()),
                        ),
                        (
                            "gen_ai.usage.output_tokens",
                            Cow::Owned(black_box(5u64).to_string()),
                        ),
                    ]
                });
            }
            made(&MADE_FASTRACE, 11);
        });
    }

    #[divan::bench]
    fn opentelemetry_sdk(b: Bencher) {
        use opentelemetry::trace::{Span as _, Tracer as _};
        use opentelemetry::KeyValue;
        let otel = &*OTEL;
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            otel.tracer.in_span("root", |_| {
                for _ in 0..10 {
                    let mut s = otel.tracer.start("generation");
                    s.set_attribute(KeyValue::new("gen_ai.request.model", "gpt-4o-mini"));
                    s.set_attribute(KeyValue::new("gen_ai.usage.input_tokens", black_box(12i64)));
                    s.set_attribute(KeyValue::new("gen_ai.usage.output_tokens", black_box(5i64)));
                }
            });
            made(&MADE_OTEL, 11);
        });
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        LazyLock::force(&TRACING);
        b.counter(ItemsCount::new(11u32)).bench_local(|| {
            tracing::info_span!("root").in_scope(|| {
                for _ in 0..10 {
                    drop(tracing::info_span!(
                        "generation",
                        gen_ai.request.model = "gpt-4o-mini",
                        gen_ai.usage.input_tokens = black_box(12u64),
                        gen_ai.usage.output_tokens = black_box(5u64),
                    ));
                }
            });
            made(&MADE_TRACING, 11);
        });
    }
}

/// Tracing switched off, inside a running trace: one span start + end per iteration.
#[divan::bench_group(sample_size = 4096)]
mod disabled {
    use super::*;

    /// The floor of the rows below: materializing and dropping a no-op `Span` through
    /// `black_box`, with no switch checked.
    #[divan::bench]
    fn agent_trace_floor_span_none(b: Bencher) {
        b.bench_local(|| drop(black_box(agent_trace::Span::none())));
    }

    /// The loop's own floor: `black_box` of a unit.
    #[divan::bench]
    fn floor_empty(b: Bencher) {
        b.bench_local(|| black_box(()));
    }

    /// `agent_trace::set_enabled(false)` (the global switch).
    #[divan::bench]
    fn agent_trace_set_enabled_false(b: Bencher) {
        let at = &*AT;
        let trace = at.provider.trace("bench").start();
        let _cx = trace.context().attach();
        agent_trace::set_enabled(false);
        b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
        agent_trace::set_enabled(true);
    }

    /// A provider switched off with `TracerProvider::set_enabled(false)`.
    #[divan::bench]
    fn agent_trace_disabled_provider(b: Bencher) {
        static OFF: LazyLock<agent_trace::TracerProvider> =
            LazyLock::new(|| agent_trace::TracerProvider::builder().build());
        let trace = OFF.trace("bench").start();
        let _cx = trace.context().attach();
        OFF.set_enabled(false);
        b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
        OFF.set_enabled(true);
    }

    /// A `#[traced]` sync function with tracing off.
    #[divan::bench]
    fn agent_trace_traced_fn(b: Bencher) {
        let at = &*AT;
        let trace = at.provider.trace("bench").start();
        let _cx = trace.context().attach();
        agent_trace::set_enabled(false);
        b.bench_local(|| at_traced_nest(black_box(0)));
        agent_trace::set_enabled(true);
    }

    /// fastrace cannot be switched off at run time once a reporter is set (without the
    /// `enable` feature it compiles to nothing): the nearest is an unsampled root.
    #[divan::bench]
    fn fastrace_unsampled_root(b: Bencher) {
        LazyLock::force(&FASTRACE);
        b.bench_local(|| {
            drop(black_box(fastrace::Span::root(
                "x",
                fastrace::collector::SpanContext::random().sampled(false),
            )))
        });
    }

    /// A provider whose sampler is `AlwaysOff`.
    #[divan::bench]
    fn opentelemetry_sdk_always_off(b: Bencher) {
        use opentelemetry::trace::Tracer as _;
        let otel = &*OTEL_OFF;
        b.bench_local(|| drop(black_box(otel.tracer.start(black_box("x")))));
    }
}

/// A span started where no trace is current: one start + end per iteration. (opentelemetry
/// and tracing have no such state: a span without a parent starts a new trace, see `root`.)
#[divan::bench_group(sample_size = 4096)]
mod no_current_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace(b: Bencher) {
        LazyLock::force(&AT);
        b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
    }

    /// A `#[traced]` sync function outside any trace.
    #[divan::bench]
    fn agent_trace_traced_fn(b: Bencher) {
        LazyLock::force(&AT);
        b.bench_local(|| at_traced_nest(black_box(0)));
    }

    /// `LocalSpan::enter_with_local_parent` with no local parent.
    #[divan::bench]
    fn fastrace_local_span(b: Bencher) {
        LazyLock::force(&FASTRACE);
        b.bench_local(|| {
            drop(black_box(
                fastrace::local::LocalSpan::enter_with_local_parent(black_box("x")),
            ))
        });
    }

    /// `Span::enter_with_local_parent` with no local parent.
    #[divan::bench]
    fn fastrace_span(b: Bencher) {
        LazyLock::force(&FASTRACE);
        b.bench_local(|| {
            drop(black_box(fastrace::Span::enter_with_local_parent(
                black_box("x"),
            )))
        });
    }
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let mut divan = divan::Divan::from_args();
    divan = if quick() {
        divan.sample_count(5).sample_size(20)
    } else {
        // Sample sizes are set per group (each sample well above the timer's precision);
        // enough samples that the median is stable on a small machine.
        divan.sample_count(300)
    };
    divan.main();
    report_delivery();
}

/// After the timings: what each system's exporter received against what the benches made.
fn report_delivery() {
    println!();
    println!("delivery (spans made by the benches above vs spans that reached each exporter):");
    println!(
        "{:<24} {:>14} {:>14} {:>14} {:>10}",
        "system", "made", "exported", "dropped", "drop %"
    );
    let row = |name: &str, made: u64, exported: u64, note: String| {
        let dropped = made.saturating_sub(exported);
        let pct = if made == 0 {
            0.0
        } else {
            dropped as f64 * 100.0 / made as f64
        };
        println!("{name:<24} {made:>14} {exported:>14} {dropped:>14} {pct:>9.2}% {note}");
    };
    if let Some(at) = LazyLock::get(&AT) {
        let _ = at.batch.force_flush_blocking(FLUSH_TIMEOUT);
        let s = at.batch.stats();
        row(
            "agent-trace",
            MADE_AT.load(Ordering::Relaxed),
            at.counts.spans(),
            format!(
                "(own counters: dropped_queue_full={} enqueued={} traces exported={})",
                s.dropped_queue_full,
                s.enqueued,
                at.counts.traces()
            ),
        );
    }
    if let Some(counts) = LazyLock::get(&FASTRACE) {
        fastrace::flush();
        row(
            "fastrace",
            MADE_FASTRACE.load(Ordering::Relaxed),
            counts.spans(),
            String::new(),
        );
    }
    if let Some(otel) = LazyLock::get(&OTEL) {
        otel.flush();
        row(
            "opentelemetry_sdk",
            MADE_OTEL.load(Ordering::Relaxed),
            otel.counts.spans(),
            String::new(),
        );
    }
    if let Some(otel) = LazyLock::get(&TRACING) {
        otel.flush();
        row(
            "tracing-opentelemetry",
            MADE_TRACING.load(Ordering::Relaxed),
            otel.counts.spans(),
            String::new(),
        );
    }
}

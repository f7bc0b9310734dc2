//! Tracing switched off, inside a running trace: one span start + end per iteration.
//!
//! Like with like: every system's span here is a child inside a trace that is not recorded
//! (agent-trace: switched off; fastrace: under a root whose `SpanContext` is `sampled(false)`;
//! opentelemetry_sdk: under an unsampled parent, with a `ParentBased` sampler). The two rows
//! marked "root" are the older cells, unsampled root spans (a new trace per iteration), kept
//! for comparison with earlier tables.
//!
//! The `disabled` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

use std::hint::black_box;
use std::sync::LazyLock;

use divan::Bencher;

use crate::systems::*;

/// Iterations per sample for every bench of this group. It is set on each bench because
/// `#[divan::bench_group]` cannot take a module kept in its own file; divan applies both
/// the same way (the run's own `sample_size`, in quick mode, still overrides it).
const SAMPLE_SIZE: u32 = 4096;

/// The floor of the rows below: materializing and dropping a no-op `Span` through
/// `black_box`, with no switch checked.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace_floor_span_none(b: Bencher) {
    b.bench_local(|| drop(black_box(agent_trace::Span::none())));
}

/// The loop's own floor: `black_box` of a unit.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn floor_empty(b: Bencher) {
    b.bench_local(|| black_box(()));
}

/// `agent_trace::set_enabled(false)` (the global switch).
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace_set_enabled_false(b: Bencher) {
    let at = &*AT;
    let trace = at.provider.trace("bench").start();
    let _cx = trace.context().attach();
    agent_trace::set_enabled(false);
    b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
    agent_trace::set_enabled(true);
}

/// A provider switched off with `TracerProvider::set_enabled(false)`.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace_disabled_provider(b: Bencher) {
    static OFF: LazyLock<agent_trace::TracerProvider> =
        LazyLock::new(|| agent_trace::TracerProvider::builder().build().leak());
    let trace = OFF.trace("bench").start();
    let _cx = trace.context().attach();
    OFF.set_enabled(false);
    b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
    OFF.set_enabled(true);
}

/// A `#[traced]` sync function with tracing off.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace_traced_fn(b: Bencher) {
    let at = &*AT;
    let trace = at.provider.trace("bench").start();
    let _cx = trace.context().attach();
    agent_trace::set_enabled(false);
    b.bench_local(|| at_traced_nest(black_box(0)));
    agent_trace::set_enabled(true);
}

/// fastrace cannot be switched off at run time once a reporter is set (without the `enable`
/// feature it compiles to nothing): the nearest is a trace that is not sampled. A `LocalSpan`
/// under a root whose `SpanContext` is `sampled(false)`, set as the local parent.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn fastrace_local_span_in_unsampled_trace(b: Bencher) {
    LazyLock::force(&FASTRACE);
    let root = fastrace::Span::root(
        "root",
        fastrace::collector::SpanContext::random().sampled(false),
    );
    let _g = root.set_local_parent();
    b.bench_local(|| {
        drop(black_box(
            fastrace::local::LocalSpan::enter_with_local_parent(black_box("x")),
        ))
    });
}

/// Older cell (root, not a span inside a trace): an unsampled root `Span`, a new trace per
/// iteration.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn fastrace_unsampled_root(b: Bencher) {
    LazyLock::force(&FASTRACE);
    b.bench_local(|| {
        drop(black_box(fastrace::Span::root(
            "x",
            fastrace::collector::SpanContext::random().sampled(false),
        )))
    });
}

/// A child span under an unsampled parent: the provider's sampler is
/// `ParentBased(AlwaysOff)`, so the parent (a root) is not sampled and the child follows it.
/// The parent is current (attached to the thread's context) while the children start.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn opentelemetry_sdk_child_of_unsampled(b: Bencher) {
    use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
    static PARENT_OFF: LazyLock<crate::common::Otel> = LazyLock::new(|| {
        crate::common::Otel::new(opentelemetry_sdk::trace::Sampler::ParentBased(Box::new(
            opentelemetry_sdk::trace::Sampler::AlwaysOff,
        )))
    });
    let otel = &*PARENT_OFF;
    let parent = otel.tracer.start("root");
    let _cx = opentelemetry::Context::current_with_span(parent).attach();
    assert!(
        !otel.tracer.start("x").is_recording(),
        "the child is not recorded"
    );
    b.bench_local(|| drop(black_box(otel.tracer.start(black_box("x")))));
}

/// Older cell (root, not a span inside a trace): a root span on a provider whose sampler is
/// `AlwaysOff`.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn opentelemetry_sdk_always_off(b: Bencher) {
    use opentelemetry::trace::Tracer as _;
    let otel = &*OTEL_OFF;
    b.bench_local(|| drop(black_box(otel.tracer.start(black_box("x")))));
}

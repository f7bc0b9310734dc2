//! Tracing switched off, inside a running trace: one span start + end per iteration.
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

/// fastrace cannot be switched off at run time once a reporter is set (without the
/// `enable` feature it compiles to nothing): the nearest is an unsampled root.
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

/// A provider whose sampler is `AlwaysOff`.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn opentelemetry_sdk_always_off(b: Bencher) {
    use opentelemetry::trace::Tracer as _;
    let otel = &*OTEL_OFF;
    b.bench_local(|| drop(black_box(otel.tracer.start(black_box("x")))));
}

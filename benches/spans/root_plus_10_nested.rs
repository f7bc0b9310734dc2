//! A root span and 10 nested sync children per iteration (11 spans): time per span = median / 11.
//!
//! The `root_plus_10_nested` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

use std::hint::black_box;
use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::Bencher;

use crate::systems::*;

/// Iterations per sample for every bench of this group. It is set on each bench because
/// `#[divan::bench_group]` cannot take a module kept in its own file; divan applies both
/// the same way (the run's own `sample_size`, in quick mode, still overrides it).
const SAMPLE_SIZE: u32 = 32;

#[divan::bench(sample_size = SAMPLE_SIZE)]
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
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace_traced_fn(b: Bencher) {
    let at = &*AT;
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        at.provider
            .trace("bench")
            .in_scope(|| at_traced_nest(black_box(10)));
        made(&MADE_AT, 11);
    });
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
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
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn fastrace_trace_fn(b: Bencher) {
    LazyLock::force(&FASTRACE);
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
        let _g = root.set_local_parent();
        fr_traced_nest(black_box(9));
        made(&MADE_FASTRACE, 11);
    });
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn opentelemetry_sdk(b: Bencher) {
    use opentelemetry::trace::Tracer as _;
    let otel = &*OTEL;
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        otel.tracer
            .in_span("root", |_| otel_nest(&otel.tracer, black_box(10)));
        made(&MADE_OTEL, 11);
    });
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn tracing_opentelemetry(b: Bencher) {
    LazyLock::force(&TRACING);
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        tracing::info_span!("root").in_scope(|| tr_nest(black_box(9)));
        made(&MADE_TRACING, 11);
    });
}

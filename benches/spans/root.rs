//! One root span per iteration (agent-trace: a new trace with its root span, two records).
//!
//! The `root` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

use std::hint::black_box;
use std::sync::LazyLock;

use divan::Bencher;

use crate::systems::*;

/// Iterations per sample for every bench of this group. It is set on each bench because
/// `#[divan::bench_group]` cannot take a module kept in its own file; divan applies both
/// the same way (the run's own `sample_size`, in quick mode, still overrides it).
const SAMPLE_SIZE: u32 = 256;

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace(b: Bencher) {
    let at = &*AT;
    b.bench_local(|| {
        at.provider
            .trace("bench")
            .in_scope(|| agent_trace::custom_span("root").end());
        made(&MADE_AT, 1);
    });
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
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

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn opentelemetry_sdk(b: Bencher) {
    use opentelemetry::trace::{Span as _, Tracer as _};
    let otel = &*OTEL;
    b.bench_local(|| {
        let mut s = otel.tracer.start("root");
        s.end();
        made(&MADE_OTEL, 1);
    });
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn tracing_opentelemetry(b: Bencher) {
    LazyLock::force(&TRACING);
    b.bench_local(|| {
        drop(black_box(tracing::info_span!("root")));
        made(&MADE_TRACING, 1);
    });
}

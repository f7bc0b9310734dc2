//! A root and 10 generation child spans with a model and token usage: 11 spans per iteration.
//!
//! The `typed_generation_usage` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

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
    LazyLock::force(&AT);
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        at_generation_root_plus_10();
        made(&MADE_AT, 11);
    });
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn fastrace(b: Bencher) {
    LazyLock::force(&FASTRACE);
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        fr_generation_root_plus_10();
        made(&MADE_FASTRACE, 11);
    });
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
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

#[divan::bench(sample_size = SAMPLE_SIZE)]
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

//! A root and 10 function (tool-call) child spans carrying their input string (copied into the
//! span, as every system must keep it past the call): 11 spans per iteration.
//!
//! The `typed_function_input` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

use std::hint::black_box;
use std::sync::LazyLock;

use agent_trace::Record;
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

#[divan::bench(sample_size = SAMPLE_SIZE)]
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

#[divan::bench(sample_size = SAMPLE_SIZE)]
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

#[divan::bench(sample_size = SAMPLE_SIZE)]
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

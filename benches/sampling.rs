//! What a span costs when sampling or selective tracing leaves it out, beside the disabled
//! path and a recorded nested span (divan).
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench sampling
//! AGENT_TRACE_BENCH_QUICK=1 cargo test -p agent-trace-benches --bench sampling   # each once, debug
//! ```
//!
//! Each row makes one span start + end per iteration, inside a current trace:
//!
//! - `disabled_provider`: the provider switched off (`TracerProvider::set_enabled(false)`);
//! - `sampled_out`: a trace the head sampler dropped (`AlwaysOff`): the span takes the no-op
//!   path at the same check as the disabled provider;
//! - `filtered_out`: a span whose kind a `SpanFilter` switches off (its data is built, checked
//!   and dropped; counted in `sampling_stats`);
//! - `sampled_nested`: a recorded span under another span, into a `BatchProcessor` with a
//!   counting exporter (the ordinary path, for scale);
//! - `tail_held`: a recorded span handed to a `TailSampler` (ratio 1) that holds it until its
//!   trace ends (the trace is ended and restarted every 1 000 spans, inside the timed loop).

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::LazyLock;

use agent_trace::sampling::{AlwaysOff, SpanFilter, TailPolicy, TailSampler};
use agent_trace::{SpanKind, TracerProvider};
use common::{quick, AgentTrace};
use divan::Bencher;

const SAMPLE_SIZE: u32 = 4096;

fn main() {
    let mut divan = divan::Divan::from_args();
    divan = if quick() {
        divan.sample_count(5).sample_size(20)
    } else {
        divan.sample_count(200)
    };
    divan.main();
}

static AT: LazyLock<AgentTrace> = LazyLock::new(AgentTrace::new);

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn disabled_provider(b: Bencher) {
    static OFF: LazyLock<TracerProvider> =
        LazyLock::new(|| TracerProvider::builder().build().leak());
    let trace = OFF.trace("bench").start();
    let _cx = trace.context().attach();
    OFF.set_enabled(false);
    b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
    OFF.set_enabled(true);
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn sampled_out(b: Bencher) {
    static P: LazyLock<TracerProvider> = LazyLock::new(|| {
        TracerProvider::builder()
            .sampler(AlwaysOff)
            .with_processor(AT.batch.clone())
            .build()
            .leak()
    });
    let trace = P.trace("bench").start();
    assert!(!trace.is_sampled());
    let _cx = trace.context().attach();
    b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn filtered_out(b: Bencher) {
    static P: LazyLock<TracerProvider> = LazyLock::new(|| {
        TracerProvider::builder()
            .span_filter(SpanFilter::new().drop_kind(SpanKind::Custom))
            .with_processor(AT.batch.clone())
            .build()
            .leak()
    });
    let trace = P.trace("bench").start();
    let _cx = trace.context().attach();
    b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn sampled_nested(b: Bencher) {
    let trace = AT.provider.trace("bench").start();
    let _root = trace.context().attach();
    let parent = agent_trace::custom_span("parent");
    assert!(parent.is_recording());
    let _cx = parent.context().attach();
    b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
}

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn tail_held(b: Bencher) {
    static P: LazyLock<TracerProvider> = LazyLock::new(|| {
        TracerProvider::builder()
            .with_processor(TailSampler::new(
                AT.batch.clone(),
                TailPolicy::new().ratio(1.0).max_spans(100_000),
            ))
            .build()
            .leak()
    });
    let mut trace = P.trace("bench").start();
    let mut n = 0u32;
    b.bench_local(|| {
        trace
            .context()
            .run(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
        n += 1;
        if n.is_multiple_of(1_000) {
            trace = P.trace("bench").start();
        }
    });
}

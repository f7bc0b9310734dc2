//! Measures what the metrics processor adds per span end (no criterion: a fixed number of
//! spans, timed; the median and fastest of several rounds). Run it on a quiet machine:
//!
//! ```text
//! cargo run --release -p agent-trace-toolkit --example metrics_cost
//! ```

use std::time::Instant;

use agent_trace::{SpanData, SpanRecord, Timestamp, TraceId, TracingProcessor, Usage};
use agent_trace_toolkit::metrics::MetricsProcessor;

fn main() {
    const N: u64 = 1_000_000;
    let names = [
        "lookup_invoice",
        "search_docs",
        "send_email",
        "refund",
        "escalate",
    ];
    let trace = TraceId::random();
    let records: Vec<SpanRecord> = (0..1000u64)
        .map(|i| {
            let mut r = if i % 4 == 0 {
                let mut g = agent_trace::span_data::GenerationSpanData::default();
                g.model = Some("gpt-4o-mini".into());
                g.usage = Some(Usage::tokens(12, 5));
                SpanRecord::new(trace, None, SpanData::Generation(Box::new(g)))
            } else {
                SpanRecord::new(
                    trace,
                    None,
                    SpanData::custom(names[i as usize % names.len()]),
                )
            };
            r.ended_at = Some(Timestamp::from_unix_nanos(
                r.started_at.unix_nanos() + 1_000 * i,
            ));
            r
        })
        .collect();
    let metrics = MetricsProcessor::new();
    const ROUNDS: usize = 11;
    let mut per_span: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for i in 0..N {
                metrics.on_span_end(&records[(i % 1000) as usize]);
            }
            t.elapsed().as_nanos() as f64 / N as f64
        })
        .collect();
    per_span.sort_by(f64::total_cmp);
    println!(
        "metrics processor: {:.1} ns per span end median, {:.1} ns fastest ({ROUNDS} rounds of {N})",
        per_span[ROUNDS / 2],
        per_span[0]
    );
}

//! Span cost of agent-trace against fastrace, opentelemetry_sdk and tracing +
//! tracing-opentelemetry, in one run (divan).
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench spans                            # full run, ~1 minute
//! AGENT_TRACE_BENCH_QUICK=1 cargo bench -p agent-trace-benches --bench spans  # a few seconds
//! cargo test -p agent-trace-benches --benches                                 # each once, debug
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

#[path = "spans/systems.rs"]
mod systems;

// The bench groups, one module (and file) each; a module's name is its group's name. Their
// sample sizes are set in each file (`SAMPLE_SIZE`), and the doc of each file says what one
// iteration makes.
#[path = "spans/async_root_plus_10.rs"]
mod async_root_plus_10;
#[path = "spans/disabled.rs"]
mod disabled;
#[path = "spans/nested_10_in_open_trace.rs"]
mod nested_10_in_open_trace;
#[path = "spans/no_current_trace.rs"]
mod no_current_trace;
#[path = "spans/root.rs"]
mod root;
#[path = "spans/root_plus_10_nested.rs"]
mod root_plus_10_nested;
#[path = "spans/typed_function_input.rs"]
mod typed_function_input;
#[path = "spans/typed_generation_usage.rs"]
mod typed_generation_usage;

use std::sync::atomic::Ordering;
use std::sync::LazyLock;

use common::{at_dropped_counted, checking_run, quick, FLUSH_TIMEOUT};
use systems::*;

// ---------------------------------------------------------------------------------------------

fn main() {
    let mut divan = divan::Divan::from_args();
    divan = if quick() {
        divan.sample_count(5).sample_size(20)
    } else {
        // Sample sizes are set per group (`SAMPLE_SIZE` in `benches/spans/<group>.rs`, each
        // sample well above the timer's precision); enough samples that the median is stable
        // on a small machine.
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
        // Quick mode (and `cargo test --benches`) is CI's check that nothing goes uncounted:
        // every item offered to the pipeline reached the exporter or is counted as dropped.
        if checking_run() {
            let e = &s.exporters[0];
            let at_exporter = at.counts.spans() + at.counts.traces();
            let counted = at_exporter + at_dropped_counted(&s);
            let unaccounted = s.produced() as i64 - counted as i64;
            assert!(
                unaccounted == 0 && s.balanced() && at_exporter == e.exported,
                "agent-trace: {unaccounted} item(s) unaccounted, balanced={}, {at_exporter} at the exporter: {s:?}",
                s.balanced()
            );
            println!("agent-trace: unaccounted 0, balanced (checked)");
        }
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

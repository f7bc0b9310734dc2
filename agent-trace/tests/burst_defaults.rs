//! A burst at default settings: 5,000 concurrent conversations of 12 spans each on a 4-worker
//! runtime, every span counted on arrival at the exporter and in `stats()`. Nothing may be
//! lost, and the pipeline's memory stays bounded (VmRSS / VmHWM before and after are printed).
//! Alone in its binary: it builds the processor with default settings, so no `OTEL_BSP_*`
//! variable may be set by another test of the same process.

mod common;

use std::time::Duration;

use agent_trace::{custom_span, BatchProcessor, Instrument, TracerProvider};
use common::TestExporter;

const CONVERSATIONS: u64 = 5_000;
const SPANS_PER_CONVERSATION: u64 = 12;

/// A field of /proc/self/status in kB (`None` off Linux).
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One conversation: 12 turns, each a span around a step, ended back to back: the 5,000
/// conversations spread over the 4 workers end their 70,000 items in one burst (before the
/// overflow list, this dropped 0.1–27% of them in debug builds, counted in
/// `dropped_queue_full`).
async fn conversation(i: u64) {
    for turn in 0..SPANS_PER_CONVERSATION {
        async {}
            .in_span(
                custom_span("turn")
                    .with_attribute("conversation", i)
                    .with_attribute("turn", turn),
            )
            .await;
    }
}

#[test]
fn five_thousand_conversations_at_defaults_lose_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let exporter = TestExporter::counting("burst");
    let batch = BatchProcessor::builder()
        .with_exporter(exporter.clone())
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    let (rss_before, hwm_before) = (status_kb("VmRSS:"), status_kb("VmHWM:"));

    rt.block_on(async {
        let tasks: Vec<_> = (0..CONVERSATIONS)
            .map(|i| tokio::spawn(provider.trace("conversation").run(conversation(i))))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let (rss_burst, hwm_burst) = (status_kb("VmRSS:"), status_kb("VmHWM:"));
    batch
        .force_flush_blocking(Duration::from_secs(60))
        .expect("flush after the burst");

    let s = batch.stats();
    // Each conversation: its spans, and its trace's record at its start and at its end.
    let produced = CONVERSATIONS * (SPANS_PER_CONVERSATION + 2);
    eprintln!(
        "burst: produced {produced}, delivered {}, dropped_queue_full {}, dropped_export_failed {}; \
         VmRSS {rss_before:?} -> {rss_burst:?} kB, VmHWM {hwm_before:?} -> {hwm_burst:?} kB",
        exporter.count(),
        s.dropped_queue_full,
        s.exporters[0].dropped_export_failed,
    );
    assert_eq!(s.produced(), produced, "{s:?}");
    assert_eq!(s.dropped_queue_full, 0, "{s:?}");
    assert_eq!(s.exporters[0].dropped_export_failed, 0, "{s:?}");
    assert_eq!(exporter.count(), produced, "{s:?}");
    assert_eq!(s.exporters[0].exported, produced, "{s:?}");
    assert!(s.balanced(), "{s:?}");
    // The whole test process, runtime and tasks included, stays under the pipeline's bound.
    if let (Some(before), Some(after)) = (hwm_before, hwm_burst) {
        assert!(
            after.saturating_sub(before) < 64 * 1024,
            "peak memory grew by {} kB",
            after - before
        );
    }
}

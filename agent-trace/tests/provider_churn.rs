//! Building and dropping 10,000 providers, each with a batch processor and its export thread:
//! every span reaches its exporter, and threads and memory stay flat. Alone in its binary, so
//! that no other test's threads are counted.

use std::time::{Duration, Instant};

use agent_trace::{custom_span, BatchProcessor, TracerProvider};

mod common;
use common::TestExporter;

/// A value of `/proc/self/status` (kB for sizes), or `None` off Linux.
fn proc_status(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Waits (bounded) for exiting export threads to be gone, then reads the thread count.
fn settled_threads(at_most: u64) -> Option<u64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = proc_status("Threads:")?;
        if n <= at_most || Instant::now() > deadline {
            return Some(n);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn one_provider_run(exporter: &TestExporter, spans: usize) {
    let batch = BatchProcessor::builder()
        .with_exporter(exporter.clone())
        .build();
    let provider = TracerProvider::builder().with_processor(batch).build();
    provider.trace("tenant").in_scope(|| {
        for _ in 0..spans {
            custom_span("step").end();
        }
    });
    // The last handle: the batch processor is flushed and shut down before drop returns
    // (no runtime on this thread).
    drop(provider);
}

#[test]
fn ten_thousand_providers_deliver_everything_and_stay_flat() {
    let exporter = TestExporter::counting("counting");
    // Warm up: allocator pools, the first export threads, thread-locals.
    for _ in 0..500 {
        one_provider_run(&exporter, 3);
    }
    let threads_before = settled_threads(2);
    let rss_before = proc_status("VmRSS:");
    let runs = 10_000u64;
    for i in 0..runs {
        one_provider_run(&exporter, 3);
        // Everything ended under the provider reached its exporter by the time drop returned.
        // 3 spans and the trace's record at its start and its end.
        assert_eq!(exporter.count(), 5 * (500 + i + 1));
    }
    let threads_after = settled_threads(threads_before.unwrap_or(2));
    let rss_after = proc_status("VmRSS:");
    eprintln!(
        "10,000 providers: threads {threads_before:?} -> {threads_after:?}, \
         VmRSS {rss_before:?} kB -> {rss_after:?} kB"
    );
    if let (Some(b), Some(a)) = (threads_before, threads_after) {
        assert_eq!(a, b, "export threads of dropped providers must end");
    }
    if let (Some(b), Some(a)) = (rss_before, rss_after) {
        // Flat: no per-provider leak (a leak of even 1 kB each would be ~10 MB).
        assert!(
            a < b + 8 * 1024,
            "RSS grew from {b} kB to {a} kB over {runs} providers"
        );
    }
}

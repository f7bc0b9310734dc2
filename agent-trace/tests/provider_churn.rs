//! Building and dropping 10,000 providers, each with a batch processor and its export thread:
//! every span reaches its exporter, and threads and memory stay flat. Alone in its binary, so
//! that no other test's threads are counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_trace::{
    custom_span, BatchProcessor, BoxFuture, ExportError, ExportItem, TracerProvider,
    TracingExporter,
};

/// Counts the spans and trace records that reach it.
#[derive(Clone, Default)]
struct Counting {
    spans: Arc<AtomicU64>,
    traces: Arc<AtomicU64>,
}

impl TracingExporter for Counting {
    fn name(&self) -> &str {
        "counting"
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        for item in batch {
            match item {
                ExportItem::Span(_) => self.spans.fetch_add(1, Ordering::Relaxed),
                ExportItem::Trace(_) => self.traces.fetch_add(1, Ordering::Relaxed),
            };
        }
        Box::pin(async { Ok(()) })
    }
}

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

fn one_provider_run(exporter: &Counting, spans: usize) {
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
    let exporter = Counting::default();
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
        assert_eq!(exporter.spans.load(Ordering::Relaxed), 3 * (500 + i + 1));
    }
    let threads_after = settled_threads(threads_before.unwrap_or(2));
    let rss_after = proc_status("VmRSS:");
    assert!(exporter.traces.load(Ordering::Relaxed) >= 500 + runs);
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

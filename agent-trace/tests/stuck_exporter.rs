//! A stuck exporter harms only itself: next to one exporter whose export never completes, or
//! one that blocks its thread inside `export`, a healthy exporter receives every span at a
//! steady 5,000 spans/s, the stuck one's items are dropped and counted, and flush returns by
//! its bound with an error naming the stuck exporter.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_trace::{
    custom_span, BatchProcessor, BoxFuture, ExportError, ExportItem, TraceError, TracerProvider,
    TracingExporter,
};

/// Counts the spans it receives.
#[derive(Clone, Default)]
struct Healthy(Arc<AtomicU64>);

impl TracingExporter for Healthy {
    fn name(&self) -> &str {
        "healthy"
    }
    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        let spans = batch
            .iter()
            .filter(|i| matches!(i, ExportItem::Span(_)))
            .count();
        self.0.fetch_add(spans as u64, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

/// How a stuck exporter is stuck.
#[derive(Clone, Copy, Debug)]
enum Stuck {
    /// Its future never completes.
    Pending,
    /// It blocks its thread (`std::thread::sleep`) until released.
    Blocking,
}

#[derive(Clone)]
struct StuckExporter {
    how: Stuck,
    released: Arc<AtomicBool>,
}

impl TracingExporter for StuckExporter {
    fn name(&self) -> &str {
        "stuck"
    }
    fn export<'a>(&'a self, _: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        match self.how {
            Stuck::Pending => Box::pin(std::future::pending()),
            Stuck::Blocking => {
                while !self.released.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Box::pin(async { Ok(()) })
            }
        }
    }
}

/// Ends `rate` spans a second for `secs` seconds on a thread of its own; returns how many.
fn steady_load(provider: &TracerProvider, rate: u64, secs: u64) -> u64 {
    let provider = provider.clone();
    std::thread::spawn(move || {
        let start = Instant::now();
        let total = rate * secs;
        let mut ended = 0;
        provider.trace("load").in_scope(|| {
            while ended < total {
                // Catch up to where the clock says we should be, 1 ms at a time.
                let due = (start.elapsed().as_micros() as u64 * rate / 1_000_000).min(total);
                while ended < due {
                    custom_span("s").end();
                    ended += 1;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        ended
    })
    .join()
    .unwrap()
}

/// One healthy and one stuck exporter at 5,000 spans/s for 3 s, then a flush bounded at 2 s.
fn run(how: Stuck) {
    let healthy = Healthy::default();
    let released = Arc::new(AtomicBool::new(false));
    let stuck = StuckExporter {
        how,
        released: released.clone(),
    };
    let bound = Duration::from_secs(2);
    let batch = BatchProcessor::builder()
        .with_exporter(healthy.clone())
        .with_exporter(stuck)
        .flush_timeout(bound)
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    let spans = steady_load(&provider, 5_000, 3);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let flushed = rt.block_on(provider.force_flush());
    let took = started.elapsed();
    let s = batch.stats();
    let got = healthy.0.load(Ordering::Relaxed);
    eprintln!(
        "{how:?}: healthy got {got} of {spans} spans ({:.1}%), flush {flushed:?} in {took:?}, stats {s:?}",
        100.0 * got as f64 / spans as f64
    );
    // The healthy exporter got every span; nothing was lost in the producers' queues.
    assert_eq!(got, spans);
    assert_eq!(s.dropped_queue_full, 0, "{s:?}");
    assert_eq!(s.exporters[0].exported, s.enqueued, "{s:?}");
    // The stuck one's items are in its lane or dropped and counted.
    let e = &s.exporters[1];
    assert_eq!(e.exported, 0, "{e:?}");
    assert!(e.dropped_export_failed > 0, "{e:?}");
    assert_eq!(e.in_flight + e.dropped_export_failed, s.enqueued, "{e:?}");
    assert!(s.balanced(), "{s:?}");
    // The flush ended by its bound (the margin only tells a hang from a slow machine) and
    // says which exporter failed it.
    assert!(
        took < bound + Duration::from_secs(10),
        "flush hung: {took:?}"
    );
    match flushed {
        Err(TraceError::Failed(text)) => {
            assert!(text.contains("exporter stuck did not finish"), "{text}");
            assert!(text.contains("dropped instead of delivered"), "{text}");
            assert!(!text.contains("healthy"), "{text}");
        }
        other => panic!("a flush with a stuck exporter is not Ok: {other:?}"),
    }
    // Shutdown is bounded too, async or blocking.
    let started = Instant::now();
    let r = match how {
        Stuck::Pending => rt.block_on(provider.shutdown(Duration::from_secs(1))),
        Stuck::Blocking => provider.shutdown_blocking(Duration::from_secs(1)),
    };
    assert!(r.is_err(), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(11), "shutdown hung");
    released.store(true, Ordering::Relaxed);
}

#[test]
fn an_exporter_whose_future_never_completes_harms_only_itself() {
    run(Stuck::Pending);
}

#[test]
fn an_exporter_blocking_its_thread_harms_only_itself() {
    run(Stuck::Blocking);
}

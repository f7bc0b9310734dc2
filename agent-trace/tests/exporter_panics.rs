//! An exporter that panics is contained wherever it panics: in the synchronous part of
//! `export()` (before it returns its future), while its future is polled, in `force_flush()` and
//! in `shutdown()`. Its items are counted, its lane keeps working, flush and shutdown return an
//! error naming it instead of hanging or saying `Ok`, and the other exporters get everything.
//! After an exporter's first panic, its later panics reach neither the panic hook (no backtrace
//! per batch) nor stderr beyond the SDK's rate-limited diagnostic line.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use agent_trace::{
    BatchProcessor, BatchStats, BoxFuture, BreakerPolicy, Diagnostic, ExportError, ExportItem,
    ExporterStats, TraceError, TracerProvider, TracingExporter,
};
use common::{span_count, work, TestExporter};

/// Where [`Sloppy`] panics, each switchable at run time.
#[derive(Default)]
struct Faults {
    export_sync: AtomicBool,
    export_async: AtomicBool,
    flush: AtomicBool,
    shutdown: AtomicBool,
}

/// An exporter with bugs: it panics where its [`Faults`] say, with messages carrying `tag` so
/// each test can find its own panics among those of the tests running beside it.
#[derive(Clone)]
struct Sloppy {
    name: &'static str,
    tag: &'static str,
    faults: Arc<Faults>,
    exported: Arc<AtomicU64>,
}

impl Sloppy {
    fn new(name: &'static str, tag: &'static str) -> Self {
        Sloppy {
            name,
            tag,
            faults: Arc::default(),
            exported: Arc::default(),
        }
    }

    fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }
}

impl TracingExporter for Sloppy {
    fn name(&self) -> &str {
        self.name
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        if self.faults.export_sync.load(Ordering::Relaxed) {
            panic!("{}: export bug before the future", self.tag);
        }
        Box::pin(async move {
            if self.faults.export_async.load(Ordering::Relaxed) {
                panic!("{}: export bug inside the future", self.tag);
            }
            self.exported
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            Ok(())
        })
    }

    fn force_flush(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        if self.faults.flush.load(Ordering::Relaxed) {
            panic!("{}: flush bug", self.tag);
        }
        Box::pin(async { Ok(()) })
    }

    fn shutdown(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        if self.faults.shutdown.load(Ordering::Relaxed) {
            panic!("{}: shutdown bug", self.tag);
        }
        Box::pin(async { Ok(()) })
    }
}

/// Panic messages the panic hook saw (the hook that was in place before any exporter
/// panicked, which the SDK must keep calling for every panic it does not silence).
static HOOK_SAW: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Every SDK diagnostic of this test binary.
static DIAGNOSTICS: Mutex<Vec<Diagnostic>> = Mutex::new(Vec::new());

/// Installs the counting panic hook and the diagnostics hook, once, before any test of this
/// binary builds a processor (every test calls this first).
fn hooks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_owned()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                String::new()
            };
            HOOK_SAW
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(message);
            previous(info);
        }));
        assert!(agent_trace::set_diagnostics_hook(|d| {
            DIAGNOSTICS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(d.clone())
        }));
    });
}

fn hook_saw(needle: &str) -> usize {
    HOOK_SAW
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(needle))
        .count()
}

fn diagnostics_about(needle: &str) -> Vec<Diagnostic> {
    DIAGNOSTICS
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.message.contains(needle))
        .cloned()
        .collect()
}

/// A processor with `sloppy` and a well-behaved exporter named "good" beside it. The breaker
/// never opens, so each batch is one attempt, whatever happened to the one before.
fn pipeline(sloppy: &Sloppy, good: &TestExporter) -> (TracerProvider, BatchProcessor) {
    let batch = BatchProcessor::builder()
        .with_exporter(sloppy.clone())
        .with_exporter(good.clone())
        .schedule_delay(Duration::from_millis(20))
        .export_timeout(Duration::from_secs(5))
        .breaker_policy(BreakerPolicy::new(u32::MAX, Duration::from_secs(1)))
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    (provider, batch)
}

fn exporter<'a>(s: &'a BatchStats, name: &str) -> &'a ExporterStats {
    s.exporters.iter().find(|e| e.name == name).unwrap()
}

fn flush(batch: &BatchProcessor) -> Result<(), TraceError> {
    let r = batch.force_flush_blocking(Duration::from_secs(20));
    assert!(
        !matches!(r, Err(TraceError::Timeout { .. })),
        "flush hung: {r:?}"
    );
    r
}

#[test]
fn a_panic_before_export_returns_its_future_drops_the_batch_and_the_lane_lives_on() {
    hooks();
    let sloppy = Sloppy::new("sync-panicky", "tag-sync-export");
    let good = TestExporter::new("good");
    let (provider, batch) = pipeline(&sloppy, &good);
    sloppy.faults.export_sync.store(true, Ordering::Relaxed);

    work(&provider, 10);
    // The exporter's own flush works: the lost batch is counted, as a permanent error's is,
    // and the flush says so.
    let r = flush(&batch);
    assert!(
        matches!(r, Err(TraceError::Dropped { dropped: 12, .. })),
        "{r:?}"
    );
    let s = batch.stats();
    let e = exporter(&s, "sync-panicky");
    assert_eq!(e.in_flight, 0, "{e:?}");
    assert_eq!(e.exported, 0, "{e:?}");
    assert_eq!(e.dropped_export_failed, 12, "{e:?}");
    assert!(e.panics >= 1, "{e:?}");
    assert!(s.balanced(), "{s:?}");
    assert_eq!(span_count(&good.items()), 10);
    let said = diagnostics_about("tag-sync-export: export bug before the future");
    assert!(
        said.iter().any(|d| d.message.contains("sync-panicky")),
        "no diagnostic names the exporter and its panic: {said:?}"
    );

    // The bug is gone: the same lane delivers the next batch.
    sloppy.faults.export_sync.store(false, Ordering::Relaxed);
    work(&provider, 5);
    flush(&batch).unwrap();
    let s = batch.stats();
    let e = exporter(&s, "sync-panicky");
    assert_eq!(e.exported, 7, "{e:?}");
    assert_eq!(e.in_flight, 0, "{e:?}");
    assert!(s.balanced(), "{s:?}");
    assert_eq!(sloppy.exported(), 7);
    assert_eq!(span_count(&good.items()), 15);
    provider.shutdown_blocking(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_panic_in_force_flush_is_an_error_naming_the_exporter_and_the_lane_lives_on() {
    hooks();
    let sloppy = Sloppy::new("flush-panicky", "tag-flush");
    let good = TestExporter::new("good");
    let (provider, batch) = pipeline(&sloppy, &good);
    sloppy.faults.flush.store(true, Ordering::Relaxed);

    work(&provider, 10);
    for round in 0..2 {
        let err = flush(&batch).expect_err("a panicking force_flush is not Ok");
        let text = err.to_string();
        assert!(
            text.contains("flush-panicky") && text.contains("tag-flush: flush bug"),
            "round {round}: {text}"
        );
    }
    assert_eq!(span_count(&good.items()), 10);
    assert_eq!(sloppy.exported(), 12);

    sloppy.faults.flush.store(false, Ordering::Relaxed);
    work(&provider, 3);
    flush(&batch).unwrap();
    assert_eq!(sloppy.exported(), 17);
    let s = batch.stats();
    let e = exporter(&s, "flush-panicky");
    assert_eq!(e.exported, 17, "{e:?}");
    assert!(e.panics >= 2, "{e:?}");
    assert!(s.balanced(), "{s:?}");
    provider.shutdown_blocking(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_panic_in_shutdown_is_an_error_naming_the_exporter() {
    hooks();
    let sloppy = Sloppy::new("shutdown-panicky", "tag-shutdown");
    let good = TestExporter::new("good");
    let (provider, batch) = pipeline(&sloppy, &good);
    sloppy.faults.shutdown.store(true, Ordering::Relaxed);

    work(&provider, 10);
    let r = batch.shutdown_blocking(Duration::from_secs(20));
    let text = match r {
        Err(TraceError::Failed(text)) => text,
        other => panic!("a panicking shutdown is an error naming the exporter: {other:?}"),
    };
    assert!(
        text.contains("shutdown-panicky") && text.contains("tag-shutdown: shutdown bug"),
        "{text}"
    );
    assert_eq!(span_count(&good.items()), 10);
    assert_eq!(sloppy.exported(), 12);
    let s = batch.stats();
    let e = exporter(&s, "shutdown-panicky");
    assert_eq!(e.exported, 12, "{e:?}");
    assert_eq!(e.in_flight, 0, "{e:?}");
    assert_eq!(e.panics, 1, "{e:?}");
    assert!(s.balanced(), "{s:?}");
}

#[test]
fn an_exporter_panicking_on_every_batch_reaches_the_panic_hook_once() {
    hooks();
    let sync = Sloppy::new("sync-every-batch", "tag-hook-sync");
    let in_future = Sloppy::new("async-every-batch", "tag-hook-async");
    sync.faults.export_sync.store(true, Ordering::Relaxed);
    in_future.faults.export_async.store(true, Ordering::Relaxed);
    let good = TestExporter::new("good");
    let batch = BatchProcessor::builder()
        .with_exporter(sync.clone())
        .with_exporter(in_future.clone())
        .with_exporter(good.clone())
        .schedule_delay(Duration::from_millis(20))
        .breaker_policy(BreakerPolicy::new(u32::MAX, Duration::from_secs(1)))
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();

    for _ in 0..4 {
        work(&provider, 2);
        let r = flush(&batch);
        assert!(
            matches!(r, Err(TraceError::Dropped { dropped: 8, .. })),
            "{r:?}"
        );
    }
    let s = batch.stats();
    for name in ["sync-every-batch", "async-every-batch"] {
        let e = exporter(&s, name);
        assert!(e.panics >= 4, "{e:?}");
        assert_eq!(e.dropped_export_failed, 16, "{e:?}");
        assert_eq!(e.in_flight, 0, "{e:?}");
    }
    assert!(s.balanced(), "{s:?}");
    assert_eq!(span_count(&good.items()), 8);
    // The first panic of each went through the panic hook (message, backtrace if enabled);
    // the later ones did not.
    assert_eq!(hook_saw("tag-hook-sync"), 1);
    assert_eq!(hook_saw("tag-hook-async"), 1);
    // And the SDK's own line is rate-limited: not one per batch.
    for tag in ["tag-hook-sync", "tag-hook-async"] {
        let said = diagnostics_about(tag);
        assert!(!said.is_empty() && said.len() < 4, "{tag}: {said:?}");
    }
    provider.shutdown_blocking(Duration::from_secs(5)).unwrap();
}

//! The batch processor: flush and shutdown from every kind of caller, exact accounting,
//! isolation of bad exporters, the spool, and a load test.

mod common;

use std::time::Duration;

use agent_trace::{
    custom_span, BatchProcessor, BreakerPolicy, CircuitState, RetryPolicy, TracerProvider,
};
use common::{span_count, work, Behaviour, TestExporter};

fn pipeline(exporters: &[&TestExporter]) -> (TracerProvider, BatchProcessor) {
    let mut b = BatchProcessor::builder().schedule_delay(Duration::from_millis(50));
    for e in exporters {
        b = b.with_exporter((*e).clone());
    }
    let batch = b.build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    (provider, batch)
}

#[tokio::test(flavor = "current_thread")]
async fn flush_on_a_current_thread_runtime() {
    let e = TestExporter::new("e");
    let (provider, batch) = pipeline(&[&e]);
    work(&provider, 300);
    provider.force_flush().await.unwrap();
    assert_eq!(span_count(&e.items()), 300);
    let s = batch.stats();
    // 300 spans, and the trace's record at its start and at its end.
    assert_eq!(s.enqueued, 302);
    assert_eq!(s.exporters[0].exported, 302);
    assert!(s.balanced(), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_and_shutdown_from_inside_tokio_spawn() {
    let e = TestExporter::new("e");
    let (provider, batch) = pipeline(&[&e]);
    let in_task = provider.clone();
    tokio::spawn(async move {
        let provider = in_task;
        work(&provider, 10);
        provider.force_flush().await.unwrap();
        provider.shutdown(Duration::from_secs(5)).await.unwrap();
        provider.shutdown(Duration::from_secs(5)).await.unwrap(); // twice is harmless
    })
    .await
    .unwrap();
    assert_eq!(span_count(&e.items()), 10);
    // After shutdown, spans are counted and ignored.
    work(&provider, 5);
    let s = batch.stats();
    assert_eq!(s.dropped_after_shutdown, 7);
    assert_eq!(s.produced(), 19);
    assert!(s.balanced(), "{s:?}");
}

struct FlushOnDrop(TracerProvider);
impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.0
            .shutdown_blocking(Duration::from_secs(5))
            .expect("shutdown from a drop guard");
    }
}

#[test]
fn blocking_shutdown_from_a_guard_dropped_inside_a_runtime() {
    let e = TestExporter::new("e");
    let (provider, _batch) = pipeline(&[&e]);
    // What `#[tokio::main]` does: the guard drops inside block_on, on a runtime thread.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let _guard = FlushOnDrop(provider.clone());
            provider
                .trace("wf")
                .run(async { custom_span("s").end() })
                .await;
        });
    assert_eq!(span_count(&e.items()), 1);
}

#[test]
fn flush_with_no_runtime_at_all() {
    let e = TestExporter::new("e");
    let (provider, _batch) = pipeline(&[&e]);
    let on_thread = provider.clone();
    std::thread::spawn(move || work(&on_thread, 7))
        .join()
        .unwrap();
    provider
        .force_flush_blocking(Duration::from_secs(5))
        .unwrap();
    // And the async flush driven by a non-tokio executor.
    futures::executor::block_on(provider.force_flush()).unwrap();
    assert_eq!(
        span_count(&e.items()),
        7,
        "spans of an exited thread are not lost"
    );
}

#[test]
fn a_bad_exporter_never_stalls_the_good_one() {
    let good = TestExporter::new("good");
    let panicky = TestExporter::new("panicky");
    let hung = TestExporter::new("hung");
    let failing = TestExporter::new("failing");
    panicky.set(Behaviour::Panic);
    hung.set(Behaviour::Hang);
    failing.set(Behaviour::FailPermanent);
    let batch = BatchProcessor::builder()
        .with_exporter(good.clone())
        .with_exporter(panicky.clone())
        .with_exporter(hung.clone())
        .with_exporter(failing.clone())
        .export_timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::default().max_elapsed(Duration::from_millis(300)))
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    work(&provider, 50);
    // The flush does not wait out its bound on the hung exporter (that would be a Timeout):
    // it answers once each bad exporter gave its items up, and says how many.
    match provider.force_flush_blocking(Duration::from_secs(60)) {
        Err(agent_trace::TraceError::Dropped { dropped, .. }) => assert_eq!(dropped, 3 * 52),
        other => panic!("expected the three bad exporters' drops, got {other:?}"),
    }
    assert_eq!(span_count(&good.items()), 50);
    let s = batch.stats();
    for e in &s.exporters[1..] {
        assert_eq!(e.exported, 0, "{e:?}");
        assert_eq!(e.dropped_export_failed, 52, "{e:?}");
    }
    assert!(s.balanced(), "{s:?}");
}

#[test]
fn spool_keeps_batches_through_an_outage_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = TestExporter::new("backend");
    e.set(Behaviour::FailTransient);
    let build = |e: &TestExporter| {
        BatchProcessor::builder()
            .with_exporter(e.clone())
            .max_batch_size(10)
            .spool_dir(dir.path())
            .retry_policy(
                RetryPolicy::default()
                    .backoff(Duration::from_millis(1), Duration::from_millis(5))
                    .max_elapsed(Duration::from_millis(50)),
            )
            .breaker_policy(BreakerPolicy::new(3, Duration::from_millis(100)))
            .build()
    };
    let first = build(&e);
    let provider = TracerProvider::builder()
        .with_processor(first.clone())
        .build();
    work(&provider, 40);
    provider
        .force_flush_blocking(Duration::from_secs(10))
        .unwrap();
    let s = first.stats();
    let lane = &s.exporters[0];
    assert_eq!(lane.exported, 0);
    assert_eq!(lane.in_spool, 42, "{lane:?}");
    assert_eq!(lane.circuit, CircuitState::Open);
    assert!(s.balanced(), "{s:?}");
    provider.shutdown_blocking(Duration::from_secs(5)).unwrap();

    // A new process on the same directory, with the backend back.
    e.set(Behaviour::Accept);
    let second = build(&e);
    assert_eq!(second.stats().exporters[0].restored_from_spool, 42);
    second
        .force_flush_blocking(Duration::from_secs(10))
        .unwrap();
    let lane = &second.stats().exporters[0];
    assert_eq!(lane.replayed, 42, "{lane:?}");
    assert_eq!(lane.in_spool, 0);
    assert_eq!(span_count(&e.items()), 40);
    assert!(second.stats().balanced());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_small_queue_accounts_for_every_span() {
    load(64, 1_000_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_queue_sized_for_the_burst_drops_nothing() {
    let s = load(262_144, 1_000_000).await;
    assert_eq!(s.dropped_queue_full, 0, "{s:?}");
}

async fn load(queue: usize, total: usize) -> agent_trace::BatchStats {
    let e = TestExporter::counting("count");
    let batch = BatchProcessor::builder()
        .with_exporter(e.clone())
        .max_queue_size(queue)
        .max_batch_size(512)
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    let per_task = total / 8;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(provider.trace("load").run(async move {
                for i in 0..per_task {
                    custom_span("s").end();
                    if i % 4096 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }))
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let flushed = provider.force_flush().await;
    let s = batch.stats();
    // The flush tells whether anything was dropped, and how much.
    match flushed {
        Ok(()) => assert_eq!(s.dropped_queue_full, 0, "{s:?}"),
        Err(agent_trace::TraceError::Dropped { dropped, .. }) => {
            assert_eq!(dropped, s.dropped_queue_full, "{s:?}")
        }
        Err(e) => panic!("{e}"),
    }
    // Each of the 8 traces adds its record at start and at end.
    let produced = (total + 16) as u64;
    assert_eq!(s.produced(), produced, "{s:?}");
    assert_eq!(s.queued, 0, "{s:?}");
    assert_eq!(
        s.exporters[0].exported + s.dropped_queue_full,
        produced,
        "{s:?}"
    );
    assert_eq!(e.count(), s.exporters[0].exported);
    assert!(s.balanced(), "{s:?}");
    eprintln!(
        "load: produced {produced}, exported {}, dropped {} (queue {queue})",
        s.exporters[0].exported, s.dropped_queue_full
    );
    s
}

#[test]
fn flush_under_steady_load_returns_and_covers_what_ended_before_it() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    let e = TestExporter::counting("count");
    let (provider, batch) = pipeline(&[&e]);
    let stop = Arc::new(AtomicBool::new(false));
    let ended = Arc::new(AtomicU64::new(0));
    let producer = {
        let (stop, ended, provider) = (stop.clone(), ended.clone(), provider.clone());
        std::thread::spawn(move || {
            let trace = provider.trace("steady").start();
            let _cx = trace.context().attach();
            while !stop.load(Ordering::Relaxed) {
                custom_span("s").end();
                ended.fetch_add(1, Ordering::Release);
            }
        })
    };
    while ended.load(Ordering::Acquire) < 10_000 {
        std::thread::yield_now();
    }
    for _ in 0..3 {
        let before = ended.load(Ordering::Acquire);
        let started = std::time::Instant::now();
        provider
            .force_flush_blocking(Duration::from_secs(20))
            .expect("flush must end while spans keep coming");
        let exported = e.count();
        let dropped = batch.stats().dropped_queue_full;
        // Every span that ended before the flush was delivered or counted as dropped (the
        // drops may include later spans too, so they are added, never subtracted).
        assert!(
            exported + dropped >= before,
            "{exported} exported + {dropped} dropped < {before} ended before the flush"
        );
        eprintln!(
            "flush under load: {:?}, {before} ended before, {exported} exported",
            started.elapsed()
        );
    }
    stop.store(true, Ordering::Relaxed);
    producer.join().unwrap();
}

/// The export side hands the boxes of exported generation spans back to the threads that start
/// spans: a generation span started after others were exported must carry nothing of theirs.
#[test]
fn generation_spans_after_exported_ones_start_empty() {
    use agent_trace::{generation_span, ExportItem, Record as _, SpanData, Usage};
    let e = TestExporter::new("e");
    let (provider, batch) = pipeline(&[&e]);
    let round = |fill: bool| {
        provider.trace("wf").in_scope(|| {
            for _ in 0..300 {
                let mut g = generation_span();
                if fill {
                    g = g.with_model("gpt-4o-mini");
                    g.record_usage(Usage::tokens(12, 5));
                    g.set_input(&"hello");
                    g.set_output(&"hi there");
                }
            }
        });
        batch.force_flush_blocking(Duration::from_secs(10)).unwrap();
    };
    round(true);
    let first = e.items().len();
    round(false);
    let items = e.items();
    let second: Vec<_> = items[first..]
        .iter()
        .filter_map(|i| match i {
            ExportItem::Span(s) => Some(s),
            ExportItem::Trace(_) => None,
        })
        .collect();
    assert_eq!(second.len(), 300);
    for s in second {
        let SpanData::Generation(g) = &s.data else {
            panic!("not a generation span: {s:?}")
        };
        assert!(
            g.model.is_none() && g.usage.is_none() && g.input.is_none() && g.output.is_none(),
            "{g:?}"
        );
    }
    assert!(batch.stats().balanced());
}

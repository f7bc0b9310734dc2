//! Providers are values: dropping the last reference flushes and shuts down the processors,
//! and building many providers does not grow memory or threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::TestExporter;

use agent_trace::{
    custom_span, BatchProcessor, SpanRecord, TraceError, TracerProvider, TracingProcessor,
};

/// A processor that notes when it is shut down.
#[derive(Clone, Default)]
struct Noting {
    ended: Arc<Mutex<Vec<String>>>,
    shut_down: Arc<AtomicU64>,
}

impl TracingProcessor for Noting {
    fn on_span_end(&self, span: &SpanRecord) {
        let name = span.data.name().unwrap_or("?").to_owned();
        self.ended.lock().unwrap().push(name);
    }

    fn shutdown_blocking(&self, _timeout: Duration) -> Result<(), TraceError> {
        self.shut_down.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn dropping_inside_a_runtime_does_not_block_it_and_still_delivers() {
    let exporter = TestExporter::counting("counting");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let batch = BatchProcessor::builder()
            .with_exporter(exporter.clone())
            .build();
        let provider = TracerProvider::builder().with_processor(batch).build();
        provider
            .trace("in-runtime")
            .run(async {
                for _ in 0..5 {
                    custom_span("step").end();
                }
            })
            .await;
        // On a runtime thread the shutdown moves to a thread of its own.
        drop(provider);
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    // 5 spans and the trace's record at its start and its end.
    while exporter.count() < 7 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(exporter.count(), 7);
}

#[test]
fn a_running_span_keeps_its_provider_until_it_ends() {
    let seen = Noting::default();
    let provider = TracerProvider::builder()
        .with_processor(seen.clone())
        .build();
    let trace = provider.trace("wf").start();
    let span = trace.context().run(|| custom_span("outlives-the-handle"));
    drop(provider);
    drop(trace);
    assert_eq!(
        seen.shut_down.load(Ordering::SeqCst),
        0,
        "a span still runs"
    );
    span.end();
    assert_eq!(*seen.ended.lock().unwrap(), ["outlives-the-handle"]);
    assert_eq!(seen.shut_down.load(Ordering::SeqCst), 1);
}

#[test]
fn a_captured_context_keeps_its_provider_alive() {
    let seen = Noting::default();
    let provider = TracerProvider::builder()
        .with_processor(seen.clone())
        .build();
    let cx = provider.trace("wf").in_scope(agent_trace::Context::current);
    drop(provider);
    assert_eq!(seen.shut_down.load(Ordering::SeqCst), 0);
    std::thread::spawn(move || cx.run(|| custom_span("late").end()))
        .join()
        .unwrap();
    assert_eq!(*seen.ended.lock().unwrap(), ["late"]);
    assert_eq!(seen.shut_down.load(Ordering::SeqCst), 1);
}

#[test]
fn context_guards_dropped_out_of_order_never_dangle() {
    let seen = Noting::default();
    let provider = TracerProvider::builder()
        .with_processor(seen.clone())
        .build();
    let first = provider.trace("one").start();
    let second = provider.trace("two").start();
    let g1 = first.context().attach();
    let g2 = second.context().attach();
    drop(provider);
    drop(first);
    drop(second);
    // Out of order: g1 restores "nothing", then g2 restores trace one's position, which
    // still owns its provider reference.
    drop(g1);
    drop(g2);
    custom_span("after-the-guards").end();
    assert_eq!(*seen.ended.lock().unwrap(), ["after-the-guards"]);
}

#[test]
fn the_global_provider_is_kept_for_the_process() {
    let seen = Noting::default();
    let provider = TracerProvider::builder()
        .with_processor(seen.clone())
        .build();
    agent_trace::set_global_provider(&provider);
    drop(provider);
    let global = agent_trace::global_provider().expect("installed");
    agent_trace::trace("global").in_scope(|| custom_span("g").end());
    drop(global);
    assert_eq!(seen.shut_down.load(Ordering::SeqCst), 0);
    assert_eq!(*seen.ended.lock().unwrap(), ["g"]);
}

#[test]
fn dropping_one_provider_leaves_a_batch_processor_it_shares_with_another_running() {
    let exporter = TestExporter::counting("shared");
    let batch = BatchProcessor::builder()
        .with_exporter(exporter.clone())
        .build();
    let tenant_a = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    let tenant_b = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    tenant_a.trace("a").in_scope(|| custom_span("a").end());
    drop(tenant_a); // flushes the shared pipeline, does not shut it down
    assert_eq!(exporter.count(), 3);
    tenant_b.trace("b").in_scope(|| custom_span("b").end());
    batch.force_flush_blocking(Duration::from_secs(10)).unwrap();
    let stats = batch.stats();
    assert_eq!(stats.dropped_after_shutdown, 0, "{stats:?}");
    assert_eq!(exporter.count(), 6);
}

//! A flush tells the truth: it is `Ok` only when everything ended before it was delivered (or
//! kept in the spool); drops are an error naming the exporter, reported once; a shut-down
//! processor and a shut-down provider give the same error.

mod common;

use std::time::Duration;

use agent_trace::{BatchProcessor, TraceError, TracerProvider};
use common::{work, Behaviour, TestExporter};

fn setup(bad: Behaviour) -> (TracerProvider, BatchProcessor, TestExporter, TestExporter) {
    let good = TestExporter::new("good");
    let failing = TestExporter::new("failing");
    failing.set(bad);
    let batch = BatchProcessor::builder()
        .with_exporter(good.clone())
        .with_exporter(failing.clone())
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    (provider, batch, good, failing)
}

#[tokio::test]
async fn an_exporter_dropping_everything_fails_the_flush_once_per_drop() {
    let (provider, batch, good, _failing) = setup(Behaviour::FailPermanent);
    work(&provider, 10);
    match provider.force_flush().await {
        Err(TraceError::Dropped { dropped, message }) => {
            assert_eq!(dropped, 12);
            assert!(
                message.contains("exporter failing: 12 item(s)"),
                "{message}"
            );
            assert!(message.contains("400 bad request"), "{message}");
            assert!(!message.contains("good"), "{message}");
        }
        other => panic!("100% dropped is not Ok: {other:?}"),
    }
    assert_eq!(good.items().len(), 12);
    // Reported once: nothing new was dropped since.
    provider.force_flush().await.unwrap();
    work(&provider, 3);
    let r = batch.flush().await;
    assert!(
        matches!(r, Err(TraceError::Dropped { dropped: 5, .. })),
        "{r:?}"
    );
    let s = batch.stats();
    assert_eq!(s.exporters[1].dropped_export_failed, 17, "{s:?}");
    assert!(s.balanced(), "{s:?}");
}

#[test]
fn the_blocking_flush_and_shutdown_tell_the_same() {
    let (provider, batch, _good, _failing) = setup(Behaviour::FailPermanent);
    work(&provider, 4);
    let r = provider.force_flush_blocking(Duration::from_secs(10));
    assert!(
        matches!(r, Err(TraceError::Dropped { dropped: 6, .. })),
        "{r:?}"
    );
    work(&provider, 1);
    let r = provider.shutdown_blocking(Duration::from_secs(10));
    assert!(
        matches!(r, Err(TraceError::Dropped { dropped: 3, .. })),
        "{r:?}"
    );
    assert!(batch.stats().balanced());
}

#[tokio::test]
async fn a_healthy_pipeline_flushes_ok() {
    let (provider, _batch, good, failing) = setup(Behaviour::Accept);
    work(&provider, 10);
    provider.force_flush().await.unwrap();
    assert_eq!(good.items().len(), 12);
    assert_eq!(failing.items().len(), 12);
}

#[tokio::test]
async fn shut_down_is_the_same_error_from_the_provider_and_the_processor() {
    let (provider, batch, _good, _failing) = setup(Behaviour::Accept);
    provider.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_eq!(provider.force_flush().await, Err(TraceError::ShutDown));
    assert_eq!(batch.flush().await, Err(TraceError::ShutDown));
    assert_eq!(
        provider.force_flush_blocking(Duration::from_secs(1)),
        Err(TraceError::ShutDown)
    );
    assert_eq!(
        batch.force_flush_blocking(Duration::from_secs(1)),
        Err(TraceError::ShutDown)
    );
}

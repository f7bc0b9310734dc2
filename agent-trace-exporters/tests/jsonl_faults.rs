//! The JSONL exporter reports write failures instead of counting lost lines as exported: a full
//! disk (the file is a symlink to `/dev/full`), and the file or its directory deleted while it
//! is open. Through a `BatchProcessor`, a flush then says what was dropped.
#![cfg(all(feature = "jsonl", target_os = "linux"))]

use std::time::Duration;

use agent_trace::{
    custom_span, BatchProcessor, ExportError, ExportItem, RetryPolicy, SpanData, SpanRecord,
    TraceError, TraceId, TracerProvider, TracingExporter,
};
use agent_trace_exporters::jsonl::read_items;
use agent_trace_exporters::JsonlExporter;

fn item(name: &'static str) -> ExportItem {
    let mut s = SpanRecord::new(TraceId::random(), None, SpanData::custom(name));
    // Rounded to the microsecond the JSON form keeps.
    let n = agent_trace::Timestamp::now().unix_nanos();
    s.started_at = agent_trace::Timestamp::from_unix_nanos(n - n % 1_000);
    s.ended_at = Some(s.started_at);
    ExportItem::Span(s)
}

fn pipeline(exporter: JsonlExporter) -> (TracerProvider, BatchProcessor) {
    let batch = BatchProcessor::builder()
        .with_exporter(exporter)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_elapsed(Duration::from_millis(50)),
        )
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    (provider, batch)
}

fn spans(provider: &TracerProvider, n: usize) {
    provider.trace("wf").in_scope(|| {
        for _ in 0..n {
            custom_span("s").end();
        }
    });
}

#[tokio::test]
async fn a_full_disk_is_an_export_error_and_the_flush_says_what_was_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    let exporter = JsonlExporter::new(&path).unwrap();
    match exporter.export(&[item("a")]).await {
        Err(e @ ExportError::Transient { .. }) => {
            let text = e.to_string();
            assert!(text.contains("No space left on device"), "{text}");
            assert!(text.contains("traces.jsonl"), "{text}");
        }
        other => panic!("a write to a full disk is an error: {other:?}"),
    }

    let (provider, batch) = pipeline(JsonlExporter::new(&path).unwrap());
    spans(&provider, 10);
    match provider.force_flush().await {
        Err(TraceError::Dropped { dropped, message }) => {
            assert_eq!(dropped, 12);
            assert!(message.contains("exporter jsonl"), "{message}");
            assert!(message.contains("No space left on device"), "{message}");
        }
        other => panic!("a flush whose items all hit a full disk is not Ok: {other:?}"),
    }
    let s = batch.stats();
    assert_eq!(s.exporters[0].exported, 0, "{s:?}");
    assert_eq!(s.exporters[0].dropped_export_failed, 12, "{s:?}");
    assert!(s.balanced(), "{s:?}");
}

#[tokio::test]
async fn a_directory_deleted_between_batches_is_recreated_for_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("traces");
    let path = sub.join("traces.jsonl");
    let (provider, batch) = pipeline(JsonlExporter::new(&path).unwrap());
    spans(&provider, 5);
    provider.force_flush().await.unwrap();
    std::fs::remove_dir_all(&sub).unwrap();
    spans(&provider, 4);
    provider.force_flush().await.unwrap();
    // The second trace reached a file a reader finds: its 4 spans and its end.
    let (items, _) = read_items(&path).unwrap();
    assert_eq!(items.len(), 5, "{items:?}");
    let s = batch.stats();
    assert_eq!(s.exporters[0].exported, 13, "{s:?}");
    assert!(s.balanced(), "{s:?}");
}

#[tokio::test]
async fn a_file_deleted_before_its_fsync_fails_the_flush_and_the_next_write_recreates_it() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("traces");
    let path = sub.join("traces.jsonl");
    let e = JsonlExporter::new(&path).unwrap();
    e.export(&[item("lost")]).await.unwrap();
    std::fs::remove_dir_all(&sub).unwrap();
    let r = e.force_flush().await;
    match r {
        Err(err) => assert!(err.to_string().contains("was deleted"), "{err}"),
        Ok(()) => panic!("lines written to a deleted file are not flushed"),
    }
    let kept = item("kept");
    e.export(std::slice::from_ref(&kept)).await.unwrap();
    e.force_flush().await.unwrap();
    assert_eq!(read_items(&path).unwrap().0, [kept]);
}

#[tokio::test]
async fn a_file_replaced_by_another_is_not_written_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    let e = JsonlExporter::new(&path).unwrap();
    e.export(&[item("first")]).await.unwrap();
    // Someone moves the file away (a log shipper, a manual rotation).
    std::fs::rename(&path, dir.path().join("moved.jsonl")).unwrap();
    let second = item("second");
    e.export(std::slice::from_ref(&second)).await.unwrap();
    e.force_flush().await.unwrap();
    assert_eq!(read_items(&path).unwrap().0, [second]);
    assert_eq!(
        read_items(dir.path().join("moved.jsonl")).unwrap().0.len(),
        1
    );
}

//! Crash safety and file permissions of the JSONL exporter.
#![cfg(feature = "jsonl")]

use agent_trace::{ExportItem, SpanData, SpanRecord, TraceId, TracingExporter};
use agent_trace_exporters::jsonl::read_items;
use agent_trace_exporters::JsonlExporter;

/// Now, rounded to the microsecond the JSON form keeps.
fn now_us() -> agent_trace::Timestamp {
    let n = agent_trace::Timestamp::now().unix_nanos();
    agent_trace::Timestamp::from_unix_nanos(n - n % 1_000)
}

fn item(name: &'static str) -> ExportItem {
    let mut s = SpanRecord::new(TraceId::random(), None, SpanData::custom(name));
    s.started_at = now_us();
    s.ended_at = Some(s.started_at);
    ExportItem::Span(s)
}

#[tokio::test]
async fn a_torn_last_line_is_truncated_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    let first = item("first");
    let whole = serde_json::to_string(&first).unwrap();
    // A crash cut the second line short.
    std::fs::write(&path, format!("{whole}\n{}", &whole[..whole.len() / 2])).unwrap();
    assert_eq!(
        read_items(&path).unwrap().1.bad_lines,
        1,
        "readers skip the torn line"
    );

    let e = JsonlExporter::new(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{whole}\n")
    );
    let second = item("second");
    e.export(std::slice::from_ref(&second)).await.unwrap();
    e.force_flush().await.unwrap();
    let (items, report) = read_items(&path).unwrap();
    assert_eq!(items, [first, second]);
    assert_eq!(report.bad_lines, 0);
    assert!(!report.torn_tail);
}

#[tokio::test]
async fn a_file_that_is_one_partial_line_becomes_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    std::fs::write(&path, "{\"object\": \"trace.sp").unwrap();
    let e = JsonlExporter::new(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    e.export(&[item("a")]).await.unwrap();
    assert_eq!(read_items(&path).unwrap().0.len(), 1);
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_0600_and_created_directories_0700() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a").join("b");
    let path = nested.join("traces.jsonl");
    let e = JsonlExporter::builder(&path).max_bytes(10).build().unwrap();
    e.export(&[item("one"), item("two")]).await.unwrap();
    e.shutdown().await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&nested), 0o700);
    let files: Vec<_> = std::fs::read_dir(&nested)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "active file and one archive: {files:?}");
    for f in files {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

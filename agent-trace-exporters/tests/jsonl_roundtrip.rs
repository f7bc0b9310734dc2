//! Writing with the JSONL exporter and reading back with `read_items`.
#![cfg(feature = "jsonl")]

use std::path::PathBuf;

use agent_trace::{ExportItem, SpanData, SpanRecord, TraceId, TraceRecord, TracingExporter, Usage};
use agent_trace_exporters::jsonl::{read_items, JsonlError};
use agent_trace_exporters::JsonlExporter;

/// Now, rounded to the microsecond the JSON form keeps.
fn now_us() -> agent_trace::Timestamp {
    let n = agent_trace::Timestamp::now().unix_nanos();
    agent_trace::Timestamp::from_unix_nanos(n - n % 1_000)
}

fn fixture() -> PathBuf {
    // The one copy in the repository, next to the core's JSON-shape test.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../agent-trace/tests/fixtures/openai-agents-export-sample.jsonl");
    assert!(
        path.is_file(),
        "the fixture {} is missing from the checkout (this test must not be skipped)",
        path.display()
    );
    path
}

fn sample_items() -> Vec<ExportItem> {
    let id = TraceId::random();
    let mut generation = SpanRecord::new(
        id,
        None,
        SpanData::Generation(Box::new({
            let mut d = agent_trace::span_data::GenerationSpanData::default();
            d.model = Some("gpt-4o-mini".into());
            d.usage = Some(Usage::tokens(12, 5));
            d.input = Some(serde_json::json!([{"role": "user", "content": "line one\nline two"}]));
            d
        })),
    );
    generation.started_at = now_us();
    generation.ended_at = Some(now_us());
    let mut child = SpanRecord::new(id, Some(generation.id), SpanData::custom("step"));
    child.started_at = now_us();
    child.ended_at = Some(now_us());
    vec![
        ExportItem::Span(child),
        ExportItem::Span(generation),
        ExportItem::Trace({
            let mut t = TraceRecord::new("wf");
            t.id = id;
            t.group_id = Some("g".into());
            t.started_at = Some(now_us());
            t.ended_at = Some(now_us());
            t
        }),
    ]
}

#[test]
fn reads_the_openai_agents_fixture() {
    let (items, report) = read_items(fixture()).unwrap();
    assert_eq!(report.bad_lines, 0, "{report:?}");
    assert!(!report.torn_tail);
    assert_eq!(items.len(), report.lines);
    assert!(items.len() >= 10, "{}", items.len());
    assert!(matches!(items[0], ExportItem::Trace(_)));
    assert!(items
        .iter()
        .any(|i| matches!(i, ExportItem::Span(s) if s.error.is_some())));
}

#[tokio::test]
async fn round_trip_of_written_items_and_of_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    let e = JsonlExporter::new(&path).unwrap();
    let mut items = sample_items();
    e.export(&items).await.unwrap();
    let (fixture_items, _) = read_items(fixture()).unwrap();
    e.export(&fixture_items).await.unwrap();
    e.force_flush().await.unwrap();
    items.extend(fixture_items);

    let (back, report) = read_items(&path).unwrap();
    assert_eq!(back, items);
    assert_eq!(report.bad_lines, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), items.len(), "one line per item");
    assert!(text.ends_with('\n'));
}

#[tokio::test]
async fn lines_are_visible_after_each_export_and_reopening_appends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    let items = sample_items();
    {
        let e = JsonlExporter::new(&path).unwrap();
        e.export(&items[..1]).await.unwrap();
        // Flushed at the end of the export call, without force_flush.
        assert_eq!(read_items(&path).unwrap().0.len(), 1);
        e.shutdown().await.unwrap();
        let err = e.export(&items).await.unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        assert!(err.to_string().contains("shut down"), "{err}");
        e.shutdown().await.unwrap();
    }
    let e = JsonlExporter::new(&path).unwrap();
    e.export(&items[1..]).await.unwrap();
    assert_eq!(read_items(&path).unwrap().0, items);
}

#[test]
fn read_items_skips_bad_lines_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let good = serde_json::to_string(&sample_items()[2]).unwrap();
    std::fs::write(
        &path,
        format!("{good}\nnot json\n\n{{\"object\": \"nope\"}}\n{good}\n{{\"obj"),
    )
    .unwrap();
    let (items, report) = read_items(&path).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(report.lines, 5);
    assert_eq!(report.bad_lines, 3);
    assert_eq!(report.first_bad_line, Some(2));
    assert!(report.torn_tail);
}

#[test]
fn errors_name_the_path_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jsonl");
    let err = read_items(&missing).unwrap_err();
    assert!(matches!(err, JsonlError::Read { .. }));
    assert!(err.to_string().contains("missing.jsonl"), "{err}");

    let err = JsonlExporter::builder(dir.path().join("t.jsonl"))
        .max_bytes(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("max_bytes"), "{err}");

    // A regular file where the directory should be.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let err = JsonlExporter::new(blocker.join("t.jsonl")).unwrap_err();
    assert!(matches!(err, JsonlError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("blocker"), "{err}");
}

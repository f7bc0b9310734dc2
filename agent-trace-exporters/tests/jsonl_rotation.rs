//! Rotation of JSONL files by size and by UTC day, with retention.
#![cfg(feature = "jsonl")]

use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use agent_trace::{ExportItem, SpanData, SpanRecord, TraceId, TracingExporter};
use agent_trace_exporters::jsonl::read_items;
use agent_trace_exporters::JsonlExporter;
use time::{Date, Month};

/// Now, rounded to the microsecond the JSON form keeps.
fn now_us() -> agent_trace::Timestamp {
    let n = agent_trace::Timestamp::now().unix_nanos();
    agent_trace::Timestamp::from_unix_nanos(n - n % 1_000)
}

fn item(n: usize) -> ExportItem {
    let mut s = SpanRecord::new(
        TraceId::random(),
        None,
        SpanData::custom(format!("step-{n:03}")),
    );
    s.started_at = now_us();
    s.ended_at = Some(s.started_at);
    ExportItem::Span(s)
}

fn name_of(item: &ExportItem) -> String {
    match item {
        ExportItem::Span(s) => s.data.name().unwrap().to_owned(),
        ExportItem::Trace(t) => t.workflow_name.to_string(),
    }
}

/// File names in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn names_in(path: &Path) -> Vec<String> {
    let (items, report) = read_items(path).unwrap();
    assert_eq!(report.bad_lines, 0);
    items.iter().map(name_of).collect()
}

fn fixed_day(day: Date) -> impl Fn() -> Date + Send + Sync + 'static {
    move || day
}

#[tokio::test]
async fn size_rotation_keeps_the_newest_archives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    let line_len = serde_json::to_string(&item(0)).unwrap().len() as u64 + 1;
    let day = Date::from_calendar_date(2026, Month::November, 25).unwrap();
    let e = JsonlExporter::builder(&path)
        .max_bytes(2 * line_len + 10) // two lines per file
        .retention(2)
        .clock_for_tests(fixed_day(day))
        .build()
        .unwrap();
    let items: Vec<_> = (0..9).map(item).collect();
    e.export(&items[..4]).await.unwrap();
    e.export(&items[4..]).await.unwrap();
    e.force_flush().await.unwrap();

    // 9 lines, 2 per file: archives 1..=4 were made, the 2 oldest deleted.
    assert_eq!(
        files(dir.path()),
        [
            "traces.2026-11-25.3.jsonl",
            "traces.2026-11-25.4.jsonl",
            "traces.jsonl"
        ]
    );
    assert_eq!(
        names_in(&dir.path().join("traces.2026-11-25.3.jsonl")),
        ["step-004", "step-005"]
    );
    assert_eq!(
        names_in(&dir.path().join("traces.2026-11-25.4.jsonl")),
        ["step-006", "step-007"]
    );
    assert_eq!(names_in(&path), ["step-008"]);
    for f in files(dir.path()) {
        let len = std::fs::metadata(dir.path().join(&f)).unwrap().len();
        assert!(len <= 2 * line_len + 10, "{f} has {len} bytes");
    }
}

#[tokio::test]
async fn a_line_longer_than_max_bytes_gets_a_file_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let e = JsonlExporter::builder(&path).max_bytes(10).build().unwrap();
    e.export(&[item(1), item(2)]).await.unwrap();
    let all = files(dir.path());
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(names_in(&path), ["step-002"]);
}

#[tokio::test]
async fn daily_rotation_starts_a_new_file_when_the_utc_day_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    let start = Date::from_calendar_date(2026, Month::December, 31).unwrap();
    let julian = Arc::new(AtomicI32::new(start.to_julian_day()));
    let clock = julian.clone();
    let e = JsonlExporter::builder(&path)
        .rotate_daily(true)
        .clock_for_tests(move || Date::from_julian_day(clock.load(Ordering::SeqCst)).unwrap())
        .build()
        .unwrap();

    e.export(&[item(1), item(2)]).await.unwrap();
    assert_eq!(files(dir.path()), ["traces.jsonl"]);

    julian.fetch_add(1, Ordering::SeqCst); // 2027-01-01
    e.export(&[item(3)]).await.unwrap();
    e.export(&[item(4)]).await.unwrap();
    assert_eq!(
        files(dir.path()),
        ["traces.2026-12-31.1.jsonl", "traces.jsonl"]
    );
    assert_eq!(
        names_in(&dir.path().join("traces.2026-12-31.1.jsonl")),
        ["step-001", "step-002"]
    );

    julian.fetch_add(2, Ordering::SeqCst); // 2027-01-03
    e.export(&[item(5)]).await.unwrap();
    e.shutdown().await.unwrap();
    assert_eq!(
        files(dir.path()),
        [
            "traces.2026-12-31.1.jsonl",
            "traces.2027-01-01.1.jsonl",
            "traces.jsonl"
        ]
    );
    assert_eq!(
        names_in(&dir.path().join("traces.2027-01-01.1.jsonl")),
        ["step-003", "step-004"]
    );
    assert_eq!(names_in(&path), ["step-005"]);
}

#[tokio::test]
async fn an_empty_file_takes_the_day_of_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    let start = Date::from_calendar_date(2026, Month::March, 1).unwrap();
    let julian = Arc::new(AtomicI32::new(start.to_julian_day()));
    let clock = julian.clone();
    let e = JsonlExporter::builder(&path)
        .rotate_daily(true)
        .clock_for_tests(move || Date::from_julian_day(clock.load(Ordering::SeqCst)).unwrap())
        .build()
        .unwrap();
    julian.fetch_add(1, Ordering::SeqCst);
    e.export(&[item(1)]).await.unwrap();
    e.export(&[item(2)]).await.unwrap();
    assert_eq!(
        files(dir.path()),
        ["traces.jsonl"],
        "no rotation within the first written day"
    );
    julian.fetch_add(1, Ordering::SeqCst);
    e.export(&[item(3)]).await.unwrap();
    assert_eq!(
        files(dir.path()),
        ["traces.2026-03-02.1.jsonl", "traces.jsonl"]
    );
}

#[tokio::test]
async fn a_file_left_from_an_earlier_day_is_rotated_on_first_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traces.jsonl");
    {
        let e = JsonlExporter::new(&path).unwrap();
        e.export(&[item(1)]).await.unwrap();
    }
    // The file was last modified today (real clock); pretend it is a week later.
    let later = time::OffsetDateTime::now_utc().date() + time::Duration::days(7);
    let e = JsonlExporter::builder(&path)
        .rotate_daily(true)
        .retention(5)
        .clock_for_tests(fixed_day(later))
        .build()
        .unwrap();
    e.export(&[item(2)]).await.unwrap();
    let all = files(dir.path());
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(names_in(&path), ["step-002"]);
}

#[tokio::test]
async fn a_vanished_directory_is_recreated_before_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    let path = sub.join("t.jsonl");
    let e = JsonlExporter::builder(&path).max_bytes(10).build().unwrap();
    e.export(&[item(1)]).await.unwrap();
    std::fs::remove_dir_all(&sub).unwrap();
    // The exporter sees its file is gone before writing: it reopens the file, recreating the
    // directory (nothing is written to the deleted file, no rotation of it is attempted).
    e.export(&[item(2)]).await.unwrap();
    assert_eq!(names_in(&path), ["step-002"]);
}

//! Colour rules of the console exporter: forced on, forced off, and automatic (which never
//! colours a writer that is not a terminal). `NO_COLOR` has its own test binary,
//! `console_no_color.rs`, because it changes the process environment.
#![cfg(feature = "console")]

mod common;

use agent_trace::{
    ExportItem, SpanData, SpanError, SpanRecord, TraceId, TraceRecord, TracingExporter,
};
use agent_trace_exporters::console::{ColorChoice, ConsoleExporter};
use common::SharedBuf;

fn batch() -> Vec<ExportItem> {
    let id = TraceId::random();
    let mut failed = SpanRecord::new(id, None, SpanData::custom("step"));
    failed.ended_at = Some(agent_trace::Timestamp::now());
    failed.error = Some(Box::new(SpanError::new("cancelled")));
    vec![
        ExportItem::Span(failed),
        ExportItem::Trace({
            let mut t = TraceRecord::new("wf");
            t.id = id;
            t.ended_at = Some(agent_trace::Timestamp::now());
            t
        }),
    ]
}

async fn render(choice: ColorChoice) -> String {
    let buf = SharedBuf::default();
    let e = ConsoleExporter::builder()
        .to_writer(buf.clone())
        .color(choice)
        .build();
    e.export(&batch()).await.unwrap();
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn forced_on_colours_errors_names_and_durations() {
    let out = render(ColorChoice::Always).await;
    assert!(out.contains("\x1b[31m✗ cancelled\x1b[0m"), "{out:?}");
    assert!(out.contains("\x1b[1mstep\x1b[0m"), "{out:?}");
    assert!(out.contains("\x1b[2m"), "{out:?}");
}

#[tokio::test]
async fn forced_off_and_auto_on_a_writer_have_no_escape_codes() {
    for choice in [ColorChoice::Never, ColorChoice::Auto] {
        let out = render(choice).await;
        assert!(out.contains("✗ cancelled"), "{out:?}");
        assert!(!out.contains('\x1b'), "{choice:?}: {out:?}");
    }
}

#[tokio::test]
async fn escape_codes_in_names_are_neutralised() {
    let id = TraceId::random();
    let mut s = SpanRecord::new(id, None, SpanData::custom("evil\x1b[2Jname\nsecond line"));
    s.ended_at = Some(s.started_at);
    let buf = SharedBuf::default();
    let e = ConsoleExporter::builder()
        .to_writer(buf.clone())
        .color(false)
        .build();
    e.export(&[ExportItem::Span(s)]).await.unwrap();
    e.force_flush().await.unwrap();
    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(!out.contains('\x1b'), "{out:?}");
    assert_eq!(out.lines().count(), 2, "{out:?}");
}

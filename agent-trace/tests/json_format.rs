//! Our JSON is the OpenAI Agents SDK export shape: the fixture reads and writes back unchanged.

use agent_trace::{
    ExportItem, SpanData, SpanError, SpanId, SpanRecord, Timestamp, TraceId, TraceRecord, Usage,
};
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/openai-agents-export-sample.jsonl"
);

fn fixture_lines() -> Vec<String> {
    let text = std::fs::read_to_string(FIXTURE)
        .unwrap_or_else(|e| panic!("cannot read {FIXTURE}: {e} (it is part of the repository)"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn fixture_round_trips_exactly() {
    let lines = fixture_lines();
    assert_eq!(lines.len(), 13);
    for line in lines {
        let item: ExportItem =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let back = serde_json::to_value(&item).unwrap();
        let original: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, original, "line changed in a round trip");
    }
}

#[test]
fn fixture_has_every_shape_we_expect() {
    let items: Vec<ExportItem> = fixture_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ExportItem::Trace(t) = &items[0] else {
        panic!("first line is the trace")
    };
    assert_eq!(t.workflow_name, "peers_check_workflow");
    assert_eq!(t.group_id.as_deref(), Some("thread_123"));
    let kinds: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            ExportItem::Span(s) => Some(s.data.kind().as_str()),
            _ => None,
        })
        .collect();
    for k in [
        "guardrail",
        "generation",
        "response",
        "mcp_tools",
        "function",
        "custom",
        "handoff",
        "agent",
    ] {
        assert!(kinds.contains(&k), "{k} missing");
    }
    let gen = items
        .iter()
        .find_map(|i| match i {
            ExportItem::Span(s) => s.data.usage().cloned(),
            _ => None,
        })
        .unwrap();
    assert_eq!((gen.input_tokens, gen.output_tokens), (12, 5));
    let failed = items
        .iter()
        .find_map(|i| match i {
            ExportItem::Span(s) if s.error.is_some() => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(failed.error.unwrap().message, "Error running tool");
}

#[test]
fn our_records_round_trip_and_render_like_the_sdk() {
    let trace_id = TraceId::from_u128(0x1ae9c80f9e5e4bef82dfc44dfba1c6ff).unwrap();
    let mut span = SpanRecord::new(trace_id, SpanId::from_u64(7), SpanData::custom("x"));
    span.id = SpanId::from_u64(0xabc).unwrap();
    span.started_at = Timestamp::parse("2026-11-25T11:44:14.259263+00:00").unwrap();
    span.ended_at = Some(Timestamp::parse("2026-11-25T11:44:14.300000+00:00").unwrap());
    span.record_usage(Usage::tokens(1, 2)); // ignored on custom except as data.usage
    span.set_error(SpanError::new("boom"));
    let item = ExportItem::Span(span);
    let json = serde_json::to_string(&item).unwrap();
    assert!(json.starts_with(r#"{"object":"trace.span","id":"span_0000000000000abc","trace_id":"trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff","parent_id":"span_0000000000000007","started_at":"2026-11-25T11:44:14.259263+00:00""#), "{json}");
    let back: ExportItem = serde_json::from_str(&json).unwrap();
    assert_eq!(back, item);

    let trace = ExportItem::Trace(TraceRecord {
        id: trace_id,
        workflow_name: "wf".into(),
        group_id: None,
        metadata: None,
        started_at: None,
        ended_at: None,
    });
    assert_eq!(
        serde_json::to_string(&trace).unwrap(),
        r#"{"object":"trace","id":"trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff","workflow_name":"wf","group_id":null,"metadata":null}"#
    );
}

#[test]
fn bad_lines_are_typed_errors_not_panics() {
    for bad in [
        r#"{"object":"trace.span"}"#,
        r#"{"object":"nope"}"#,
        r#"{"object":"trace","id":"trace_zz","workflow_name":"w"}"#,
        r#"{"object":"trace.span","id":"span_1","trace_id":"trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff","parent_id":null,"started_at":"yesterday","ended_at":null,"span_data":{"type":"custom","name":"x"},"error":null}"#,
    ] {
        assert!(serde_json::from_str::<ExportItem>(bad).is_err(), "{bad}");
    }
}

//! Our JSON is the OpenAI Agents SDK export shape: the fixture reads and writes back unchanged,
//! and what `#[traced]` records has the shape the SDK wrote in the fixture.

use agent_trace::testing::CollectingProcessor;
use agent_trace::Record;
use agent_trace::{
    traced, ExportItem, SpanData, SpanError, SpanId, SpanRecord, Timestamp, TraceId, TraceRecord,
    TracerProvider, Usage,
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

    let trace = ExportItem::Trace({
        let mut t = TraceRecord::new("wf");
        t.id = trace_id;
        t
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

// ---------------------------------------------------------------------------------------------
// What `#[traced]` records, side by side with what the SDK wrote in the fixture.

/// The fixture's span lines as JSON values.
fn fixture_spans() -> Vec<Value> {
    fixture_lines()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["object"] == "trace.span")
        .collect()
}

/// Spans recorded by running `body` in a fresh trace, as the JSON lines an exporter writes.
fn recorded<F: std::future::Future>(body: F) -> Vec<Value> {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(spans.clone())
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(provider.trace("wf").run(body));
    spans
        .spans()
        .into_iter()
        .map(|s| serde_json::to_value(ExportItem::Span(s)).unwrap())
        .collect()
}

/// The keys of a JSON object, sorted (key order in the text is not compared here).
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

#[traced]
async fn transfer(to_account: u64, amount: u64, currency: &str) -> Result<String, String> {
    if amount == 0 {
        return Err(format!("nothing to send to {to_account} in {currency}"));
    }
    Ok(format!("sent {amount} {currency}"))
}

#[test]
fn function_input_is_the_arguments_object_in_argument_order() {
    let sdk = fixture_spans()
        .into_iter()
        .find(|s| s["span_data"]["name"] == "lookup")
        .unwrap();
    // The SDK's function input: the arguments object as JSON text.
    let sdk_input: Value =
        serde_json::from_str(sdk["span_data"]["input"].as_str().unwrap()).unwrap();
    assert!(sdk_input.is_object());

    let ours = recorded(async {
        transfer(7, 5, "EUR").await.unwrap();
    });
    let input = ours[0]["span_data"]["input"]
        .as_str()
        .expect("input is text");
    // Argument order, not alphabetical (`amount` < `currency` < `to_account`).
    assert_eq!(input, r#"{"to_account":7,"amount":5,"currency":"EUR"}"#);
    assert_eq!(keys(&ours[0]["span_data"]), keys(&sdk["span_data"]));
}

#[test]
fn a_failed_function_records_no_output_like_the_sdk() {
    let sdk = fixture_spans()
        .into_iter()
        .find(|s| s["span_data"]["type"] == "function" && !s["error"].is_null())
        .unwrap();
    assert_eq!(sdk["span_data"]["output"], Value::Null);

    let ours = recorded(async {
        transfer(7, 0, "EUR").await.unwrap_err();
    });
    let span = &ours[0];
    assert_eq!(span["error"]["message"], "nothing to send to 7 in EUR");
    // JSON null, as in the fixture; before, the text "null".
    assert_eq!(span["span_data"]["output"], Value::Null, "{span}");
    assert_eq!(keys(&span["span_data"]), keys(&sdk["span_data"]));
}

#[traced(kind = "generation", model = "gpt-4o-mini", input, output)]
async fn complete(prompt: &str) -> String {
    format!("re: {prompt}")
}

#[test]
fn generation_text_is_recorded_as_the_sdks_message_list() {
    let sdk = fixture_spans()
        .into_iter()
        .find(|s| s["span_data"]["type"] == "generation")
        .unwrap();
    let ours = recorded(async {
        complete("What is my balance?").await;
    });
    let (sdk, ours) = (&sdk["span_data"], &ours[0]["span_data"]);
    for field in ["input", "output"] {
        let (theirs, mine) = (sdk[field].as_array().unwrap(), ours[field].as_array());
        let mine = mine.unwrap_or_else(|| panic!("{field} is not a message list: {ours}"));
        assert_eq!(mine.len(), 1);
        assert_eq!(keys(&mine[0]), keys(&theirs[0]), "{field}");
        assert_eq!(mine[0]["role"], theirs[0]["role"], "{field}");
    }
    assert_eq!(ours["input"][0]["content"], sdk["input"][0]["content"]);
    assert_eq!(ours["output"][0]["content"], "re: What is my balance?");
    assert_eq!(ours["model"], sdk["model"]);
}

#[test]
fn span_lines_have_the_sdks_keys_and_trace_lines_add_two() {
    let sdk_span = &fixture_spans()[0];
    let ours = recorded(async {
        transfer(1, 1, "EUR").await.unwrap();
    });
    assert_eq!(keys(&ours[0]), keys(sdk_span));

    let sdk_trace: Value = serde_json::from_str(&fixture_lines()[0]).unwrap();
    let trace = {
        let mut t = TraceRecord::new("wf");
        t.id = TraceId::random();
        t.started_at = Some(Timestamp::now());
        t.ended_at = Some(Timestamp::now());
        t
    };
    let ours = serde_json::to_value(ExportItem::Trace(trace)).unwrap();
    let mut expected = keys(&sdk_trace);
    expected.extend(["ended_at", "started_at"]);
    expected.sort_unstable();
    assert_eq!(keys(&ours), expected);
}

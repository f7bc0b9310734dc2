//! The written body is byte for byte prost's encoding of `build_request`.

use agent_trace::span_data::{
    AgentSpanData, CustomSpanData, FunctionSpanData, GenerationSpanData, GuardrailSpanData,
    HandoffSpanData, McpListToolsSpanData, ResponseSpanData, SpeechGroupSpanData, SpeechSpanData,
    TranscriptionSpanData,
};
use agent_trace::{
    ExportItem, SpanData, SpanError, SpanId, SpanLink, SpanRecord, Timestamp, TraceId, TraceRecord,
    Usage,
};
use prost::Message;
use serde_json::{json, Map, Value};

use super::encode_request;
use crate::otlp::attrs::kv_str;
use crate::otlp::mapping::{build_request, MappingConfig, TraceGroups};

fn config(sensitive: bool, provider: Option<&str>, resource: usize) -> MappingConfig {
    MappingConfig {
        provider_name: provider.map(str::to_owned),
        include_sensitive_data: sensitive,
        resource: (0..resource)
            .map(|i| kv_str(&format!("r{i}"), "x".repeat(i * 7)))
            .collect(),
    }
}

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn trace(n: u128) -> TraceId {
    TraceId::from_u128(n).unwrap()
}

fn span(t: u128, parent: Option<u64>, data: SpanData) -> SpanRecord {
    let mut s = SpanRecord::new(trace(t), parent.and_then(SpanId::from_u64), data);
    s.started_at = Timestamp::from_unix_nanos(1_764_071_054_259_263_000);
    s.ended_at = Some(Timestamp::from_unix_nanos(1_764_071_054_259_963_000));
    s
}

/// Every span kind, with and without its optional parts.
fn varied() -> Vec<ExportItem> {
    let mut items = Vec::new();
    let mut start = TraceRecord::new("support ✓");
    start.id = trace(1);
    start.group_id = Some("thread-1".into());
    start.metadata = Some(map(
        json!({"user": "u1", "n": 3, "tags": ["a", 1], "o": {"x": null}}),
    ));
    start.started_at = Some(Timestamp::from_unix_nanos(1_764_071_054_000_000_000));
    items.push(ExportItem::Trace(start.clone()));
    let mut push = |s: SpanRecord| items.push(ExportItem::Span(s));

    let mut agent = AgentSpanData::default();
    agent.name = "triage".into();
    agent.tools = Some(vec!["lookup".into(), "".into(), "refund é".into()].into());
    agent.handoffs = Some(vec![].into());
    agent.output_type = Some("Answer".into());
    push(span(1, None, SpanData::Agent(Box::new(agent))));
    push(span(1, Some(7), SpanData::Agent(Box::default())));

    let mut f = FunctionSpanData::default();
    f.name = "lookup".into();
    f.input = Some(r#"{"order": 42, "note": "\"quoted\"\n"}"#.into());
    f.output = Some(String::new());
    f.mcp_data = Some(Box::new(json!({"server": "files", "ok": true})));
    push(span(1, Some(7), SpanData::Function(f)));

    let mut g = GenerationSpanData::default();
    g.model = Some("gpt-4o-mini".into());
    g.model_config = Some(map(json!({
        "temperature": 0.2, "top_k": 40, "seed": u64::MAX, "max_output_tokens": 512,
        "frequency_penalty": -0.5, "stop": ["\n", "END"], "top_p": null
    })));
    let mut usage = Usage::tokens(1_284, 0);
    usage.details.insert(
        "input_tokens_details".into(),
        json!({"cached_tokens": 1024}),
    );
    g.usage = Some(usage);
    g.input = Some(json!([{"role": "user", "content": "héllo \"world\"\t\u{1}"}]));
    g.output = Some(json!("ok"));
    push(span(1, Some(7), SpanData::Generation(Box::new(g))));
    push(span(1, Some(7), SpanData::Generation(Box::default())));

    let mut r = ResponseSpanData::default();
    r.response_id = Some("resp_1".into());
    r.usage = Some(Usage::tokens(u64::MAX, 5));
    push(span(1, Some(7), SpanData::Response(Box::new(r))));
    push(span(1, Some(7), SpanData::Response(Box::default())));

    for (from, to) in [
        (Some("a"), Some("b")),
        (None, Some("b")),
        (Some("a"), None),
        (None, None),
    ] {
        let mut h = HandoffSpanData::default();
        h.from_agent = from.map(Into::into);
        h.to_agent = to.map(Into::into);
        push(span(1, Some(7), SpanData::Handoff(h)));
    }

    let mut c = CustomSpanData::default();
    c.name = "retrieval".into();
    c.data = map(json!({
        "s": "x", "b": false, "i": -3, "f": 1.5, "null": null, "arr": [1, "a", true, 2.5],
        "mixed": [1, {"a": 1}], "empty": [], "obj": {"k": [1, 2]}, "": "empty key"
    }));
    push(span(1, Some(7), SpanData::Custom(c)));
    push(span(
        1,
        Some(7),
        SpanData::Custom(CustomSpanData::default()),
    ));

    for triggered in [true, false] {
        let mut g = GuardrailSpanData::default();
        g.name = "pii".into();
        g.triggered = triggered;
        push(span(1, Some(7), SpanData::Guardrail(g)));
    }

    let mut t = TranscriptionSpanData::default();
    t.model = Some("whisper-1".into());
    t.output = Some("hello".into());
    t.input = Some(json!({"data": "AAAA"}));
    push(span(1, Some(7), SpanData::Transcription(Box::new(t))));
    push(span(1, Some(7), SpanData::Transcription(Box::default())));

    let mut sp = SpeechSpanData::default();
    sp.model = Some("tts-1".into());
    sp.input = Some("say this".into());
    sp.first_content_at = Some("2026-01-01T00:00:00Z".into());
    push(span(1, Some(7), SpanData::Speech(Box::new(sp))));
    let mut sg = SpeechGroupSpanData::default();
    sg.input = Some("group".into());
    push(span(1, Some(7), SpanData::SpeechGroup(Box::new(sg))));

    let mut m = McpListToolsSpanData::default();
    m.server = Some("files".into());
    m.result = Some(vec!["read".into(), "write".into()]);
    push(span(1, Some(7), SpanData::McpTools(Box::new(m))));
    push(span(1, Some(7), SpanData::McpTools(Box::default())));

    // An error, links (prost's path inside the written body), no end, a zero start, a trace
    // without group id.
    let mut e = span(1, Some(7), SpanData::custom("failing"));
    e.error = Some(Box::new(
        SpanError::new("boom").with_data(json!({"type": "Timeout", "after": 3})),
    ));
    push(e);
    let mut l = span(2, None, SpanData::custom("linked"));
    let mut link = SpanLink::new(trace(9), SpanId::from_u64(9).unwrap());
    link.attributes = map(json!({"why": "retry", "n": 2}));
    l.links.push(link);
    push(l);
    let mut open = span(2, None, SpanData::custom("open"));
    open.ended_at = None;
    push(open);
    let mut zero = span(3, Some(1), SpanData::custom("zero"));
    zero.started_at = Timestamp::from_unix_nanos(0);
    zero.ended_at = Some(Timestamp::from_unix_nanos(0));
    push(zero);

    let mut end = start;
    end.ended_at = Some(Timestamp::from_unix_nanos(1_764_071_055_000_000_000));
    items.push(ExportItem::Trace(end));
    items
}

fn assert_same(batch: &[ExportItem], config: &MappingConfig) {
    let expected = build_request(batch, config, &mut TraceGroups::default()).encode_to_vec();
    let mut written = Vec::new();
    encode_request(batch, config, &mut TraceGroups::default(), &mut written);
    if written != expected {
        let at = written
            .iter()
            .zip(&expected)
            .take_while(|(a, b)| a == b)
            .count();
        panic!(
            "differs at byte {at} of {} (prost: {}): {:?} vs {:?}",
            written.len(),
            expected.len(),
            &written[at.saturating_sub(8)..(at + 8).min(written.len())],
            &expected[at.saturating_sub(8)..(at + 8).min(expected.len())],
        );
    }
}

#[test]
fn every_span_kind_is_written_as_prost_encodes_it() {
    let batch = varied();
    for sensitive in [true, false] {
        for provider in [Some("openai"), None, Some("")] {
            for resource in [0, 3, 30] {
                assert_same(&batch, &config(sensitive, provider, resource));
            }
        }
    }
}

#[test]
fn lengths_of_every_size_keep_their_shortest_form() {
    let config = config(true, Some("openai"), 2);
    // Empty, tiny (outer lengths shorter than guessed) and spans whose lengths need 1 to 4
    // bytes (the span and the request longer than guessed).
    assert_same(&[], &config);
    for len in [0, 10, 100, 200, 20_000, 3 << 20] {
        let mut g = GenerationSpanData::default();
        g.input = Some(Value::String("x".repeat(len)));
        let batch = vec![ExportItem::Span(span(
            1,
            Some(7),
            SpanData::Generation(Box::new(g)),
        ))];
        assert_same(&batch, &config);
    }
}

//! The OTLP exporter against a real HTTP receiver on 127.0.0.1: every body is decoded with
//! `opentelemetry-proto` and checked.
#![cfg(feature = "otlp")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use agent_trace::span_data::{
    AgentSpanData, FunctionSpanData, GenerationSpanData, GuardrailSpanData, HandoffSpanData,
};
use agent_trace::{
    ExportItem, SpanData, SpanError, SpanId, SpanLink, SpanRecord, Timestamp, TraceId, TraceRecord,
    TracingExporter, Usage,
};
use agent_trace_exporters::otlp::{workflow_span_id, Protocol};
use agent_trace_exporters::OtlpExporter;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Av;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use common::loopback::{otlp_receiver, Seen};

fn ts(ms: u64) -> Timestamp {
    Timestamp::from_unix_nanos(1_700_000_000_000_000_000 + ms * 1_000_000)
}

fn span(trace: TraceId, id: u64, parent: Option<u64>, data: SpanData, at: u64) -> SpanRecord {
    let mut s = SpanRecord::new(trace, parent.map(|p| SpanId::from_u64(p).unwrap()), data);
    s.id = SpanId::from_u64(id).unwrap();
    s.started_at = ts(at);
    s.ended_at = Some(ts(at + 10));
    s
}

/// A support conversation: agent → guardrail, tool, generation, handoff, failing tool; trace last.
fn batch(trace: TraceId) -> Vec<ExportItem> {
    let agent = SpanData::Agent(Box::new({
        let mut d = AgentSpanData::default();
        d.name = "triage".into();
        d.tools = Some(vec!["lookup_invoice".into()].into());
        d.handoffs = Some(vec!["billing".into()].into());
        d.output_type = None;
        d
    }));
    let tool = SpanData::Function({
        let mut d = FunctionSpanData::default();
        d.name = "lookup_invoice".into();
        d.input = Some(r#"{"id":42}"#.into());
        d.output = Some("paid".into());
        d.mcp_data = None;
        d
    });
    let generation = SpanData::Generation(Box::new({
        let mut d = GenerationSpanData::default();
        d.model = Some("gpt-4o-mini".into());
        d.input = Some(serde_json::json!([{"role": "user", "content": "where is my refund?"}]));
        d.output = Some(serde_json::json!([{"role": "assistant", "content": "on its way"}]));
        d.usage = Some(Usage::tokens(12, 5));
        d.model_config = Some(serde_json::from_str(r#"{"temperature": 0.2}"#).unwrap());
        d
    }));
    let mut failing = span(trace, 6, Some(1), SpanData::custom("refund"), 60);
    failing.error = Some(Box::new(SpanError::from_error(&std::io::Error::other(
        "disk full",
    ))));
    let mut linked = span(trace, 7, None, SpanData::custom("followup"), 70);
    linked.links.push(SpanLink::new(
        TraceId::from_u128(99).unwrap(),
        SpanId::from_u64(98).unwrap(),
    ));
    vec![
        ExportItem::Span(span(trace, 1, None, agent, 0)),
        ExportItem::Span(span(
            trace,
            2,
            Some(1),
            SpanData::Guardrail({
                let mut d = GuardrailSpanData::default();
                d.name = "pii".into();
                d.triggered = false;
                d
            }),
            10,
        )),
        ExportItem::Span(span(trace, 3, Some(1), tool, 20)),
        ExportItem::Span(span(trace, 4, Some(1), generation, 30)),
        ExportItem::Span(span(
            trace,
            5,
            Some(1),
            SpanData::Handoff({
                let mut d = HandoffSpanData::default();
                d.from_agent = Some("triage".into());
                d.to_agent = Some("billing".into());
                d
            }),
            50,
        )),
        ExportItem::Span(failing),
        ExportItem::Span(linked),
        ExportItem::Trace({
            let mut t = TraceRecord::new("customer-support");
            t.id = trace;
            t.group_id = Some("thread-42".into());
            t.started_at = Some(ts(0));
            t.ended_at = Some(ts(100));
            t
        }),
    ]
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Av> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn str_attr<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attr(span, key)? {
        Av::StringValue(s) => Some(s),
        _ => None,
    }
}

fn spans_of(seen: &Seen) -> Vec<Span> {
    let req = ExportTraceServiceRequest::decode(&seen.body[..]).unwrap();
    req.resource_spans
        .into_iter()
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .collect()
}

#[tokio::test]
async fn protobuf_batch_maps_names_ids_parents_and_attributes() {
    let (r, base) = otlp_receiver().await;
    let exporter = OtlpExporter::builder().endpoint(&base).build().unwrap();
    let trace = TraceId::from_u128(0x0af7651916cd43dd8448eb211c80319c).unwrap();
    exporter.export(&batch(trace)).await.unwrap();

    let seen = r.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.headers["content-type"], "application/x-protobuf");
    let req = ExportTraceServiceRequest::decode(&seen.body[..]).unwrap();
    let resource = req.resource_spans[0].resource.as_ref().unwrap();
    let res: HashMap<_, _> = resource
        .attributes
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.clone().unwrap().value.unwrap()))
        .collect();
    assert_eq!(res["service.name"], Av::StringValue("agent-trace".into()));
    assert_eq!(
        res["telemetry.sdk.name"],
        Av::StringValue("agent-trace".into())
    );
    assert_eq!(
        res["telemetry.sdk.language"],
        Av::StringValue("rust".into())
    );
    assert_eq!(
        req.resource_spans[0].scope_spans[0]
            .scope
            .as_ref()
            .unwrap()
            .name,
        "agent-trace"
    );

    let spans = spans_of(&seen);
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "invoke_agent triage",
            "guardrail pii",
            "execute_tool lookup_invoice",
            "chat gpt-4o-mini",
            "handoff triage -> billing",
            "refund",
            "followup",
            "invoke_workflow customer-support",
        ]
    );
    let root = workflow_span_id(trace).to_bytes().to_vec();
    for s in &spans {
        assert_eq!(s.trace_id, trace.to_bytes().to_vec());
        assert!(s.end_time_unix_nano >= s.start_time_unix_nano);
    }
    let workflow = &spans[7];
    assert_eq!(workflow.span_id, root);
    assert!(workflow.parent_span_id.is_empty());
    assert_eq!(workflow.start_time_unix_nano, ts(0).unix_nanos());
    assert_eq!(workflow.end_time_unix_nano, ts(100).unix_nanos());
    assert_eq!(
        str_attr(workflow, "gen_ai.operation.name"),
        Some("invoke_workflow")
    );
    // Parentless spans hang under the workflow span; the others keep their parents.
    assert_eq!(
        spans[0].span_id,
        SpanId::from_u64(1).unwrap().to_bytes().to_vec()
    );
    assert_eq!(spans[0].parent_span_id, root);
    assert_eq!(spans[6].parent_span_id, root);
    for s in &spans[1..6] {
        assert_eq!(
            s.parent_span_id,
            SpanId::from_u64(1).unwrap().to_bytes().to_vec()
        );
    }
    // The trace item came in the same batch: every span knows the conversation.
    for s in &spans {
        assert_eq!(
            str_attr(s, "gen_ai.conversation.id"),
            Some("thread-42"),
            "{}",
            s.name
        );
    }

    let agent = &spans[0];
    assert_eq!(
        str_attr(agent, "gen_ai.operation.name"),
        Some("invoke_agent")
    );
    assert_eq!(str_attr(agent, "gen_ai.agent.name"), Some("triage"));
    assert_eq!(str_attr(agent, "gen_ai.provider.name"), Some("openai"));
    assert!(
        matches!(attr(agent, "agent_trace.agent.tools"), Some(Av::ArrayValue(a)) if a.values.len() == 1)
    );
    assert_eq!(agent.kind, 1, "INTERNAL");

    let tool = &spans[2];
    assert_eq!(str_attr(tool, "gen_ai.tool.name"), Some("lookup_invoice"));
    assert_eq!(str_attr(tool, "agent_trace.span_kind"), Some("function"));
    assert!(
        attr(tool, "gen_ai.tool.call.arguments").is_none(),
        "sensitive data is off by default"
    );
    assert!(attr(tool, "gen_ai.tool.call.result").is_none());

    let chat = &spans[3];
    assert_eq!(chat.kind, 3, "CLIENT");
    assert_eq!(str_attr(chat, "gen_ai.operation.name"), Some("chat"));
    assert_eq!(str_attr(chat, "gen_ai.request.model"), Some("gpt-4o-mini"));
    assert_eq!(
        attr(chat, "gen_ai.usage.input_tokens"),
        Some(&Av::IntValue(12))
    );
    assert_eq!(
        attr(chat, "gen_ai.usage.output_tokens"),
        Some(&Av::IntValue(5))
    );
    assert_eq!(
        attr(chat, "gen_ai.request.temperature"),
        Some(&Av::DoubleValue(0.2))
    );
    assert!(attr(chat, "gen_ai.input.messages").is_none());

    assert_eq!(
        attr(&spans[1], "agent_trace.guardrail.triggered"),
        Some(&Av::BoolValue(false))
    );
    assert_eq!(
        str_attr(&spans[4], "agent_trace.handoff.to_agent"),
        Some("billing")
    );

    let failing = &spans[5];
    let status = failing.status.as_ref().unwrap();
    assert_eq!(status.code, 2, "ERROR");
    assert_eq!(status.message, "disk full");
    assert_eq!(str_attr(failing, "error.type"), Some("Custom"));
    assert_eq!(failing.events[0].name, "exception");
    assert_eq!(spans[0].status.as_ref().unwrap().code, 0, "UNSET");

    let link = &spans[6].links[0];
    assert_eq!(
        link.trace_id,
        TraceId::from_u128(99).unwrap().to_bytes().to_vec()
    );
    assert_eq!(
        link.span_id,
        SpanId::from_u64(98).unwrap().to_bytes().to_vec()
    );
}

#[tokio::test]
async fn json_protocol_with_sensitive_data() {
    let (r, base) = otlp_receiver().await;
    let exporter = OtlpExporter::builder()
        .endpoint(&base)
        .protocol(Protocol::HttpJson)
        .include_sensitive_data(true)
        .provider_name("")
        .build()
        .unwrap();
    let trace = TraceId::random();
    exporter.export(&batch(trace)).await.unwrap();
    let seen = r.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.headers["content-type"], "application/json");
    let raw: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    let first = &raw["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(
        first["traceId"],
        trace.to_hex(),
        "ids are hex strings in OTLP JSON"
    );
    assert_eq!(first["spanId"], "0000000000000001");
    assert_eq!(first["kind"], 1, "enums are integers in OTLP JSON");
    let req: ExportTraceServiceRequest = serde_json::from_slice(&seen.body).unwrap();
    let spans: Vec<Span> = req.resource_spans[0].scope_spans[0].spans.clone();
    assert_eq!(
        str_attr(&spans[2], "gen_ai.tool.call.arguments"),
        Some(r#"{"id":42}"#)
    );
    assert_eq!(str_attr(&spans[2], "gen_ai.tool.call.result"), Some("paid"));
    let input: serde_json::Value =
        serde_json::from_str(str_attr(&spans[3], "gen_ai.input.messages").unwrap()).unwrap();
    assert_eq!(input[0]["content"], "where is my refund?");
    assert!(str_attr(&spans[3], "gen_ai.output.messages")
        .unwrap()
        .contains("on its way"));
    assert!(attr(&spans[0], "gen_ai.provider.name").is_none());
}

#[tokio::test]
async fn gzip_headers_and_connection_reuse() {
    let (r, base) = otlp_receiver().await;
    let exporter = OtlpExporter::builder()
        .traces_endpoint(format!("{base}/v1/traces"))
        .gzip(true)
        .header("x-api-key", "s3cret")
        .build()
        .unwrap();
    for _ in 0..3 {
        exporter.export(&batch(TraceId::random())).await.unwrap();
    }
    let seen = r.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.headers["content-encoding"], "gzip");
        assert_eq!(s.headers["x-api-key"], "s3cret");
        assert!(s.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("agent-trace/"));
        assert_eq!(spans_of(s).len(), 8, "gzip body decodes");
    }
    assert!(
        seen.iter().all(|s| s.peer == seen[0].peer),
        "one pooled connection serves every batch"
    );
}

#[tokio::test]
async fn conversation_id_and_parents_across_batches() {
    let (r, base) = otlp_receiver().await;
    let exporter = OtlpExporter::builder().endpoint(&base).build().unwrap();
    let trace = TraceId::random();
    let items = batch(trace);
    let (spans, trace_item) = items.split_at(7);
    // The record sent when the trace started: it makes no span of its own.
    let ExportItem::Trace(mut started) = trace_item[0].clone() else {
        unreachable!()
    };
    started.ended_at = None;
    exporter
        .export(&[ExportItem::Trace(started), spans[0].clone()])
        .await
        .unwrap();
    exporter.export(&spans[1..3]).await.unwrap(); // before the trace ended
    exporter.export(trace_item).await.unwrap();
    exporter.export(&spans[3..]).await.unwrap(); // after
    let mut seen = r.seen.lock().unwrap().clone();
    let first = spans_of(&seen.remove(0));
    assert_eq!(first.len(), 1, "the start record is no span");
    assert_eq!(
        first[0].parent_span_id,
        workflow_span_id(trace).to_bytes().to_vec()
    );
    assert_eq!(
        str_attr(&first[0], "gen_ai.conversation.id"),
        Some("thread-42")
    );
    let early = spans_of(&seen[0]);
    // Known from the trace's start record: every span carries the conversation id.
    assert!(early
        .iter()
        .all(|s| str_attr(s, "gen_ai.conversation.id") == Some("thread-42")));
    let root = &spans_of(&seen[1])[0];
    assert_eq!(root.span_id, workflow_span_id(trace).to_bytes().to_vec());
    assert_eq!(str_attr(root, "gen_ai.conversation.id"), Some("thread-42"));
    let late = spans_of(&seen[2]);
    assert!(late
        .iter()
        .all(|s| str_attr(s, "gen_ai.conversation.id") == Some("thread-42")));
    exporter.export(&[]).await.unwrap();
    assert_eq!(
        r.seen.lock().unwrap().len(),
        4,
        "an empty batch sends nothing"
    );
}

#[test]
fn through_a_batch_processor() {
    // The exporter on the processor's own export thread and runtime, as in production.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (r, base) = rt.block_on(otlp_receiver());
    let server = std::thread::spawn(move || rt.block_on(std::future::pending::<()>()));
    let _ = server;
    let exporter = OtlpExporter::builder().endpoint(&base).build().unwrap();
    let processor = agent_trace::BatchProcessor::new(exporter);
    let provider = agent_trace::TracerProvider::builder()
        .with_processor(processor.clone())
        .build();
    provider.trace("wf").group_id("g").in_scope(|| {
        agent_trace::agent_span("a").in_scope(|| agent_trace::generation_span().end());
        // Flushed while the trace runs: these spans leave before the trace ends.
        processor
            .force_flush_blocking(Duration::from_secs(10))
            .unwrap();
        agent_trace::function_span("late-tool").end();
    });
    processor
        .force_flush_blocking(Duration::from_secs(10))
        .unwrap();
    let stats = processor.stats();
    // The trace's record at its start and at its end, and three spans.
    assert_eq!(stats.exporters[0].exported, 5, "{stats:?}");
    let spans: Vec<Span> = r.seen.lock().unwrap().iter().flat_map(spans_of).collect();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        spans
            .iter()
            .all(|s| str_attr(s, "gen_ai.conversation.id") == Some("g")),
        "every span of the trace carries its conversation id, also those sent before it ended"
    );
    let names: Vec<String> = names.into_iter().map(str::to_owned).collect();
    assert!(names.contains(&"invoke_workflow wf".to_owned()));
    assert!(names.contains(&"invoke_agent a".to_owned()));
}

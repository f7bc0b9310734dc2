//! The OpenAI traces-ingest exporter against a loopback receiver.
#![cfg(feature = "openai")]

mod common;

use std::time::Duration;

use agent_trace::span_data::{FunctionSpanData, GenerationSpanData, ResponseSpanData};
use agent_trace::{
    ExportItem, SpanData, SpanId, SpanLink, SpanRecord, Timestamp, TraceId, TraceRecord,
    TracingExporter, Usage,
};
use agent_trace_exporters::openai::{OpenAiError, MAX_FIELD_BYTES};
use agent_trace_exporters::{HttpSetupError, OpenAiExporter};
use serde_json::json;

use common::loopback::{closed_port, openai_receiver, OPENAI_ERROR_BODY};

fn record(trace: TraceId, data: SpanData) -> SpanRecord {
    let mut r = SpanRecord::new(trace, None, data);
    r.ended_at = Some(Timestamp::now());
    r
}

fn batch(trace: TraceId) -> Vec<ExportItem> {
    let big = "x".repeat(300_000);
    let tool = record(
        trace,
        SpanData::Function({
            let mut d = FunctionSpanData::default();
            d.name = "read_file".into();
            d.input = Some("{\"path\":\"/tmp/a\"}".into());
            d.output = Some(big);
            d.mcp_data = None;
            d
        }),
    );
    let mut usage = Usage::tokens(12, 5);
    usage.requests = 1;
    usage.total_tokens = 17;
    let generation = record(
        trace,
        SpanData::Generation(Box::new({
            let mut d = GenerationSpanData::default();
            d.model = Some("gpt-4o".into());
            d.usage = Some(usage.clone());
            d.input = Some(json!([{"role": "user", "content": "hi"}]));
            d
        })),
    );
    let mut response = record(
        trace,
        SpanData::Response(Box::new({
            let mut d = ResponseSpanData::default();
            d.response_id = Some("resp_1".into());
            d.usage = Some(usage);
            d
        })),
    );
    response.links.push(SpanLink::new(trace, SpanId::random()));
    let mut started = TraceRecord::new("wf");
    started.id = trace;
    started.group_id = Some("g1".into());
    started.started_at = Some(Timestamp::now());
    let mut ended = started.clone();
    ended.ended_at = Some(Timestamp::now());
    vec![
        ExportItem::Span(tool),
        ExportItem::Span(generation),
        ExportItem::Span(response),
        // Sent: the record of the trace's start, as the OpenAI Agents SDK sends it.
        ExportItem::Trace(started),
        // Skipped: the same trace again at its end.
        ExportItem::Trace(ended),
    ]
}

#[tokio::test]
async fn headers_body_shape_and_truncation() {
    let (r, url) = openai_receiver().await;
    let exporter = OpenAiExporter::builder()
        .api_key("sk-test-123")
        .organization("org-1")
        .project("proj-1")
        .endpoint(&url)
        .build()
        .unwrap();
    assert_eq!(exporter.endpoint(), url);
    assert!(
        !format!("{exporter:?}").contains("sk-test"),
        "the key never shows in Debug"
    );
    let trace = TraceId::random();
    exporter.export(&batch(trace)).await.unwrap();

    let seen = r.seen.lock().unwrap()[0].clone();
    let body = seen.json();
    let headers = seen.headers;
    assert_eq!(headers["authorization"], "Bearer sk-test-123");
    assert_eq!(headers["openai-beta"], "traces=v1");
    assert_eq!(headers["openai-organization"], "org-1");
    assert_eq!(headers["openai-project"], "proj-1");
    assert_eq!(headers["content-type"], "application/json");

    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 4, "3 spans and the trace once: {data:?}");
    let tool = &data[0];
    assert_eq!(tool["object"], "trace.span");
    assert_eq!(tool["trace_id"], trace.to_string());
    assert!(tool["id"].as_str().unwrap().starts_with("span_"));
    assert_eq!(tool["span_data"]["type"], "function");
    assert_eq!(tool["span_data"]["input"], "{\"path\":\"/tmp/a\"}");
    let output = tool["span_data"]["output"].as_str().unwrap();
    assert!(serde_json::to_vec(output).unwrap().len() <= MAX_FIELD_BYTES);
    let marker = output.rsplit('…').next().unwrap();
    assert!(
        marker.starts_with("[truncated ") && marker.ends_with(" bytes]"),
        "{marker}"
    );
    let cut: usize = marker["[truncated ".len()..marker.len() - " bytes]".len()]
        .parse()
        .unwrap();
    assert_eq!(cut + output.len() - marker.len() - '…'.len_utf8(), 300_000);

    let generation = &data[1]["span_data"];
    assert_eq!(
        generation["usage"],
        json!({"input_tokens": 12, "output_tokens": 5, "details": {"requests": 1, "total_tokens": 17}})
    );
    assert_eq!(generation["input"][0]["content"], "hi");
    let response = &data[2];
    assert!(
        response["span_data"].get("usage").is_none(),
        "usage only on generations"
    );
    assert_eq!(response["span_data"]["response_id"], "resp_1");
    assert!(response.get("links").is_none());
    assert!(response.get("started_at").is_some());

    let trace_item = &data[3];
    assert_eq!(
        trace_item,
        &json!({"object": "trace", "id": trace.to_string(), "workflow_name": "wf", "group_id": "g1", "metadata": null})
    );
}

#[tokio::test]
async fn statuses_and_env() {
    let (r, url) = openai_receiver().await;
    r.answers.lock().unwrap().extend(
        [401, 503].map(|status| (status, vec![], OPENAI_ERROR_BODY.to_owned(), Duration::ZERO)),
    );
    let env_url = url.clone();
    let exporter = OpenAiExporter::builder()
        .from_env_lookup(move |k| match k {
            "OPENAI_API_KEY" => Some("sk-env".into()),
            "OPENAI_TRACES_ENDPOINT" => Some(env_url.clone()),
            "OPENAI_PROJECT_ID" => Some("proj-env".into()),
            _ => None,
        })
        .build()
        .unwrap();
    let items = batch(TraceId::random());
    let e = exporter.export(&items).await.unwrap_err();
    assert!(!e.is_retryable() && e.to_string().contains("401"), "{e}");
    let e = exporter.export(&items).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    exporter.export(&items).await.unwrap();
    let seen = r.seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].headers["authorization"], "Bearer sk-env");
    assert_eq!(seen[0].headers["openai-project"], "proj-env");
    assert!(seen[0].headers.get("openai-organization").is_none());
}

#[test]
fn missing_key_is_one_clear_error() {
    let e = OpenAiExporter::builder()
        .from_env_lookup(|_| None)
        .build()
        .unwrap_err();
    assert_eq!(e, OpenAiError::MissingApiKey);
    assert!(e.to_string().contains("OPENAI_API_KEY"));
    let e = OpenAiExporter::builder()
        .api_key("  ")
        .from_env_lookup(|_| None)
        .build()
        .unwrap_err();
    assert_eq!(e, OpenAiError::MissingApiKey, "a blank key is no key");
    let e = OpenAiExporter::builder()
        .api_key("sk")
        .endpoint("nonsense")
        .from_env_lookup(|_| None)
        .build()
        .unwrap_err();
    assert!(
        matches!(e, OpenAiError::Http(HttpSetupError::InvalidEndpoint { .. })),
        "{e}"
    );
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let port = closed_port();
    let exporter = OpenAiExporter::builder()
        .api_key("sk")
        .endpoint(format!("http://127.0.0.1:{port}/v1/traces/ingest"))
        .build()
        .unwrap();
    let e = exporter
        .export(&batch(TraceId::random()))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
}

//! The exact OTLP JSON body for a fixed small batch.
#![cfg(feature = "otlp")]

mod common;

use agent_trace::span_data::{AgentSpanData, GenerationSpanData};
use agent_trace::{
    ExportItem, SpanData, SpanId, SpanRecord, Timestamp, TraceId, TraceRecord, TracingExporter,
    Usage,
};
use agent_trace_exporters::otlp::Protocol;
use agent_trace_exporters::OtlpExporter;

use common::loopback::otlp_receiver;

fn ts(us: u64) -> Timestamp {
    Timestamp::from_unix_nanos(1_764_071_054_259_263_000 + us * 1000)
}

#[tokio::test]
async fn otlp_json_golden() {
    let (r, base) = otlp_receiver().await;
    let exporter = OtlpExporter::builder()
        .endpoint(&base)
        .protocol(Protocol::HttpJson)
        .service_name("golden")
        .build()
        .unwrap();
    let trace = TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap();
    let agent = SpanId::from_hex("eee19b7ec3c1b174").unwrap();
    let batch = vec![
        ExportItem::Span({
            let mut s = SpanRecord::new(
                trace,
                None,
                SpanData::Agent(Box::new({
                    let mut d = AgentSpanData::default();
                    d.name = "triage".into();
                    d.tools = Some(vec!["lookup".into()].into());
                    d.handoffs = None;
                    d.output_type = None;
                    d
                })),
            );
            s.id = agent;
            s.started_at = ts(0);
            s.ended_at = Some(ts(900));
            s
        }),
        ExportItem::Span({
            let mut s = SpanRecord::new(
                trace,
                Some(agent),
                SpanData::Generation(Box::new({
                    let mut d = GenerationSpanData::default();
                    d.model = Some("gpt-4o-mini".into());
                    d.usage = Some(Usage::tokens(12, 5));
                    d
                })),
            );
            s.id = SpanId::from_hex("eee19b7ec3c1b173").unwrap();
            s.started_at = ts(100);
            s.ended_at = Some(ts(800));
            s
        }),
        ExportItem::Trace({
            let mut t = TraceRecord::new("support");
            t.id = trace;
            t.group_id = Some("thread-1".into());
            t.started_at = Some(ts(0));
            t.ended_at = Some(ts(1000));
            t
        }),
    ];
    exporter.export(&batch).await.unwrap();
    let body = r.seen.lock().unwrap()[0].body.clone();
    let actual: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let expected = serde_json::json!({
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "golden"}},
                        {
                            "key": "telemetry.sdk.name",
                            "value": {"stringValue": "agent-trace"}
                        },
                        {"key": "telemetry.sdk.language", "value": {"stringValue": "rust"}},
                        {"key": "telemetry.sdk.version", "value": {"stringValue": env!("CARGO_PKG_VERSION")}}
                    ],
                    "droppedAttributesCount": 0,
                    "entityRefs": []
                },
                "schemaUrl": "",
                "scopeSpans": [
                    {
                        "schemaUrl": "",
                        "scope": {
                            "attributes": [],
                            "droppedAttributesCount": 0,
                            "name": "agent-trace",
                            "version": env!("CARGO_PKG_VERSION")
                        },
                        "spans": [
                            {
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "invoke_agent"}
                                    },
                                    {
                                        "key": "gen_ai.provider.name",
                                        "value": {"stringValue": "openai"}
                                    },
                                    {
                                        "key": "gen_ai.agent.name",
                                        "value": {"stringValue": "triage"}
                                    },
                                    {
                                        "key": "agent_trace.agent.tools",
                                        "value": {
                                            "arrayValue": {"values": [{"stringValue": "lookup"}]}
                                        }
                                    },
                                    {
                                        "key": "agent_trace.span_kind",
                                        "value": {"stringValue": "agent"}
                                    },
                                    {
                                        "key": "gen_ai.conversation.id",
                                        "value": {"stringValue": "thread-1"}
                                    }
                                ],
                                "droppedAttributesCount": 0,
                                "droppedEventsCount": 0,
                                "droppedLinksCount": 0,
                                "endTimeUnixNano": "1764071054260163000",
                                "events": [],
                                "flags": 0,
                                "kind": 1,
                                "links": [],
                                "name": "invoke_agent triage",
                                "parentSpanId": "8411999869a1d7e8",
                                "spanId": "eee19b7ec3c1b174",
                                "startTimeUnixNano": "1764071054259263000",
                                "status": {"code": 0, "message": ""},
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "traceState": ""
                            },
                            {
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "chat"}
                                    },
                                    {
                                        "key": "gen_ai.provider.name",
                                        "value": {"stringValue": "openai"}
                                    },
                                    {
                                        "key": "gen_ai.request.model",
                                        "value": {"stringValue": "gpt-4o-mini"}
                                    },
                                    {
                                        "key": "gen_ai.response.model",
                                        "value": {"stringValue": "gpt-4o-mini"}
                                    },
                                    {
                                        "key": "gen_ai.usage.input_tokens",
                                        "value": {"intValue": "12"}
                                    },
                                    {
                                        "key": "gen_ai.usage.output_tokens",
                                        "value": {"intValue": "5"}
                                    },
                                    {
                                        "key": "agent_trace.span_kind",
                                        "value": {"stringValue": "generation"}
                                    },
                                    {
                                        "key": "gen_ai.conversation.id",
                                        "value": {"stringValue": "thread-1"}
                                    }
                                ],
                                "droppedAttributesCount": 0,
                                "droppedEventsCount": 0,
                                "droppedLinksCount": 0,
                                "endTimeUnixNano": "1764071054260063000",
                                "events": [],
                                "flags": 0,
                                "kind": 3,
                                "links": [],
                                "name": "chat gpt-4o-mini",
                                "parentSpanId": "eee19b7ec3c1b174",
                                "spanId": "eee19b7ec3c1b173",
                                "startTimeUnixNano": "1764071054259363000",
                                "status": {"code": 0, "message": ""},
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "traceState": ""
                            },
                            {
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "invoke_workflow"}
                                    },
                                    {
                                        "key": "agent_trace.span_kind",
                                        "value": {"stringValue": "trace"}
                                    },
                                    {
                                        "key": "agent_trace.workflow_name",
                                        "value": {"stringValue": "support"}
                                    },
                                    {
                                        "key": "agent_trace.trace_id",
                                        "value": {
                                            "stringValue": "trace_5b8efff798038103d269b633813fc60c"
                                        }
                                    },
                                    {
                                        "key": "gen_ai.conversation.id",
                                        "value": {"stringValue": "thread-1"}
                                    }
                                ],
                                "droppedAttributesCount": 0,
                                "droppedEventsCount": 0,
                                "droppedLinksCount": 0,
                                "endTimeUnixNano": "1764071054260263000",
                                "events": [],
                                "flags": 0,
                                "kind": 1,
                                "links": [],
                                "name": "invoke_workflow support",
                                "parentSpanId": "",
                                "spanId": "8411999869a1d7e8",
                                "startTimeUnixNano": "1764071054259263000",
                                "status": {"code": 0, "message": ""},
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "traceState": ""
                            }
                        ]
                    }
                ]
            }
        ]
    });
    assert_eq!(
        actual,
        expected,
        "actual:\n{}",
        serde_json::to_string_pretty(&actual).unwrap()
    );
}

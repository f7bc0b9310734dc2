//! Two services over loopback HTTP: A (an axum server) calls B (another) with reqwest carrying
//! `traceparent`; B's spans land under A's span, in A's trace, both in each service's JSONL file
//! and in the spans a loopback OTLP receiver got from both.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use agent_trace::{BatchProcessor, ExportItem, Instrument, SpanRecord, TracerProvider};
use agent_trace_exporters::jsonl::read_items;
use agent_trace_exporters::otlp::{workflow_span_id, OtlpExporter};
use agent_trace_exporters::JsonlExporter;
use agent_trace_http::{RequestBuilderExt, TraceContextLayer};
use axum::body::Bytes;
use axum::extract::State;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span as OtlpSpan;
use prost::Message;

type Bodies = Arc<Mutex<Vec<Vec<u8>>>>;

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// An OTLP/HTTP receiver on 127.0.0.1 keeping every body.
async fn otlp_receiver() -> (Bodies, String) {
    let bodies = Bodies::default();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            axum::routing::post(|State(b): State<Bodies>, body: Bytes| async move {
                b.lock().unwrap().push(body.to_vec());
                ""
            }),
        )
        .with_state(bodies.clone());
    let addr = serve(app).await;
    (bodies, format!("http://{addr}"))
}

/// A provider writing JSONL to `path` and OTLP to `otlp`.
fn provider(path: &Path, otlp: &str, service: &str) -> TracerProvider {
    let batch = BatchProcessor::builder()
        .with_exporter(JsonlExporter::new(path).unwrap())
        .with_exporter(
            OtlpExporter::builder()
                .endpoint(otlp)
                .gzip(false)
                .service_name(service)
                .build()
                .unwrap(),
        )
        .build();
    TracerProvider::builder().with_processor(batch).build()
}

fn spans_in(path: &Path) -> Vec<SpanRecord> {
    let (items, _) = read_items(path).unwrap();
    items
        .into_iter()
        .filter_map(|i| match i {
            ExportItem::Span(s) => Some(s),
            ExportItem::Trace(_) => None,
        })
        .collect()
}

fn by_name<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.data.name() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "one `{name}` span in {spans:#?}");
    found[0]
}

/// The JSONL spans of both services as an indented tree (printed for the reader of the test
/// log; the assertions check the same edges).
fn tree(spans: &[(&str, SpanRecord)]) -> String {
    fn walk(
        out: &mut String,
        spans: &[(&str, SpanRecord)],
        parent: Option<agent_trace::SpanId>,
        depth: usize,
    ) {
        for (service, s) in spans.iter().filter(|(_, s)| s.parent_id == parent) {
            out.push_str(&format!(
                "{}{} [{service}] span {} parent {}\n",
                "  ".repeat(depth),
                s.data.name().unwrap_or("?"),
                s.id,
                s.parent_id.map_or("-".to_owned(), |p| p.to_string()),
            ));
            walk(out, spans, Some(s.id), depth + 1);
        }
    }
    let mut out = format!("trace {}\n", spans[0].1.trace_id);
    walk(&mut out, spans, None, 1);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_spans_land_under_a_span_in_one_trace_in_jsonl_and_otlp() {
    let dir = tempfile::tempdir().unwrap();
    let (a_file, b_file) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let (bodies, otlp) = otlp_receiver().await;
    let provider_a = provider(&a_file, &otlp, "service-a");
    let provider_b = provider(&b_file, &otlp, "service-b");

    // B: one handler doing traced work.
    let b = axum::Router::new()
        .route(
            "/work",
            axum::routing::get(|| async {
                async { "done" }
                    .in_span(agent_trace::custom_span("b-work"))
                    .await
            }),
        )
        .layer(TraceContextLayer::with_provider(&provider_b));
    let b_url = format!("http://{}/work", serve(b).await);

    // A: its handler calls B inside a `call-b` span, with the trace context on the request.
    let client = reqwest::Client::new();
    let a = axum::Router::new()
        .route(
            "/ask",
            axum::routing::get(
                |State((client, url)): State<(reqwest::Client, String)>| async move {
                    async {
                        let response = client.get(&url).with_trace_context().send().await.unwrap();
                        response.text().await.unwrap()
                    }
                    .in_span(agent_trace::custom_span("call-b"))
                    .await
                },
            ),
        )
        .with_state((client.clone(), b_url))
        .layer(TraceContextLayer::with_provider(&provider_a));
    let a_url = format!("http://{}/ask", serve(a).await);

    // The outside caller sends no trace context: A starts the trace.
    let answer = client.get(&a_url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "done");

    // Shut down (which flushes) rather than flush: the servers keep the providers until the
    // runtime ends, after the temporary directory is gone.
    let bound = std::time::Duration::from_secs(30);
    provider_a.shutdown(bound).await.unwrap();
    provider_b.shutdown(bound).await.unwrap();

    // JSONL: A's file has A's trace and spans, B's file B's spans in the same trace.
    let (a_spans, b_spans) = (spans_in(&a_file), spans_in(&b_file));
    let (a_items, _) = read_items(&a_file).unwrap();
    let a_trace = a_items
        .iter()
        .find_map(|i| match i {
            ExportItem::Trace(t) => Some(t.clone()),
            ExportItem::Span(_) => None,
        })
        .expect("A's file has its trace record");
    assert_eq!(a_trace.workflow_name.as_ref(), "GET /ask");
    let a_server = by_name(&a_spans, "GET /ask");
    let call_b = by_name(&a_spans, "call-b");
    let b_server = by_name(&b_spans, "GET /work");
    let b_work = by_name(&b_spans, "b-work");
    for s in [a_server, call_b, b_server, b_work] {
        assert_eq!(s.trace_id, a_trace.id, "{s:?}");
    }
    assert_eq!(a_server.parent_id, None);
    assert_eq!(call_b.parent_id, Some(a_server.id));
    assert_eq!(
        b_server.parent_id,
        Some(call_b.id),
        "B's server span is under A's span"
    );
    assert_eq!(b_work.parent_id, Some(b_server.id));
    assert_eq!(b_spans.len(), 2, "{b_spans:#?}");
    let agent_trace::SpanData::Custom(server_data) = &b_server.data else {
        panic!("{b_server:?}")
    };
    assert_eq!(server_data.data["http.response.status_code"], 200);

    let mut all: Vec<(&str, SpanRecord)> = a_spans.iter().map(|s| ("A", s.clone())).collect();
    all.extend(b_spans.iter().map(|s| ("B", s.clone())));
    all.sort_by_key(|(_, s)| s.started_at);
    println!("{}", tree(&all));

    // OTLP: the receiver got every span, with the same trace and parents (A's root span under
    // the workflow span that stands for A's trace).
    let otlp_spans: HashMap<String, OtlpSpan> = bodies
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| {
            ExportTraceServiceRequest::decode(&b[..])
                .unwrap()
                .resource_spans
        })
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .map(|s| (s.name.clone(), s))
        .collect();
    let trace_bytes = a_trace.id.to_bytes().to_vec();
    let parent_of = |name: &str| {
        let s = otlp_spans
            .get(name)
            .unwrap_or_else(|| panic!("no OTLP span `{name}` in {:?}", otlp_spans.keys()));
        assert_eq!(s.trace_id, trace_bytes, "{name}");
        s.parent_span_id.clone()
    };
    let id_of = |name: &str| otlp_spans[name].span_id.clone();
    assert_eq!(
        parent_of("GET /ask"),
        workflow_span_id(a_trace.id).to_bytes().to_vec()
    );
    assert_eq!(parent_of("call-b"), id_of("GET /ask"));
    assert_eq!(parent_of("GET /work"), id_of("call-b"));
    assert_eq!(parent_of("b-work"), id_of("GET /work"));
    assert_eq!(id_of("call-b"), call_b.id.to_bytes().to_vec());
}

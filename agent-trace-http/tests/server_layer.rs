//! `TraceContextLayer` on a real axum server on 127.0.0.1, called with reqwest: what the
//! server span gets from good, malformed and missing headers, and what the handler sees.

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use agent_trace::propagation::{format_traceparent, RemoteContext};
use agent_trace::testing::CollectingProcessor;
use agent_trace::{Diagnostic, SpanData, SpanId, SpanRecord, TraceId, TracerProvider};
use agent_trace_http::{RequestBuilderExt, TraceContextLayer};
use axum::http::StatusCode;
use axum::Extension;

/// Every diagnostic of this test binary.
fn diagnostics() -> &'static Mutex<Vec<Diagnostic>> {
    static SEEN: Mutex<Vec<Diagnostic>> = Mutex::new(Vec::new());
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        assert!(agent_trace::set_diagnostics_hook(|d| SEEN
            .lock()
            .unwrap()
            .push(d.clone())));
    });
    &SEEN
}

async fn serve(provider: Option<&TracerProvider>) -> String {
    let layer = match provider {
        Some(p) => TraceContextLayer::with_provider(p),
        None => TraceContextLayer::new(),
    };
    let app = axum::Router::new()
        .route(
            "/state",
            axum::routing::get(|remote: Option<Extension<RemoteContext>>| async move {
                remote.map_or_else(|| "none".to_owned(), |Extension(r)| r.state.to_string())
            }),
        )
        .route(
            "/fail",
            axum::routing::get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "busy") }),
        )
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn setup() -> (CollectingProcessor, TracerProvider) {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    (spans, provider)
}

fn server_span(spans: &CollectingProcessor, name: &str) -> SpanRecord {
    let found: Vec<_> = spans
        .spans()
        .into_iter()
        .filter(|s| s.data.name() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap()
}

fn attribute(span: &SpanRecord, key: &str) -> serde_json::Value {
    let SpanData::Custom(c) = &span.data else {
        panic!("{span:?}")
    };
    c.data[key].clone()
}

#[tokio::test]
async fn a_valid_traceparent_makes_the_server_span_a_child_and_passes_the_tracestate() {
    let (spans, provider) = setup();
    let base = serve(Some(&provider)).await;
    let (trace, parent) = (
        TraceId::from_u128(0xabc).unwrap(),
        SpanId::from_u64(0xdef).unwrap(),
    );
    let body = reqwest::Client::new()
        .get(format!("{base}/state"))
        .header("traceparent", format_traceparent(trace, parent, true))
        .header("tracestate", "vendor=1,other=2")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        body, "vendor=1,other=2",
        "the handler sees the caller's tracestate"
    );
    let span = server_span(&spans, "GET /state");
    assert_eq!((span.trace_id, span.parent_id), (trace, Some(parent)));
    assert_eq!(attribute(&span, "http.request.method"), "GET");
    assert_eq!(attribute(&span, "url.path"), "/state");
    assert_eq!(attribute(&span, "http.response.status_code"), 200);
    assert!(span.error.is_none());
    assert!(
        spans.traces().is_empty(),
        "a continued trace is the caller's: no trace record here"
    );
}

#[tokio::test]
async fn a_malformed_traceparent_is_ignored_with_a_diagnostic_and_starts_a_new_trace() {
    let _ = diagnostics();
    let (spans, provider) = setup();
    let base = serve(Some(&provider)).await;
    let client = reqwest::Client::new();
    for bad in ["00-nothex-00f067aa0ba902b7-01", "", "ff-ff-ff-ff", "00-%00"] {
        let response = client
            .get(format!("{base}/state"))
            .header("traceparent", bad)
            .header("tracestate", "Bad State")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "none");
    }
    let server: Vec<_> = spans.spans();
    assert_eq!(server.len(), 4);
    let traces = spans.traces();
    for s in &server {
        assert_eq!(s.parent_id, None, "{s:?}");
        assert!(
            traces
                .iter()
                .any(|t| t.id == s.trace_id && t.workflow_name.as_ref() == "GET /state"),
            "each request started a trace of its own: {traces:?}"
        );
    }
    assert!(
        diagnostics()
            .lock()
            .unwrap()
            .iter()
            .any(|d| d.key == "malformed_traceparent" && d.message.contains("new traces")),
        "{:?}",
        diagnostics().lock().unwrap()
    );
}

#[tokio::test]
async fn a_server_error_marks_the_span_failed() {
    let (spans, provider) = setup();
    let base = serve(Some(&provider)).await;
    let status = reqwest::Client::new()
        .get(format!("{base}/fail"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 503);
    let span = server_span(&spans, "GET /fail");
    assert_eq!(attribute(&span, "http.response.status_code"), 503);
    assert_eq!(span.error.unwrap().message, "HTTP 503 Service Unavailable");
}

#[tokio::test]
async fn without_any_provider_requests_pass_through() {
    // No global provider is installed in this test binary.
    assert!(agent_trace::global_provider().is_none());
    let base = serve(None).await;
    let (spans, provider) = setup();
    // A traced caller: the header is sent, the server has nothing to record on.
    let client = reqwest::Client::new();
    let request = provider.trace("caller").in_scope(|| {
        agent_trace::custom_span("call").in_scope(|| {
            client
                .get(format!("{base}/state"))
                .with_trace_context()
                .build()
                .unwrap()
        })
    });
    assert!(request.headers().contains_key("traceparent"));
    let response = client.execute(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "none");
    assert_eq!(spans.spans().len(), 1, "only the caller's span");
}

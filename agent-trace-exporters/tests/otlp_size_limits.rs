//! Request size limits against a real 127.0.0.1 collector that refuses bodies over its limit
//! with 413 (axum's `DefaultBodyLimit`, as a Collector's `max_request_body_size` would): a batch
//! over the exporter's limit goes in several requests, a 413 splits the request instead of
//! losing the batch, and a span too large alone is cut with a marker, never lost.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_trace::{
    BatchProcessor, ExportItem, SpanData, SpanRecord, TraceId, TracerProvider, TracingExporter,
};
use agent_trace_exporters::OtlpExporter;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;

/// What the collector accepted, and the size of every accepted body.
#[derive(Default)]
struct Accepted {
    spans: Mutex<Vec<(String, Vec<String>)>>,
    bodies: Mutex<Vec<usize>>,
    /// Requests within the limit so far, and the one (counting from 1) to answer 503.
    requests: Mutex<usize>,
    fail: Option<usize>,
}

/// A collector on 127.0.0.1 refusing bodies over `limit` bytes with 413.
async fn collector(limit: usize) -> (Arc<Accepted>, SocketAddr) {
    collector_failing(limit, None).await
}

/// [`collector`], answering 503 to request number `fail` (counting from 1).
async fn collector_failing(limit: usize, fail: Option<usize>) -> (Arc<Accepted>, SocketAddr) {
    async fn receive(State(seen): State<Arc<Accepted>>, body: Bytes) -> StatusCode {
        let n = {
            let mut n = seen.requests.lock().unwrap();
            *n += 1;
            *n
        };
        if seen.fail == Some(n) {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        seen.bodies.lock().unwrap().push(body.len());
        let req = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf body");
        let mut spans = seen.spans.lock().unwrap();
        for span in req
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
        {
            let values = span
                .attributes
                .iter()
                .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                    any_value::Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            spans.push((span.name, values));
        }
        StatusCode::OK
    }
    let seen = Arc::new(Accepted {
        fail,
        ..Accepted::default()
    });
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(receive))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (seen, addr)
}

/// A custom span named `name` carrying `blob_len` bytes of data.
fn span(name: &str, blob_len: usize) -> ExportItem {
    let mut record = SpanRecord::new(TraceId::random(), None, SpanData::custom(name.to_owned()));
    if let SpanData::Custom(c) = &mut record.data {
        c.data
            .insert("blob".into(), serde_json::json!("b".repeat(blob_len)));
    }
    ExportItem::Span(record)
}

fn exporter(addr: SocketAddr, max_request_bytes: Option<usize>) -> OtlpExporter {
    let mut b = OtlpExporter::builder().endpoint(format!("http://{addr}"));
    if let Some(n) = max_request_bytes {
        b = b.max_request_bytes(n);
    }
    b.build().unwrap()
}

fn names(seen: &Accepted) -> Vec<String> {
    seen.spans
        .lock()
        .unwrap()
        .iter()
        .map(|(n, _)| n.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_limit_goes_in_requests_under_it() {
    let (seen, addr) = collector(1 << 20).await;
    let otlp = exporter(addr, Some(64 << 10));
    let batch: Vec<ExportItem> = (0..200).map(|i| span(&format!("s{i}"), 2_000)).collect();
    otlp.export(&batch).await.unwrap();
    let bodies = seen.bodies.lock().unwrap().clone();
    assert!(bodies.len() >= 6, "{bodies:?}");
    assert!(bodies.iter().all(|n| *n <= 64 << 10), "{bodies:?}");
    let want: Vec<String> = (0..200).map(|i| format!("s{i}")).collect();
    assert_eq!(names(&seen), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_413_splits_the_batch_and_delivers_every_span() {
    // The exporter's own limit (4 MiB) is far above the collector's (48 KiB).
    let (seen, addr) = collector(48 << 10).await;
    let batch = BatchProcessor::builder()
        .with_exporter(exporter(addr, None))
        .max_batch_size(512)
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    provider.trace("big").in_scope(|| {
        for _ in 0..300 {
            agent_trace::custom_span("step")
                .with_attribute("blob", "b".repeat(1_000))
                .end();
        }
    });
    provider.force_flush().await.unwrap();
    let stats = batch.stats();
    let lane = &stats.exporters[0];
    assert_eq!(lane.dropped_export_failed, 0, "{lane:?}");
    assert_eq!(lane.exported, 302, "{lane:?}");
    assert!(stats.balanced(), "{stats:?}");
    let got = names(&seen);
    assert_eq!(got.iter().filter(|n| *n == "step").count(), 300);
    provider.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_over_the_limit_alone_is_cut_with_a_marker_and_the_batch_delivered() {
    let (seen, addr) = collector(1 << 20).await;
    let otlp = exporter(addr, Some(64 << 10));
    let mut batch: Vec<ExportItem> = (0..20).map(|i| span(&format!("s{i}"), 500)).collect();
    batch.insert(10, span("huge", 3 << 20));
    otlp.export(&batch).await.unwrap();
    let spans = seen.spans.lock().unwrap().clone();
    assert_eq!(spans.len(), 21);
    let (_, values) = spans.iter().find(|(n, _)| n == "huge").unwrap();
    let blob = values
        .iter()
        .find(|v| v.starts_with("bbbb"))
        .expect("the blob attribute");
    assert!(
        blob.ends_with(&format!("of {} bytes kept]", 3 << 20)),
        "{}",
        &blob[blob.len() - 80..]
    );
    assert!(blob.len() < 64 << 10);
    assert!(seen.bodies.lock().unwrap().iter().all(|n| *n <= 64 << 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_span_the_collector_refuses_alone_is_cut_until_it_passes() {
    // The exporter thinks 4 MiB is fine; the collector takes 32 KiB.
    let (seen, addr) = collector(32 << 10).await;
    let otlp = exporter(addr, None);
    let batch = vec![span("a", 100), span("huge", 200_000), span("b", 100)];
    otlp.export(&batch).await.unwrap();
    assert_eq!(names(&seen), ["a", "huge", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_offered_again_after_a_failed_part_sends_each_span_once() {
    // The third request fails: two parts are delivered, the export fails.
    let (seen, addr) = collector_failing(1 << 20, Some(3)).await;
    let otlp = exporter(addr, Some(16 << 10));
    let batch: Vec<ExportItem> = (0..60).map(|i| span(&format!("s{i}"), 2_000)).collect();
    let err = otlp.export(&batch).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let first = names(&seen).len();
    assert!(first > 0 && first < 60, "{first}");
    // Offered again (as the batch processor's retry does): the rest, once.
    otlp.export(&batch).await.unwrap();
    let want: Vec<String> = (0..60).map(|i| format!("s{i}")).collect();
    assert_eq!(names(&seen), want);
    // Another batch after it starts from its first part.
    let other: Vec<ExportItem> = (0..30).map(|i| span(&format!("t{i}"), 2_000)).collect();
    otlp.export(&other).await.unwrap();
    assert_eq!(names(&seen).len(), 90);
}

//! The SDK's diagnostics reach `tracing` as events under `agent_trace`, and nothing the SDK does
//! on the bridge's behalf (diagnostics, processors, exporters and their HTTP client) comes back
//! as spans or span events: no feedback loop.
//!
//! Its own binary: it installs the process-wide diagnostics hook and a global subscriber (the
//! export thread has no thread-local default).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_trace::span_data::SpanData;
use agent_trace::testing::CollectingProcessor;
use agent_trace::{BatchProcessor, SpanRecord, TracerProvider, TracingProcessor};
use agent_trace_exporters::otlp::{OtlpExporter, Protocol};
use agent_trace_tracing::AgentTraceLayer;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One event as a subscriber saw it.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    level: tracing::Level,
    fields: Vec<(String, String)>,
}

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

/// What a user's log layer would print.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Seen>>>);

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        self.0.lock().unwrap().push(Seen {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields: f.0,
        });
    }
}

/// A processor that logs with `tracing` as it handles each span: a span and an error event,
/// as an exporter that calls an instrumented HTTP client inline would.
struct LoggingProcessor {
    calls: AtomicUsize,
}

impl TracingProcessor for LoggingProcessor {
    fn on_span_end(&self, span: &SpanRecord) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let _s = tracing::info_span!("processor.export", span = %span.id).entered();
        tracing::error!("processor could not reach the backend");
    }
}

/// A local OTLP endpoint that refuses everything with 400 (not retried, so the batch is
/// dropped at once and the SDK says so).
async fn refusing_backend() -> SocketAddr {
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::BAD_REQUEST,
            "refused by the test backend",
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_are_tracing_events_and_nothing_feeds_back() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(
                AgentTraceLayer::builder()
                    .include_sensitive_data(true)
                    .build(),
            )
            .with(capture.clone()),
    )
    .unwrap();
    assert!(agent_trace_tracing::install_diagnostics());

    let addr = refusing_backend().await;
    let otlp = OtlpExporter::builder()
        .endpoint(format!("http://{addr}"))
        .protocol(Protocol::HttpJson)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let batch = BatchProcessor::builder().with_exporter(otlp).build();
    let spans = CollectingProcessor::new();
    let logging = Arc::new(LoggingProcessor {
        calls: AtomicUsize::new(0),
    });
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(spans.clone())
        .with_shared_processor(logging.clone())
        .with_processor(batch)
        .build();

    provider
        .trace("wf")
        .run(async {
            for i in 0..3u64 {
                let chat = tracing::info_span!("chat", gen_ai.operation.name = "chat", i);
                let _e = chat.enter();
                // A diagnostic said while a bridged span is current is not this span's event.
                agent_trace::emit_diagnostic(agent_trace::Diagnostic {
                    key: "test_diagnostic",
                    message: format!("diagnostic {i}"),
                    count: 1,
                });
            }
        })
        .await;
    // The export fails (400): the batch processor drops the batch and says so.
    let _ = provider.force_flush().await;

    // Only the three bridged spans: none from the processor's logging, the diagnostics or
    // the exporter's HTTP client; no error or event from them on the bridged spans.
    let recorded = spans.spans();
    assert_eq!(recorded.len(), 3, "{recorded:#?}");
    for r in &recorded {
        assert!(r.error.is_none(), "feedback onto {r:#?}");
        assert_eq!(r.data.kind(), agent_trace::SpanKind::Generation);
        if let SpanData::Custom(c) = &r.data {
            assert!(!c.data.contains_key("events"));
        }
    }
    assert_eq!(logging.calls.load(Ordering::Relaxed), 3);

    let seen = capture.0.lock().unwrap().clone();
    let diagnostics: Vec<&Seen> = seen.iter().filter(|e| e.target == "agent_trace").collect();
    let keys: Vec<&str> = diagnostics
        .iter()
        .filter_map(|e| {
            e.fields
                .iter()
                .find(|(k, _)| k == "key")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    assert_eq!(
        keys.iter().filter(|k| **k == "test_diagnostic").count(),
        3,
        "{seen:#?}"
    );
    let dropped = diagnostics
        .iter()
        .find(|e| {
            e.fields
                .iter()
                .any(|(k, v)| k == "key" && v == "export_dropped")
        })
        .unwrap_or_else(|| panic!("no export_dropped diagnostic in {seen:#?}"));
    assert_eq!(dropped.level, tracing::Level::WARN);
    let message = &dropped
        .fields
        .iter()
        .find(|(k, _)| k == "message")
        .unwrap()
        .1;
    assert!(
        message.contains("400") || message.contains("refused"),
        "{message}"
    );
    // The processor's own error events still reach the user's subscriber.
    assert_eq!(
        seen.iter()
            .filter(|e| e.level == tracing::Level::ERROR && e.target == module_path!())
            .count(),
        3
    );
}

//! The provider's privacy stage through the public API: content off by default (and not even
//! serialized), error messages kept, truncation with a marker, redaction before every
//! processor — including one that is not the last and one that watches span starts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use agent_trace::privacy::Redactor;
use agent_trace::span_data::SpanData;
use agent_trace::testing::CollectingProcessor;
use agent_trace::{
    current_span, function_span, traced, Record, SpanError, SpanRecord, TracerProvider,
    TracerProviderBuilder, TracingProcessor,
};
use serde::{Serialize, Serializer};

/// The environment decides content when it sets a privacy variable: these tests are about
/// the code's setting.
fn env_decides() -> bool {
    agent_trace::privacy::sensitive_data_from_env().is_some()
}

fn collecting(builder: TracerProviderBuilder) -> (TracerProvider, CollectingProcessor) {
    let spans = CollectingProcessor::new();
    (builder.with_processor(spans.clone()).build(), spans)
}

/// Counts how many times it was serialized.
struct Counted(Arc<AtomicUsize>);

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.fetch_add(1, Ordering::Relaxed);
        s.serialize_str("counted")
    }
}

#[derive(Debug)]
struct Failure;

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("it failed")
    }
}

#[traced]
fn tool(question: &str) -> Result<u32, Failure> {
    let _ = question;
    Err(Failure)
}

#[traced]
fn answer(question: &str) -> String {
    format!("echo {question}")
}

fn function_io(span: &SpanRecord) -> (Option<String>, Option<String>) {
    match &span.data {
        SpanData::Function(f) => (f.input.clone(), f.output.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn content_is_off_by_default_and_never_serialized() {
    if env_decides() {
        return;
    }
    let (provider, spans) = collecting(TracerProvider::builder());
    assert!(!provider.includes_sensitive_data());
    let serialized = Arc::new(AtomicUsize::new(0));
    provider.trace("wf").in_scope(|| {
        let _ = tool("my question");
        let _ = answer("my question");
        let mut span = function_span("manual");
        assert!(!span.records_content());
        span.set_input(&Counted(serialized.clone()));
        span.set_output(&Counted(serialized.clone()));
        span.in_scope(|| {
            let mut current = current_span();
            assert!(!current.records_content());
            current.set_input(&Counted(serialized.clone()));
        });
    });
    assert_eq!(
        serialized.load(Ordering::Relaxed),
        0,
        "content was serialized"
    );
    let recorded = spans.spans();
    assert_eq!(recorded.len(), 3);
    for span in &recorded {
        assert_eq!(function_io(span), (None, None), "{span:?}");
    }
    let failed = recorded
        .iter()
        .find(|s| s.data.name() == Some("tool"))
        .unwrap();
    let error = failed.error.as_ref().unwrap();
    assert_eq!(error.message, "it failed");
    assert!(error.data.is_none(), "{error:?}");
}

#[test]
fn content_on_is_recorded() {
    if env_decides() {
        return;
    }
    let (provider, spans) = collecting(TracerProvider::builder().include_sensitive_data(true));
    assert!(provider.includes_sensitive_data());
    let serialized = Arc::new(AtomicUsize::new(0));
    provider.trace("wf").in_scope(|| {
        let _ = tool("q1");
        let _ = answer("q2");
        let mut span = function_span("manual");
        span.set_input(&Counted(serialized.clone()));
        span.end();
    });
    assert_eq!(serialized.load(Ordering::Relaxed), 1);
    let recorded = spans.spans();
    assert_eq!(
        function_io(&recorded[0]).0.as_deref(),
        Some(r#"{"question":"q1"}"#)
    );
    assert!(recorded[0].error.as_ref().unwrap().data.is_some());
    assert_eq!(function_io(&recorded[1]).1.as_deref(), Some("echo q2"));
    assert_eq!(function_io(&recorded[2]).0.as_deref(), Some("counted"));
}

#[test]
fn content_put_in_by_hand_is_removed_before_the_processors() {
    if env_decides() {
        return;
    }
    let (provider, spans) = collecting(TracerProvider::builder());
    provider.trace("wf").in_scope(|| {
        let mut span = function_span("manual");
        span.record_mut(|r| {
            if let SpanData::Function(f) = &mut r.data {
                f.input = Some("by hand".into());
            }
            r.error = Some(Box::new(
                SpanError::new("kept").with_data(serde_json::json!({"dropped": true})),
            ));
        });
        span.end();
    });
    let recorded = spans.spans();
    assert_eq!(function_io(&recorded[0]), (None, None));
    let error = recorded[0].error.as_ref().unwrap();
    assert_eq!(
        (error.message.as_str(), error.data.as_ref()),
        ("kept", None)
    );
}

#[test]
fn long_strings_are_cut_with_a_marker() {
    if env_decides() {
        return;
    }
    let (provider, spans) = collecting(
        TracerProvider::builder()
            .include_sensitive_data(true)
            .max_field_bytes(1000),
    );
    provider.trace("wf").in_scope(|| {
        let mut span = function_span("big");
        span.set_input(&"a".repeat(5000));
        span.set_error(SpanError::new("e".repeat(1500)));
        span.end();
    });
    let recorded = spans.spans();
    let input = function_io(&recorded[0]).0.unwrap();
    assert!(input.starts_with(&"a".repeat(1000)), "{input}");
    assert!(
        input.ends_with("…[truncated by agent-trace: 4000 of 5000 bytes cut]"),
        "{input}"
    );
    let message = &recorded[0].error.as_ref().unwrap().message;
    assert!(message.ends_with("500 of 1500 bytes cut]"), "{message}");
}

#[test]
fn the_default_cut_is_100_kib() {
    if env_decides() {
        return;
    }
    let (provider, spans) = collecting(TracerProvider::builder().include_sensitive_data(true));
    provider.trace("wf").in_scope(|| {
        let mut span = function_span("big");
        span.set_input(&"x".repeat(100 * 1024));
        span.set_output(&"y".repeat(100 * 1024 + 1));
        span.end();
    });
    let (input, output) = function_io(&spans.spans()[0]);
    assert_eq!(input.unwrap().len(), 100 * 1024);
    assert!(output.unwrap().ends_with("1 of 102401 bytes cut]"));
}

/// Keeps the started spans' JSON.
#[derive(Default)]
struct Watcher(std::sync::Mutex<Vec<String>>);

impl TracingProcessor for Watcher {
    fn on_span_start(&self, span: &SpanRecord) {
        self.0
            .lock()
            .unwrap()
            .push(serde_json::to_string(span).unwrap());
    }
    fn on_span_end(&self, span: &SpanRecord) {
        self.0
            .lock()
            .unwrap()
            .push(serde_json::to_string(span).unwrap());
    }
    fn on_trace_start(&self, trace: &agent_trace::TraceRecord) {
        self.0
            .lock()
            .unwrap()
            .push(serde_json::to_string(trace).unwrap());
    }
}

#[test]
fn every_processor_sees_redacted_records() {
    if env_decides() {
        return;
    }
    let watcher = Arc::new(Watcher::default());
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .redactor(Redactor::new().with_pattern(r"cust-\d{6}").unwrap())
        .with_shared_processor(watcher.clone())
        .with_processor(spans.clone())
        .build();
    provider
        .trace("wf")
        .metadata(
            "auth",
            serde_json::json!({"h": ["Bearer abcdefghijklmnop"]}),
        )
        .in_scope(|| {
            let mut span = agent_trace::Span::new(SpanData::custom("c"));
            span.set_attribute(
                "k",
                &serde_json::json!({"deep": ["sk-ant-abcdefghijklmnopqrstu"]}),
            );
            span.set_input("customer cust-123456");
            span.end();
        });
    let seen = watcher.0.lock().unwrap().join("\n");
    assert!(!seen.contains("abcdefghijklmnop"), "{seen}");
    assert!(!seen.contains("cust-123456"), "{seen}");
    assert!(seen.contains("[REDACTED:bearer_token]"), "{seen}");
    assert!(seen.contains("customer [REDACTED:custom]"), "{seen}");
    let last = serde_json::to_string(&spans.spans()[0]).unwrap();
    assert!(last.contains("[REDACTED:anthropic_key]"), "{last}");
}

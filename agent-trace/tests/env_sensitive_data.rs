//! The privacy variables win over the code: `AGENT_TRACE_INCLUDE_SENSITIVE_DATA` first, then
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`; an unrecognized value is off. The
//! variables are process-wide, so this binary has one test that sets them step by step.

use agent_trace::privacy::{GENAI_CAPTURE_ENV, SENSITIVE_DATA_ENV};
use agent_trace::span_data::SpanData;
use agent_trace::testing::CollectingProcessor;
use agent_trace::{function_span, Record, TracerProvider};

/// The input a provider built with `code` records for one function span.
fn recorded_input(code: bool) -> Option<String> {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .include_sensitive_data(code)
        .with_processor(spans.clone())
        .build();
    provider.trace("wf").in_scope(|| {
        let mut span = function_span("f");
        span.set_input("the prompt");
        span.end();
    });
    match &spans.spans()[0].data {
        SpanData::Function(f) => f.input.clone(),
        other => panic!("{other:?}"),
    }
}

fn set(key: &str, value: Option<&str>) {
    // SAFETY: this binary's only test runs on one thread and no other code reads the
    // environment meanwhile.
    unsafe {
        match value {
            Some(v) => std::env::set_var(key, v),
            None => std::env::remove_var(key),
        }
    }
}

#[test]
fn the_variables_win_over_the_code() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    agent_trace::set_diagnostics_hook(move |d| sink.lock().unwrap().push(d.key));
    let prompt = Some("the prompt".to_owned());

    set(SENSITIVE_DATA_ENV, None);
    set(GENAI_CAPTURE_ENV, None);
    assert_eq!(recorded_input(true), prompt, "unset: the code decides");
    assert_eq!(recorded_input(false), None);

    set(SENSITIVE_DATA_ENV, Some("false"));
    assert_eq!(recorded_input(true), None, "an operator turns content off");
    set(SENSITIVE_DATA_ENV, Some(" ON "));
    assert_eq!(recorded_input(false), prompt, "or on");

    set(SENSITIVE_DATA_ENV, None);
    set(GENAI_CAPTURE_ENV, Some("true"));
    assert_eq!(
        recorded_input(false),
        prompt,
        "the GenAI convention's variable"
    );
    set(SENSITIVE_DATA_ENV, Some("0"));
    assert_eq!(recorded_input(true), None, "ours is read first");

    set(SENSITIVE_DATA_ENV, Some("maybe"));
    assert_eq!(recorded_input(true), None, "an unrecognized value is off");
    assert!(seen.lock().unwrap().contains(&"sensitive_data_env_invalid"));
}

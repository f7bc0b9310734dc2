//! A bad OTEL_TRACES_SAMPLER_ARG is reported as a diagnostic and the sampler uses ratio 1.0
//! (never a panic, never silently nothing). Alone in its binary.

use std::sync::{Arc, Mutex};

use agent_trace::sampling::{sampler_from_env, SamplingEnvError};
use agent_trace::testing::CollectingProcessor;
use agent_trace::TracerProvider;

#[test]
fn a_bad_ratio_is_reported_and_falls_back_to_one() {
    // SAFETY: this binary has one test, which sets the variables before any thread reads them.
    unsafe {
        std::env::set_var("OTEL_TRACES_SAMPLER", "traceidratio");
        std::env::set_var("OTEL_TRACES_SAMPLER_ARG", "half");
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    agent_trace::set_diagnostics_hook(move |d| sink.lock().unwrap().push(d.message.clone()));
    assert!(matches!(
        sampler_from_env(),
        Err(SamplingEnvError::BadRatio(_))
    ));

    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    p.trace("wf")
        .in_scope(|| agent_trace::custom_span("x").end());
    assert_eq!(spans.spans().len(), 1);
    let msgs = seen.lock().unwrap();
    assert!(
        msgs.iter()
            .any(|m| m.contains("OTEL_TRACES_SAMPLER_ARG=`half`")),
        "{msgs:?}"
    );
}

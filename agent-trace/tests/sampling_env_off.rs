//! OTEL_TRACES_SAMPLER=always_off: a provider whose code sets no sampler records nothing; a
//! sampler set in code wins over the variable (OpenTelemetry's rule). Alone in its binary: it
//! sets the variable before anything reads it.

use agent_trace::sampling::{sampler_from_env, AlwaysOn};
use agent_trace::testing::CollectingProcessor;
use agent_trace::TracerProvider;

#[test]
fn always_off_from_the_environment() {
    // SAFETY: this binary has one test, which sets the variable before any thread reads it.
    unsafe { std::env::set_var("OTEL_TRACES_SAMPLER", "always_off") };
    assert!(sampler_from_env().unwrap().is_some());

    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    p.trace("wf")
        .in_scope(|| agent_trace::custom_span("x").end());
    assert!(spans.spans().is_empty());
    assert_eq!(p.sampling_stats().traces_not_sampled, 1);

    let in_code = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .sampler(AlwaysOn)
        .with_processor(in_code.clone())
        .build();
    p.trace("wf")
        .in_scope(|| agent_trace::custom_span("x").end());
    assert_eq!(in_code.spans().len(), 1);
}

//! OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0: traces started
//! here are dropped, continued ones follow the caller's flag. Alone in its binary.

use agent_trace::testing::CollectingProcessor;
use agent_trace::{Context, TracerProvider};

#[test]
fn parent_based_ratio_from_the_environment() {
    // SAFETY: this binary has one test, which sets the variables before any thread reads them.
    unsafe {
        std::env::set_var("OTEL_TRACES_SAMPLER", "parentbased_traceidratio");
        std::env::set_var("OTEL_TRACES_SAMPLER_ARG", "0");
    }
    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    for _ in 0..50 {
        p.trace("local")
            .in_scope(|| agent_trace::custom_span("local").end());
    }
    for (flags, name) in [("01", "kept"), ("00", "dropped")] {
        let header = format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}");
        Context::from_traceparent(&p, &header)
            .unwrap()
            .run(|| agent_trace::custom_span(name).end());
    }
    let names: Vec<String> = spans
        .spans()
        .iter()
        .map(|s| s.data.name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["kept"]);
    let s = p.sampling_stats();
    assert_eq!((s.traces_sampled, s.traces_not_sampled), (1, 51));
}

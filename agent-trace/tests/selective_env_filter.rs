//! AGENT_TRACE_SPAN_FILTER: ordered `+`/`-` name rules, first match wins; a malformed value is
//! reported and ignored. Alone in its binary.

use agent_trace::sampling::span_filter_from_env;
use agent_trace::testing::CollectingProcessor;
use agent_trace::{SpanData, TracerProvider};

#[test]
fn name_rules_from_the_environment() {
    // SAFETY: this binary has one test, which sets the variable before any thread reads it.
    unsafe { std::env::set_var("AGENT_TRACE_SPAN_FILTER", "+search_docs,-search_*") };
    let f = span_filter_from_env().unwrap().unwrap();
    assert!(f.keeps(&SpanData::custom("search_docs")));
    assert!(!f.keeps(&SpanData::custom("search_web")));

    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    p.trace("wf").in_scope(|| {
        agent_trace::function_span("search_web").end();
        agent_trace::function_span("search_docs").end();
        agent_trace::function_span("lookup").end();
    });
    let names: Vec<String> = spans
        .spans()
        .iter()
        .map(|s| s.data.name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["search_docs", "lookup"]);

    // SAFETY: as above; no other thread of this test reads the environment.
    unsafe { std::env::set_var("AGENT_TRACE_SPAN_FILTER", "search_*") };
    assert!(span_filter_from_env().is_err());
    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    p.trace("wf")
        .in_scope(|| agent_trace::function_span("search_web").end());
    assert_eq!(spans.spans().len(), 1, "a malformed variable is ignored");
}

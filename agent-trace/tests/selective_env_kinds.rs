//! AGENT_TRACE_SPAN_KINDS replaces the kinds the code switched off (an operator's switch
//! without a rebuild); the code's name rules stay. Alone in its binary.

use agent_trace::sampling::SpanFilter;
use agent_trace::testing::CollectingProcessor;
use agent_trace::{SpanKind, TracerProvider};

#[test]
fn kinds_from_the_environment_win_over_the_code() {
    // SAFETY: this binary has one test, which sets the variable before any thread reads it.
    unsafe { std::env::set_var("AGENT_TRACE_SPAN_KINDS", "-function, -handoff") };
    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .span_filter(
            SpanFilter::new()
                .drop_kind(SpanKind::Custom)
                .drop_name("noisy"),
        )
        .with_processor(spans.clone())
        .build();
    p.trace("wf").in_scope(|| {
        agent_trace::custom_span("custom").in_scope(|| {
            agent_trace::function_span("tool").in_scope(|| agent_trace::agent_span("agent").end());
            agent_trace::agent_span("noisy").end();
        })
    });
    let spans = spans.spans();
    let names: Vec<&str> = spans.iter().map(|s| s.data.name().unwrap()).collect();
    assert_eq!(names, ["agent", "custom"]);
    assert_eq!(spans[0].parent_id, Some(spans[1].id));
    assert_eq!(p.sampling_stats().spans_filtered, 2);
}

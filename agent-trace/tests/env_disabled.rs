//! AGENT_TRACE_DISABLED switches tracing off for the whole process (read once, so this test
//! lives alone in its binary and sets the variable before anything reads it).

mod common;

#[test]
fn env_var_disables_everything() {
    // SAFETY: single-threaded at this point: this binary has one test and it sets the
    // variable first.
    unsafe { std::env::set_var("AGENT_TRACE_DISABLED", "true") };
    let (provider, seen) = common::collecting();
    assert!(!agent_trace::is_enabled());
    let n = provider
        .trace("wf")
        .in_scope(|| agent_trace::custom_span("x").in_scope(|| 3));
    assert_eq!(n, 3);
    assert!(seen.spans().is_empty());
    assert!(seen.traces().is_empty());
    agent_trace::set_enabled(true);
    provider
        .trace("wf")
        .in_scope(|| agent_trace::custom_span("y").end());
    assert_eq!(seen.spans().len(), 1);
}

//! Selective tracing: span kinds and name patterns switched off in code; a dropped span's
//! children attach to the nearest kept ancestor, and every drop is counted.

mod common;

use agent_trace::sampling::SpanFilter;
use agent_trace::testing::CollectingProcessor;
use agent_trace::{traced, Instrument, SpanKind, TracerProvider};
use common::{assert_parent, by_name};

fn provider(filter: SpanFilter) -> (TracerProvider, CollectingProcessor) {
    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .span_filter(filter)
        .with_processor(spans.clone())
        .build();
    (p, spans)
}

#[test]
fn a_dropped_kind_hands_its_children_to_the_nearest_kept_ancestor() {
    let (p, spans) = provider(SpanFilter::new().drop_kind(SpanKind::Function));
    p.trace("wf").in_scope(|| {
        agent_trace::agent_span("agent").in_scope(|| {
            let tool = agent_trace::function_span("tool");
            assert!(!tool.is_recording());
            tool.in_scope(|| {
                agent_trace::function_span("nested-tool").in_scope(|| {
                    agent_trace::custom_span("leaf").end();
                })
            });
        });
        agent_trace::function_span("root-tool").in_scope(|| agent_trace::custom_span("top").end());
    });
    let got = by_name(&spans.spans());
    assert_eq!(got.len(), 3, "{:?}", got.keys());
    assert_parent(&got, "agent", None);
    assert_parent(&got, "leaf", Some("agent"));
    assert_parent(&got, "top", None);
    assert_eq!(p.sampling_stats().spans_filtered, 3);
}

#[traced(kind = "function")]
async fn search_web() -> u32 {
    inner_step().await
}

#[traced(kind = "custom", name = "step")]
async fn inner_step() -> u32 {
    7
}

#[tokio::test(flavor = "current_thread")]
async fn name_patterns_work_across_await_and_with_traced() {
    let (p, spans) = provider(SpanFilter::new().drop_name("search_*"));
    let n = p
        .trace("wf")
        .run(async {
            async { search_web().await }
                .in_span(agent_trace::agent_span("agent"))
                .await
        })
        .await;
    assert_eq!(n, 7);
    let got = by_name(&spans.spans());
    assert_eq!(got.len(), 2, "{:?}", got.keys());
    assert_parent(&got, "step", Some("agent"));
    assert_eq!(p.sampling_stats().spans_filtered, 1);
}

#[test]
fn only_kinds_with_a_name_exception() {
    let (p, spans) = provider(
        SpanFilter::new()
            .only_kinds([SpanKind::Agent, SpanKind::Generation])
            .keep_name("important"),
    );
    p.trace("wf").in_scope(|| {
        agent_trace::agent_span("agent").in_scope(|| {
            agent_trace::custom_span("noise").in_scope(|| {
                agent_trace::generation_span().end();
                agent_trace::custom_span("important").end();
            });
        });
    });
    let spans = spans.spans();
    let kinds: Vec<SpanKind> = spans.iter().map(|s| s.data.kind()).collect();
    assert_eq!(
        kinds,
        [SpanKind::Generation, SpanKind::Custom, SpanKind::Agent]
    );
    let agent = spans[2].id;
    assert!(spans[..2].iter().all(|s| s.parent_id == Some(agent)));
    assert_eq!(p.sampling_stats().spans_filtered, 1);
}

#[test]
fn a_filter_that_keeps_everything_changes_nothing() {
    let (p, spans) = provider(SpanFilter::new().keep_name("*"));
    p.trace("wf").in_scope(|| {
        agent_trace::function_span("f").in_scope(|| agent_trace::custom_span("c").end())
    });
    let got = by_name(&spans.spans());
    assert_parent(&got, "c", Some("f"));
    assert_eq!(p.sampling_stats().spans_filtered, 0);
}

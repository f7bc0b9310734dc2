//! Head sampling through the public API: each sampler's decisions, the sampled bit in the
//! context and in an outgoing `traceparent`, and the counts in `sampling_stats`.

use agent_trace::sampling::{
    AlwaysOff, AlwaysOn, ParentBased, PriorityRule, PrioritySampler, Sampler, SamplingParams,
    TraceIdRatio,
};
use agent_trace::testing::CollectingProcessor;
use agent_trace::{Context, Instrument, SpanId, TraceId, TracerProvider};

fn provider(sampler: impl Sampler) -> (TracerProvider, CollectingProcessor) {
    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .sampler(sampler)
        .with_processor(spans.clone())
        .build();
    (p, spans)
}

/// Fixed, well-spread trace ids (a multiplicative sequence), so the test is deterministic.
fn ids(n: u64) -> Vec<TraceId> {
    (1..=n)
        .map(|i| {
            let lo = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            TraceId::from_u128(((i as u128) << 64) | lo as u128).unwrap()
        })
        .collect()
}

#[test]
fn always_off_records_nothing_and_propagates_not_sampled() {
    let (p, spans) = provider(AlwaysOff);
    let header = p.trace("wf").in_scope(|| {
        assert_eq!(agent_trace::current_sampled(), Some(false));
        let cx = Context::current();
        assert!(!cx.is_sampled());
        assert!(cx.trace_id().is_some());
        let outer = agent_trace::custom_span("outer");
        assert!(!outer.is_recording());
        outer.in_scope(|| {
            let inner = agent_trace::custom_span("inner");
            assert!(!inner.is_recording());
            inner.end();
            Context::current().traceparent()
        })
    });
    let header = header.expect("an unsampled trace still has a traceparent");
    assert!(header.ends_with("-00"), "{header}");
    assert!(spans.spans().is_empty());
    assert!(spans.traces().is_empty());
    assert!(spans.started_traces().is_empty());
    let s = p.sampling_stats();
    assert_eq!((s.traces_sampled, s.traces_not_sampled), (0, 1));
}

#[test]
fn always_on_records_and_propagates_sampled() {
    let (p, spans) = provider(AlwaysOn);
    let header = p.trace("wf").in_scope(|| {
        assert_eq!(agent_trace::current_sampled(), Some(true));
        agent_trace::custom_span("x").in_scope(|| Context::current().traceparent())
    });
    assert!(header.unwrap().ends_with("-01"));
    assert_eq!(spans.spans().len(), 1);
    assert_eq!(p.sampling_stats().traces_sampled, 1);
    assert_eq!(agent_trace::current_sampled(), None);
}

#[tokio::test(flavor = "current_thread")]
async fn unsampled_async_trace_spans_are_no_ops() {
    let (p, spans) = provider(AlwaysOff);
    let n = p
        .trace("wf")
        .run(async {
            async {
                assert!(!agent_trace::current_span().is_recording());
                async { 2 }.in_span(agent_trace::function_span("f")).await
            }
            .in_span(agent_trace::agent_span("a"))
            .await
        })
        .await;
    assert_eq!(n, 2);
    assert!(spans.spans().is_empty());
}

#[test]
fn trace_id_ratio_is_deterministic_across_providers_and_close_to_the_ratio() {
    let (a, a_spans) = provider(TraceIdRatio::new(0.25));
    let (b, b_spans) = provider(TraceIdRatio::new(0.25));
    for id in ids(4_000) {
        for p in [&a, &b] {
            p.trace("wf")
                .trace_id(id)
                .in_scope(|| agent_trace::custom_span("x").end());
        }
    }
    let kept = |c: &CollectingProcessor| {
        let mut v: Vec<TraceId> = c.traces().iter().map(|t| t.id).collect();
        v.sort();
        v
    };
    let (ka, kb) = (kept(&a_spans), kept(&b_spans));
    assert_eq!(ka, kb, "both services keep the same traces");
    assert!((800..1_200).contains(&ka.len()), "kept {}", ka.len());
    assert_eq!(a_spans.spans().len(), ka.len());
    let s = a.sampling_stats();
    assert_eq!(s.traces_sampled as usize, ka.len());
    assert_eq!(s.traces_sampled + s.traces_not_sampled, 4_000);
    // The same ids, asked directly.
    let direct = ids(4_000)
        .into_iter()
        .filter(|id| TraceIdRatio::new(0.25).should_sample(&SamplingParams::root(*id, "wf", None)))
        .count();
    assert_eq!(direct, ka.len());
}

#[test]
fn parent_based_follows_a_remote_flag_and_uses_its_root_otherwise() {
    let (p, spans) = provider(ParentBased::new(AlwaysOff));
    let sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let not_sampled = "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

    let cx = Context::from_traceparent(&p, sampled).unwrap();
    assert!(cx.is_sampled());
    let out = cx.run(|| {
        agent_trace::custom_span("remote-child").in_scope(|| Context::current().traceparent())
    });
    assert!(out.unwrap().ends_with("-01"));

    let cx = Context::from_traceparent(&p, not_sampled).unwrap();
    assert!(!cx.is_sampled());
    assert_eq!(cx.traceparent().unwrap(), not_sampled);
    cx.run(|| agent_trace::custom_span("dropped").end());

    // A trace started here asks the root sampler (off)...
    p.trace("local")
        .in_scope(|| agent_trace::custom_span("local").end());
    // ...unless it continues a sampled caller.
    p.trace("continued")
        .trace_id(TraceId::random())
        .parent_sampled(true)
        .in_scope(|| agent_trace::custom_span("continued").end());

    let names: Vec<String> = spans
        .spans()
        .iter()
        .map(|s| s.data.name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["remote-child", "continued"]);
    let s = p.sampling_stats();
    assert_eq!((s.traces_sampled, s.traces_not_sampled), (2, 2));
}

#[test]
fn the_default_follows_a_not_sampled_caller() {
    let spans = CollectingProcessor::new();
    let p = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    let id = TraceId::random();
    Context::remote_sampled(&p, id, SpanId::from_u64(7), false)
        .run(|| agent_trace::custom_span("no").end());
    Context::remote(&p, id, SpanId::from_u64(7)).run(|| agent_trace::custom_span("yes").end());
    assert_eq!(spans.spans().len(), 1);
    assert_eq!(spans.spans()[0].parent_id, SpanId::from_u64(7));
}

#[test]
fn priority_rules_on_metadata_override_the_fallback() {
    let (p, spans) = provider(
        PrioritySampler::new(TraceIdRatio::new(0.0))
            .rule(PriorityRule::metadata("priority", "high"))
            .rule(PriorityRule::metadata("priority", "low").keep_ratio(0.0))
            // A span condition cannot be judged at trace start: skipped by the head sampler.
            .rule(PriorityRule::span(None, Some("*"))),
    );
    for priority in ["high", "low", "normal", "high"] {
        p.trace(priority)
            .metadata("priority", priority)
            .in_scope(|| agent_trace::custom_span(priority).end());
    }
    let kept: Vec<String> = spans
        .traces()
        .iter()
        .map(|t| t.workflow_name.to_string())
        .collect();
    assert_eq!(kept, ["high", "high"]);
    assert_eq!(p.sampling_stats().traces_not_sampled, 2);
}

#[derive(Debug)]
struct Panicking;

impl Sampler for Panicking {
    fn should_sample(&self, _: &SamplingParams<'_>) -> bool {
        panic!("sampler bug")
    }
}

#[test]
fn a_panicking_sampler_samples_and_does_not_take_the_app_down() {
    let (p, spans) = provider(Panicking);
    p.trace("wf")
        .in_scope(|| agent_trace::custom_span("x").end());
    assert_eq!(spans.spans().len(), 1);
}

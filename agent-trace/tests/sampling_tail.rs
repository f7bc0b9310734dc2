//! Tail sampling: whole traces kept or dropped by rules once they end, bounded memory, and
//! exact accounting (`spans_received = spans_kept + spans_dropped + spans_held`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use agent_trace::sampling::{PriorityRule, TailPolicy, TailSampler, TailStats};
use agent_trace::testing::CollectingProcessor;
use agent_trace::{
    Record, SpanData, SpanError, SpanKind, SpanRecord, Timestamp, TraceRecord, TracerProvider,
    TracingProcessor, Usage,
};

type Tail = Arc<TailSampler<CollectingProcessor>>;

fn setup(policy: TailPolicy) -> (TracerProvider, Tail, CollectingProcessor) {
    let out = CollectingProcessor::new();
    let tail = Arc::new(TailSampler::new(out.clone(), policy));
    let p = TracerProvider::builder()
        .with_shared_processor(tail.clone())
        .build();
    (p, tail, out)
}

fn balanced(s: &TailStats) {
    assert_eq!(
        s.spans_received,
        s.spans_kept + s.spans_dropped + s.spans_held,
        "{s:?}"
    );
    assert_eq!(
        s.traces_kept,
        s.kept_error
            + s.kept_guardrail
            + s.kept_duration
            + s.kept_tokens
            + s.kept_priority
            + s.kept_ratio,
        "{s:?}"
    );
}

fn guardrail(triggered: bool) -> agent_trace::Span {
    let mut data = SpanData::empty(SpanKind::Guardrail);
    if let SpanData::Guardrail(g) = &mut data {
        g.name = "pii".into();
        g.triggered = triggered;
    }
    agent_trace::Span::new(data)
}

fn workflows(out: &CollectingProcessor) -> Vec<String> {
    out.traces()
        .iter()
        .map(|t| t.workflow_name.to_string())
        .collect()
}

#[test]
fn errors_guardrails_tokens_and_the_ratio_decide_whole_traces() {
    let (p, tail, out) = setup(TailPolicy::new().ratio(0.0).min_total_tokens(1_000));
    p.trace("boring").in_scope(|| {
        agent_trace::custom_span("a").in_scope(|| agent_trace::custom_span("b").end())
    });
    p.trace("failing").in_scope(|| {
        agent_trace::custom_span("ok").end();
        agent_trace::custom_span("bad").in_scope(|| {
            agent_trace::current_span().set_error(SpanError::new("boom"));
        });
    });
    p.trace("guarded").in_scope(|| {
        guardrail(true).end();
    });
    p.trace("untripped").in_scope(|| {
        guardrail(false).end();
    });
    p.trace("expensive").in_scope(|| {
        for _ in 0..2 {
            agent_trace::generation_span()
                .in_scope(|| agent_trace::current_span().record_usage(Usage::tokens(400, 200)));
        }
    });
    p.trace("cheap").in_scope(|| {
        agent_trace::generation_span()
            .in_scope(|| agent_trace::current_span().record_usage(Usage::tokens(400, 200)));
    });

    assert_eq!(workflows(&out), ["failing", "guarded", "expensive"]);
    // A kept trace arrives whole: start, every span, end.
    assert_eq!(out.started_traces().len(), 3);
    assert_eq!(out.spans().len(), 2 + 1 + 2);
    let s = tail.stats();
    assert_eq!((s.traces_kept, s.traces_dropped), (3, 3));
    assert_eq!((s.kept_error, s.kept_guardrail, s.kept_tokens), (1, 1, 1));
    assert_eq!((s.spans_kept, s.spans_dropped, s.spans_held), (5, 4, 0));
    balanced(&s);
}

#[test]
fn errors_are_not_kept_when_switched_off() {
    let (p, tail, out) = setup(TailPolicy::new().ratio(0.0).keep_errors(false));
    p.trace("failing").in_scope(|| {
        agent_trace::custom_span("bad")
            .in_scope(|| agent_trace::current_span().set_error(SpanError::new("boom")))
    });
    assert!(out.spans().is_empty());
    assert_eq!(tail.stats().traces_dropped, 1);
}

#[test]
fn ratio_one_keeps_everything_and_spans_wait_for_the_trace_end() {
    let (p, tail, out) = setup(TailPolicy::new().ratio(1.0));
    let t = p.trace("wf").start();
    t.context().run(|| agent_trace::custom_span("x").end());
    assert!(out.spans().is_empty(), "held until the trace ends");
    let s = tail.stats();
    assert_eq!((s.spans_held, s.traces_held), (1, 1));
    balanced(&s);
    t.end();
    assert_eq!(out.spans().len(), 1);
    let s = tail.stats();
    assert_eq!((s.kept_ratio, s.spans_held, s.traces_held), (1, 0, 0));
    balanced(&s);
}

/// Drives the sampler directly, with chosen timestamps (no clock in the test).
#[test]
fn duration_over_the_threshold_keeps_a_trace() {
    let out = CollectingProcessor::new();
    let tail = TailSampler::new(
        out.clone(),
        TailPolicy::new()
            .ratio(0.0)
            .min_duration(Duration::from_secs(30)),
    );
    for (name, secs) in [("slow", 60u64), ("fast", 1)] {
        let mut t = TraceRecord::new(name);
        t.started_at = Some(Timestamp::from_unix_nanos(1_000_000_000));
        tail.on_trace_start(&t);
        let mut span = SpanRecord::new(t.id, None, SpanData::custom("work"));
        tail.on_span_end_last(&mut Some(span.clone()));
        span.ended_at = Some(Timestamp::from_unix_nanos(2_000_000_000));
        t.ended_at = Some(Timestamp::from_unix_nanos(
            1_000_000_000 + secs * 1_000_000_000,
        ));
        tail.on_trace_end(&t);
    }
    assert_eq!(workflows(&out), ["slow"]);
    assert_eq!(tail.stats().kept_duration, 1);
}

#[test]
fn priority_rules_on_metadata_kind_and_name() {
    let (p, tail, out) = setup(
        TailPolicy::new()
            .ratio(1.0)
            .rule(PriorityRule::metadata("priority", "high"))
            .rule(PriorityRule::span(Some(SpanKind::Function), Some("search_*")).keep_ratio(0.0)),
    );
    p.trace("searching").in_scope(|| {
        agent_trace::function_span("search_web").end();
    });
    p.trace("searching-but-high")
        .metadata("priority", "high")
        .in_scope(|| agent_trace::function_span("search_web").end());
    p.trace("custom-search")
        .in_scope(|| agent_trace::custom_span("search_web").end()); // not a function span
    p.trace("searching-and-failing").in_scope(|| {
        agent_trace::function_span("search_web")
            .in_scope(|| agent_trace::current_span().set_error(SpanError::new("boom")));
    });
    assert_eq!(
        workflows(&out),
        [
            "searching-but-high",
            "custom-search",
            "searching-and-failing"
        ]
    );
    let s = tail.stats();
    assert_eq!((s.kept_priority, s.kept_ratio, s.kept_error), (1, 1, 1));
    assert_eq!(s.traces_dropped, 1);
    balanced(&s);
}

#[test]
fn the_span_bound_decides_a_growing_trace_early_and_its_later_spans_follow() {
    let (p, tail, out) = setup(TailPolicy::new().ratio(0.0).max_spans(3));
    p.trace("big").in_scope(|| {
        for i in 0..3 {
            agent_trace::custom_span(format!("held-{i}")).end();
        }
        let s = tail.stats();
        assert_eq!(s.spans_held, 3);
        // The fourth span overflows: the trace is decided now (dropped: nothing special yet).
        agent_trace::custom_span("overflow").end();
        let s = tail.stats();
        assert_eq!((s.decided_early, s.traces_dropped, s.spans_held), (1, 1, 0));
        // Later spans follow the decision (even this failing one: the decision was made).
        agent_trace::custom_span("late")
            .in_scope(|| agent_trace::current_span().set_error(SpanError::new("boom")));
    });
    assert!(out.spans().is_empty());
    let s = tail.stats();
    assert_eq!(
        (s.spans_received, s.spans_dropped, s.traces_held),
        (5, 5, 0)
    );
    balanced(&s);

    // A trace with an error before the overflow is kept early, and the rest flows through.
    p.trace("big-failing").in_scope(|| {
        agent_trace::custom_span("bad")
            .in_scope(|| agent_trace::current_span().set_error(SpanError::new("boom")));
        for i in 0..4 {
            agent_trace::custom_span(format!("more-{i}")).end();
        }
    });
    assert_eq!(out.spans().len(), 5);
    assert_eq!(workflows(&out), ["big-failing"]);
    let s = tail.stats();
    assert_eq!((s.decided_early, s.kept_error), (2, 1));
    balanced(&s);
}

#[test]
fn the_trace_bound_decides_new_traces_at_their_start() {
    let (p, tail, out) = setup(
        TailPolicy::new()
            .ratio(0.0)
            .max_traces(2)
            .rule(PriorityRule::metadata("priority", "high")),
    );
    let a = p.trace("a").start();
    let b = p.trace("b").start();
    let c = p.trace("c").start(); // over the bound: decided now, dropped
    let d = p.trace("d").metadata("priority", "high").start(); // over the bound: kept by rule
    for t in [&a, &b, &c, &d] {
        t.context().run(|| {
            agent_trace::custom_span("s").end();
        });
    }
    let s = tail.stats();
    assert_eq!((s.traces_held, s.spans_held, s.decided_early), (2, 2, 2));
    balanced(&s);
    for t in [a, b, c, d] {
        t.end();
    }
    assert_eq!(workflows(&out), ["d"]);
    assert_eq!(out.started_traces().len(), 1);
    assert_eq!(out.spans().len(), 1);
    let s = tail.stats();
    assert_eq!((s.traces_kept, s.traces_dropped), (1, 3));
    assert_eq!((s.spans_received, s.spans_kept, s.spans_dropped), (4, 1, 3));
    balanced(&s);
}

#[test]
fn spans_of_a_remote_trace_are_decided_one_by_one() {
    let (p, tail, out) = setup(TailPolicy::new().ratio(0.0));
    let cx = agent_trace::Context::from_traceparent(
        &p,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    .unwrap();
    cx.run(|| {
        agent_trace::custom_span("fine").end();
        agent_trace::custom_span("bad")
            .in_scope(|| agent_trace::current_span().set_error(SpanError::new("boom")));
    });
    assert_eq!(out.spans().len(), 1);
    let s = tail.stats();
    assert_eq!(
        (s.spans_without_trace, s.spans_kept, s.spans_dropped),
        (2, 1, 1)
    );
    balanced(&s);
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_decides_what_is_still_held() {
    let (p, tail, out) = setup(TailPolicy::new().ratio(1.0));
    let t = p.trace("open").start();
    t.context().run(|| agent_trace::custom_span("x").end());
    p.shutdown(Duration::from_secs(1)).await.unwrap();
    assert_eq!(out.spans().len(), 1);
    assert_eq!(out.started_traces().len(), 1);
    let s = tail.stats();
    assert_eq!((s.decided_early, s.spans_held, s.traces_held), (1, 0, 0));
    balanced(&s);
    drop(t);
}

/// Through a real pipeline: what the exporter receives is exactly what the tail sampler kept,
/// and the batch processor's books balance; the dropped spans are counted, not lost.
#[tokio::test(flavor = "current_thread")]
async fn kept_and_dropped_add_up_through_a_batch_processor() {
    let e = common::TestExporter::new("e");
    let batch = agent_trace::BatchProcessor::builder()
        .schedule_delay(Duration::from_millis(50))
        .with_exporter(e.clone())
        .build();
    let tail = Arc::new(TailSampler::new(
        batch.clone(),
        TailPolicy::new().ratio(0.3).max_spans(50),
    ));
    let p = TracerProvider::builder()
        .with_shared_processor(tail.clone())
        .build();
    for i in 0..200u32 {
        p.trace("wf").in_scope(|| {
            for j in 0..(i % 7) {
                agent_trace::custom_span("s").in_scope(|| {
                    if i % 31 == 0 && j == 0 {
                        agent_trace::current_span().set_error(SpanError::new("boom"));
                    }
                });
            }
        });
    }
    p.force_flush().await.unwrap();
    let t = tail.stats();
    balanced(&t);
    assert_eq!(t.spans_held, 0);
    assert_eq!(t.traces_kept + t.traces_dropped, 200);
    assert!(
        t.kept_error >= 1 && t.kept_ratio >= 1 && t.traces_dropped >= 1,
        "{t:?}"
    );
    let items = e.items();
    assert_eq!(common::span_count(&items) as u64, t.spans_kept);
    // Each kept trace: its record at its start and at its end.
    assert_eq!(items.len() as u64, t.spans_kept + 2 * t.traces_kept);
    let b = batch.stats();
    assert!(b.balanced(), "{b:?}");
    assert_eq!(b.enqueued, t.spans_kept + 2 * t.traces_kept);
    assert_eq!(b.dropped_queue_full + b.dropped_after_shutdown, 0);
}

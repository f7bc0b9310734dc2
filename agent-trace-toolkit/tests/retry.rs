//! `agent_trace::retry`: one span for the call, one child span per attempt, the predicate, and
//! cancellation.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agent_trace::testing::CollectingProcessor;
use agent_trace::{traced, Retry, SpanData, SpanRecord, TracerProvider};

fn data(s: &SpanRecord) -> &serde_json::Map<String, serde_json::Value> {
    match &s.data {
        SpanData::Custom(c) => &c.data,
        other => panic!("not a custom span: {other:?}"),
    }
}

#[traced(kind = "function")]
async fn web(calls: &AtomicU32) -> Result<&'static str, String> {
    match calls.fetch_add(1, Ordering::Relaxed) {
        0 | 1 => Err("timeout".into()),
        _ => Ok("page"),
    }
}

fn policy(n: u32) -> Retry {
    Retry::new(n)
        .initial_delay(Duration::from_millis(2))
        .jitter(false)
        .name("fetch")
}

#[tokio::test(flavor = "current_thread")]
async fn each_attempt_is_a_child_span_of_the_call() {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    let calls = AtomicU32::new(0);
    let out = provider
        .trace("wf")
        .run(agent_trace::retry(&policy(3), || web(&calls)))
        .await;
    assert_eq!(out, Ok("page"));
    let spans = spans.spans();
    let call = spans
        .iter()
        .find(|s| s.data.name() == Some("fetch"))
        .unwrap();
    assert_eq!(data(call)["attempts"], 3);
    assert!(call.error.is_none());
    let attempts: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.data.name() == Some("fetch attempt"))
        .collect();
    assert_eq!(attempts.len(), 3);
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.parent_id, Some(call.id));
        assert_eq!(data(a)["attempt"], i as u64 + 1);
        assert_eq!(data(a)["max_attempts"], 3);
        assert_eq!(a.error.is_some(), i < 2, "attempt {}", i + 1);
    }
    assert_eq!(data(attempts[0])["delay_ms"], 0);
    assert_eq!(data(attempts[1])["delay_ms"], 2);
    assert_eq!(
        data(attempts[2])["delay_ms"],
        4,
        "the multiplier doubles the wait"
    );
    // The tool's spans nest under their attempt.
    let tools: Vec<_> = spans
        .iter()
        .filter(|s| s.data.name() == Some("web"))
        .collect();
    assert_eq!(tools.len(), 3);
    assert!(tools
        .iter()
        .zip(&attempts)
        .all(|(t, a)| t.parent_id == Some(a.id)));
}

#[tokio::test(flavor = "current_thread")]
async fn gives_up_after_max_attempts_with_the_last_error_on_the_call() {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    let calls = AtomicU32::new(0);
    let out = provider
        .trace("wf")
        .run(agent_trace::retry(&policy(2), || web(&calls)))
        .await;
    assert_eq!(out, Err("timeout".into()));
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    let spans = spans.spans();
    let call = spans
        .iter()
        .find(|s| s.data.name() == Some("fetch"))
        .unwrap();
    assert_eq!(call.error.as_ref().unwrap().message, "timeout");
}

#[tokio::test(flavor = "current_thread")]
async fn a_non_retryable_error_stops_at_once() {
    let calls = AtomicU32::new(0);
    let out: Result<(), String> = agent_trace::retry_when(
        &policy(5),
        || {
            calls.fetch_add(1, Ordering::Relaxed);
            async { Err("401 unauthorized".to_string()) }
        },
        |e: &String| !e.starts_with('4'),
    )
    .await;
    assert!(out.is_err());
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_the_call_cancels_it() {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    let calls = AtomicU32::new(0);
    let slow = Retry::new(10).initial_delay(Duration::from_secs(3600));
    provider
        .trace("wf")
        .run(async {
            let call = agent_trace::retry(&slow, || async {
                calls.fetch_add(1, Ordering::Relaxed);
                Err::<(), _>("busy")
            });
            // The first attempt fails, then the call waits an hour: cut it short.
            let r = tokio::time::timeout(Duration::from_millis(20), call).await;
            assert!(r.is_err());
        })
        .await;
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "no attempt after the drop"
    );
    let spans = spans.spans();
    let call = spans
        .iter()
        .find(|s| s.data.name() == Some("retry"))
        .unwrap();
    assert_eq!(call.error.as_ref().unwrap().message, "cancelled");
}

//! The profiler's report from the spans of a run, per agent and overall, with overlapping runs.

use std::time::Duration;

use agent_trace::{current_span, traced, Instrument, Record, TracerProvider, Usage};
use agent_trace_toolkit::profiler::AgentProfiler;

#[traced(kind = "generation", model = "gpt-4o-mini")]
async fn model(tokens: u64) {
    current_span().record_usage(Usage::tokens(tokens, 1));
    tokio::task::yield_now().await;
}

#[traced(kind = "agent")]
async fn billing(tokens: u64) {
    model(tokens).await;
}

#[traced(kind = "agent")]
async fn triage(tokens: u64) {
    model(tokens).await;
    if tokens > 10 {
        billing(tokens).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_per_agent_and_overall() {
    let profiler = AgentProfiler::new();
    let provider = TracerProvider::builder()
        .with_processor(profiler.clone())
        .build();
    // Three requests: 4+1, 9+1, then 19+1 in triage and 19+1 in billing under it.
    let ((), report) = profiler
        .profile(async {
            for t in [4, 9, 19] {
                provider.trace("chat").run(triage(t)).await;
            }
        })
        .await;
    assert_eq!(report.overall.total_requests, 3);
    assert_eq!(report.overall.total_tokens, 5 + 10 + 40);
    assert_eq!(
        (report.overall.min_tokens, report.overall.max_tokens),
        (5, 40)
    );
    let triage = report.agent("triage").unwrap();
    assert_eq!(triage.total_requests, 3);
    assert_eq!(
        triage.max_tokens, 40,
        "an agent's tokens include nested agents'"
    );
    let billing = report.agent("billing").unwrap();
    assert_eq!((billing.total_requests, billing.total_tokens), (1, 20));
    assert!(triage.min_request_time <= triage.avg_request_time);
    assert!(triage.avg_request_time <= triage.max_request_time);
    assert_eq!(report.spans, 3 + 3 + 2);
    let table = report.to_string();
    assert!(
        table.contains("agent.triage") && table.contains("overall"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["overall"]["total_requests"], 3);
    assert_eq!(json["agents"][0]["name"], "billing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_runs_keep_their_own_spans() {
    let profiler = AgentProfiler::new();
    let provider = TracerProvider::builder()
        .with_processor(profiler.clone())
        .build();
    let run = |t: u64, n: usize| {
        let (profiler, provider) = (profiler.clone(), provider.clone());
        tokio::spawn(async move {
            profiler
                .profile(async {
                    for _ in 0..n {
                        // A task spawned inside the trace (polled on another worker,
                        // outside the profiled future) still belongs to its trace's run.
                        provider
                            .trace("chat")
                            .run(async { agent_trace::spawn(triage(t)).await.unwrap() })
                            .await;
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                })
                .await
                .1
        })
    };
    let (a, b) = tokio::join!(run(2, 5), run(7, 3));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.agent("triage").map(|m| m.total_requests), Some(5));
    assert_eq!(b.agent("triage").map(|m| m.total_requests), Some(3));
    assert_eq!(a.agent("triage").unwrap().total_tokens, 5 * 3);
    assert_eq!(b.agent("triage").unwrap().total_tokens, 3 * 8);
}

#[tokio::test(flavor = "current_thread")]
async fn a_run_inside_an_existing_trace_counts_its_top_spans_as_requests() {
    let profiler = AgentProfiler::new();
    let provider = TracerProvider::builder()
        .with_processor(profiler.clone())
        .build();
    let report = provider
        .trace("long-session")
        .run(async {
            triage(1).await; // before profiling: not counted
            let ((), inner) = profiler
                .profile(async {
                    triage(3).await;
                    triage(4).in_current_span().await;
                })
                .await;
            inner
        })
        .await;
    assert_eq!(report.overall.total_requests, 2);
    assert_eq!(report.overall.total_tokens, 4 + 5);
    assert_eq!(report.spans, 4);
}

#[tokio::test(flavor = "current_thread")]
async fn nothing_traced_gives_an_empty_report() {
    let profiler = AgentProfiler::new();
    let (v, report) = profiler.profile(async { 7 }).await;
    assert_eq!(v, 7);
    assert_eq!(report.overall.total_requests, 0);
    assert!(report.agents.is_empty());
}

//! A small simulated support workload shared by the examples: a triage agent calls a model and
//! a flaky web tool (retried), and hands billing questions to a billing agent. Latencies are
//! fake and short; there is no network.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agent_trace::{current_span, handoff_span, traced, Record, Retry, Usage};

static WEB_CALLS: AtomicU32 = AtomicU32::new(0);

#[traced(kind = "generation", model = "gpt-4o-mini")]
async fn call_model(prompt_words: u64) -> String {
    tokio::time::sleep(Duration::from_millis(15 + prompt_words)).await;
    current_span().record_usage(Usage::tokens(prompt_words * 3 + 8, 12));
    "answer".into()
}

/// Fails every other call with a timeout.
#[traced(kind = "function")]
async fn web(query: &str) -> Result<String, String> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    if WEB_CALLS.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
        Err("timeout".into())
    } else {
        Ok(format!("results for {query}"))
    }
}

#[traced(kind = "agent")]
async fn billing(question: &str) -> String {
    call_model(question.split_whitespace().count() as u64).await
}

/// One request through the triage agent.
#[traced(kind = "agent", tools = ["web"], handoffs = ["billing"])]
pub async fn triage(question: &str) -> Result<String, String> {
    let policy = Retry::new(3)
        .initial_delay(Duration::from_millis(10))
        .name("web_search");
    let _docs = agent_trace::retry(&policy, || web(question)).await?;
    let answer = call_model(question.split_whitespace().count() as u64).await;
    if question.contains("refund") {
        handoff_span("triage", "billing").end();
        return Ok(billing(question).await);
    }
    Ok(answer)
}

/// The questions the examples send.
pub const QUESTIONS: [&str; 4] = [
    "where is my refund for order 42",
    "how do I reset my password",
    "can I get a refund on my last invoice please",
    "what are your opening hours",
];

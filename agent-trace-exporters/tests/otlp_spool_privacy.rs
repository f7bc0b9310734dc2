//! What the OTLP exporter keeps off the wire stays off the disk: with sensitive data off, the
//! batch processor's spool holds no prompt, completion, tool argument or tool result, and the
//! spans replayed from it are the ones the backend would have had.

mod common;

use std::path::Path;
use std::time::Duration;

use agent_trace::{
    function_span, generation_span, BatchProcessor, BreakerPolicy, Record, RetryPolicy,
    TracerProvider,
};
use agent_trace_exporters::OtlpExporter;
use common::loopback::{closed_port, otlp_receiver};

const SECRETS: [&str; 4] = [
    "card 4111-1111",
    "the tool's secret answer",
    "my private prompt",
    "the model's private reply",
];

fn pipeline(endpoint: &str, sensitive: bool, dir: &Path) -> (TracerProvider, BatchProcessor) {
    let otlp = OtlpExporter::builder()
        .endpoint(endpoint)
        .include_sensitive_data(sensitive)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let batch = BatchProcessor::builder()
        .with_exporter(otlp)
        .spool_dir(dir)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_elapsed(Duration::from_millis(20)),
        )
        .breaker_policy(BreakerPolicy::new(2, Duration::from_millis(100)))
        .build();
    // The provider records content: what is tested here is the exporter's own switch.
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(batch.clone())
        .build();
    (provider, batch)
}

fn agent_turn(provider: &TracerProvider) {
    provider.trace("turn").in_scope(|| {
        let mut tool = function_span("lookup");
        tool.set_input(SECRETS[0]);
        tool.set_output(SECRETS[1]);
        tool.end();
        let mut llm = generation_span();
        llm.set_model("gpt-4o-mini");
        llm.set_input(SECRETS[2]);
        llm.set_output(SECRETS[3]);
        llm.end();
    });
}

/// Every byte under `dir`, as text (lossy).
fn everything_in(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text.push_str(&everything_in(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text
}

/// Spools one agent turn while the collector is down; returns what the spool holds.
async fn spooled(sensitive: bool, dir: &Path) -> String {
    let down = format!("http://127.0.0.1:{}", closed_port());
    let (provider, batch) = pipeline(&down, sensitive, dir);
    agent_turn(&provider);
    provider.force_flush().await.unwrap();
    assert_eq!(batch.stats().exporters[0].in_spool, 4);
    provider.shutdown(Duration::from_secs(5)).await.unwrap();
    everything_in(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_data_off_keeps_it_off_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let text = spooled(false, dir.path()).await;
    assert!(
        text.contains("lookup") && text.contains("gpt-4o-mini"),
        "{text}"
    );
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{secret:?} reached the spool: {text}"
        );
    }

    // Replayed by the next process: the collector gets the spans, without the data.
    let (receiver, endpoint) = otlp_receiver().await;
    let (provider, batch) = pipeline(&endpoint, false, dir.path());
    provider.force_flush().await.unwrap();
    let lane = batch.stats().exporters[0].clone();
    assert_eq!(lane.replayed, 4, "{lane:?}");
    let bodies: Vec<u8> = receiver
        .seen
        .lock()
        .unwrap()
        .iter()
        .flat_map(|s| s.body.clone())
        .collect();
    let wire = String::from_utf8_lossy(&bodies);
    assert!(wire.contains("execute_tool lookup"), "{wire}");
    for secret in SECRETS {
        assert!(!wire.contains(secret), "{secret:?} sent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_data_on_is_spooled_as_it_would_be_sent() {
    let dir = tempfile::tempdir().unwrap();
    let text = spooled(true, dir.path()).await;
    for secret in SECRETS {
        assert!(text.contains(secret), "{secret:?} missing: {text}");
    }
}

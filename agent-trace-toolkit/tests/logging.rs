//! Agent logging end to end: spans → `tracing` events → our writer (a file, text or JSON),
//! filtered hierarchically.

use std::time::Duration;

use agent_trace::{current_span, traced, Record, Retry, TracerProvider, Usage};
use agent_trace_toolkit::logging::{self, LineFormat, LogOutput, LoggingConfig, LoggingProcessor};
use tracing_subscriber::layer::SubscriberExt;

#[traced(kind = "generation", model = "gpt-4o-mini")]
async fn model() -> String {
    current_span().record_usage(Usage::tokens(12, 5));
    "ok".into()
}

#[traced(kind = "function")]
async fn web(attempt: &std::sync::atomic::AtomicU32) -> Result<(), String> {
    if attempt.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 1 {
        Err("timeout".into())
    } else {
        Ok(())
    }
}

#[traced(kind = "agent")]
async fn triage() -> Result<String, String> {
    let n = std::sync::atomic::AtomicU32::new(0);
    let policy = Retry::new(3).initial_delay(Duration::from_millis(1));
    agent_trace::retry(&policy, || web(&n)).await?;
    Ok(model().await)
}

/// Runs the quickstart-like workload with our writer to a file; returns the file's lines.
async fn run_with(config: LoggingConfig, path: &std::path::Path) -> Vec<String> {
    let (layer, guard) = logging::layer(&config).unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let _default = tracing::subscriber::set_default(subscriber);
    let provider = TracerProvider::builder()
        .with_processor(LoggingProcessor::new())
        .build();
    provider.trace("support").run(triage()).await.unwrap();
    drop(guard); // flushes the writer thread
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn text_lines_follow_the_hierarchy_and_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/agent.log");
    let config = LoggingConfig {
        filter: "warn,agent=info,models=debug,tools=warn".parse().unwrap(),
        output: LogOutput::File(path.clone()),
        format: LineFormat::text("{level} {target} - {message}").unwrap(),
        ..LoggingConfig::default()
    };
    let lines = run_with(config, &path).await;
    let find = |prefix: &str| lines.iter().find(|l| l.starts_with(prefix)).cloned();
    let agent = find("INFO  agent.triage - response generated in ").expect("agent line");
    assert!(agent.ends_with('s'), "{agent}");
    assert!(
        find("DEBUG models.gpt-4o-mini - tokens in=12 out=5 total=17").is_some(),
        "{lines:#?}"
    );
    let tool = find("WARN  tools.web - failed after ").expect("tool failure line");
    assert!(tool.ends_with(": timeout (attempt 1/3)"), "{tool}");
    // Filtered out: agent debug lines (agent=info), tools debug lines, runtime info lines.
    assert!(
        !lines.iter().any(|l| l.starts_with("DEBUG agent.")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("DEBUG tools.")),
        "{lines:#?}"
    );
    assert!(!lines
        .iter()
        .any(|l| l.contains(" runtime - ") && l.starts_with("INFO")));
}

#[tokio::test(flavor = "current_thread")]
async fn json_lines_carry_target_level_and_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.jsonl");
    let config = LoggingConfig {
        filter: "debug".parse().unwrap(),
        output: LogOutput::File(path.clone()),
        format: LineFormat::json(),
        ..LoggingConfig::default()
    };
    let lines = run_with(config, &path).await;
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let agent = events
        .iter()
        .find(|e| e["target"] == "agent.triage" && e["level"] == "INFO")
        .expect("agent event");
    assert!(agent["message"]
        .as_str()
        .unwrap()
        .starts_with("response generated in"));
    assert_eq!(agent["trace_id"].as_str().unwrap().len(), 38); // trace_ + 32 hex
    assert!(agent["span_id"].as_str().unwrap().starts_with("span_"));
    assert!(events.iter().any(|e| e["target"] == "runtime"));
}

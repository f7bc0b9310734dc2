//! A real rig agent (rig-core / rig-agent 0.44) with two tools, traced by agent-trace through
//! the `tracing` bridge alone: no agent-trace code inside the agent. The model is a local
//! OpenAI-compatible server on 127.0.0.1 with canned replies (a tool call, another tool call,
//! the answer, each with token usage); no network, no API key.
//!
//! The trace tree is printed to the terminal, written to `rig_agent.jsonl` in the working
//! directory (the OpenAI Agents SDK export format) and exported over OTLP/JSON to the same
//! local server.
//!
//! ```text
//! cargo run -p agent-trace-tracing --example rig_agent
//! ```

#[path = "support/rig_fake.rs"]
mod rig_fake;

use std::time::Duration;

use agent_trace::{BatchProcessor, TracerProvider};
use agent_trace_exporters::otlp::{OtlpExporter, Protocol};
use agent_trace_exporters::{ConsoleExporter, JsonlExporter};
use agent_trace_tracing::AgentTraceLayer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (addr, received) = rig_fake::start_server().await;

    // The pipeline: console tree, JSONL file, OTLP.
    let jsonl = JsonlExporter::new("rig_agent.jsonl")?;
    let otlp = OtlpExporter::builder()
        .endpoint(format!("http://{addr}"))
        .protocol(Protocol::HttpJson)
        .include_sensitive_data(true)
        .build()?;
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(
            BatchProcessor::builder()
                .with_exporter(ConsoleExporter::new())
                .with_exporter(jsonl)
                .with_exporter(otlp)
                .build(),
        )
        .build();

    // The bridge: a root `invoke_agent` span starts a trace. Logs go through a per-layer filter
    // so they never hide rig's spans from the bridge.
    let subscriber = tracing_subscriber::registry()
        .with(
            AgentTraceLayer::builder()
                .root_traces(true)
                .provider(&provider)
                .include_sensitive_data(true)
                .build(),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(true)
                .with_filter(tracing_subscriber::filter::LevelFilter::WARN),
        );
    tracing::subscriber::set_global_default(subscriber)?;
    agent_trace_tracing::install_diagnostics();

    let answer = rig_fake::agent(addr, rig_fake::Api::Responses)
        .prompt("What is the weather in Oslo, in Fahrenheit?")
        .max_turns(5)
        .await?;
    println!("answer: {}", answer.output());

    provider.force_flush().await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    println!(
        "model calls: {}, OTLP requests: {}; spans written to rig_agent.jsonl",
        received.model_requests.lock().unwrap().len(),
        received.otlp.lock().unwrap().len()
    );
    Ok(())
}

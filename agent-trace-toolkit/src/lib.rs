//! # agent-trace-toolkit
//!
//! The observability toolkit around agent-trace:
//!
//! - [`metrics`]: [`MetricsProcessor`](metrics::MetricsProcessor) — span counts, errors,
//!   latency histograms (p50/p95/p99) and tokens per kind, name and model; Prometheus text
//!   exposition through `prometheus-client`; a `/metrics` endpoint.
//! - [`profiler`]: [`AgentProfiler`](profiler::AgentProfiler) — profiles a future and reports
//!   requests, tokens and time per request, per agent and overall, from the spans it produced.
//! - [`logging`]: log lines for span starts and ends under `agent.<name>`, `models.<model>`,
//!   `tools.<name>`, `runtime`, as `tracing` events; our own writer (stderr or a rotated file,
//!   text or JSON) or yours.
//! - [`config`]: one TOML file with environment overrides; [`init_from_config`] builds the
//!   provider, exporters, metrics and logging from it; [`config::generate`] writes a commented
//!   file.
//!
//! Retries with a span per attempt are in the core crate: `agent_trace::retry`.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // AGENT_TRACE_CONFIG=agent-trace.toml, or defaults plus AGENT_TRACE_* variables.
//! let toolkit = agent_trace_toolkit::init()?;
//! agent_trace::trace("wf").run(async { /* traced work */ }).await;
//! toolkit.shutdown(std::time::Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]

pub mod config;
mod init;
pub mod logging;
pub mod metrics;
pub mod profiler;

pub use init::{init, init_from_config, InitError, Toolkit};

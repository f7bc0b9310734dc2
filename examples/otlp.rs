//! A simulated customer-support workflow exported over OTLP/HTTP.
//!
//! ```sh
//! # any OTLP/HTTP collector: an OpenTelemetry Collector, Jaeger, Phoenix, …
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_SERVICE_NAME=support-bot \
//!     cargo run --example otlp --features otlp
//! ```
//!
//! Honours the standard `OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME` and
//! `OTEL_RESOURCE_ATTRIBUTES` variables; without an endpoint it sends to
//! `http://127.0.0.1:4318`. Set `AGENT_TRACE_INCLUDE_SENSITIVE_DATA=true` (or
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`) to export prompts and tool
//! arguments too: the variable wins over the exporter's switch, off in code here. Prints the processor's counters and exits non-zero if anything was dropped
//! or failed. No model is called: the "model calls" are simulated.

mod support;

use std::process::ExitCode;

use agent_trace_exporters::OtlpExporter;

#[tokio::main]
async fn main() -> ExitCode {
    let mut builder = OtlpExporter::builder().from_env();
    let env_has_endpoint = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if !env_has_endpoint {
        builder = builder.endpoint("http://127.0.0.1:4318");
    }
    let exporter = match builder.include_sensitive_data(false).build() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "exporting to {} ({:?})",
        exporter.traces_url(),
        exporter.protocol()
    );
    support::run_and_report(exporter, " — is a collector listening?").await
}

//! The simulated customer-support workflow of the `otlp` example, sent to the OpenAI traces
//! dashboard (the traces-ingest endpoint the OpenAI Agents SDK uses).
//!
//! ```sh
//! OPENAI_API_KEY=sk-... cargo run --example openai --features openai
//! ```
//!
//! Reads `OPENAI_API_KEY` (required), `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID` and
//! `OPENAI_TRACES_ENDPOINT` (default `https://api.openai.com/v1/traces/ingest`; TLS is on by
//! default). Without a key it says so and exits successfully, so that running every
//! example in CI passes. No model is called: the "model calls" are simulated.

mod support;

use std::process::ExitCode;

use agent_trace_exporters::openai::OpenAiError;
use agent_trace_exporters::OpenAiExporter;

#[tokio::main]
async fn main() -> ExitCode {
    let exporter = match OpenAiExporter::builder().build() {
        Ok(e) => e,
        Err(OpenAiError::MissingApiKey) => {
            println!("{}", OpenAiError::MissingApiKey);
            println!("this example needs an OpenAI API key to send traces; skipping");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("exporting to {}", exporter.endpoint());
    let code = support::run_and_report(exporter, "").await;
    if code == ExitCode::SUCCESS {
        println!("see https://platform.openai.com/traces");
    }
    code
}

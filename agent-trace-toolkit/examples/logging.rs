//! The support workload with agent logging on: lines for span starts and ends under
//! `agent.<name>`, `models.<model>`, `tools.<name>` and `runtime`, on stderr.
//!
//! ```text
//! cargo run -p agent-trace-toolkit --example logging
//! AGENT_TRACE_LOG="debug" cargo run -p agent-trace-toolkit --example logging
//! ```

mod support;

use agent_trace::TracerProvider;
use agent_trace_toolkit::logging::{self, LoggingConfig, LoggingProcessor};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter =
        std::env::var("AGENT_TRACE_LOG").unwrap_or_else(|_| "info,models=debug,tools=warn".into());
    let config = LoggingConfig {
        filter: filter.parse()?,
        ..LoggingConfig::default()
    };
    let _guard = logging::init(&config)?;
    let provider = TracerProvider::builder()
        .with_processor(LoggingProcessor::new())
        .build();
    for q in support::QUESTIONS {
        provider
            .trace("customer-support")
            .run(support::triage(q))
            .await?;
    }
    Ok(())
}

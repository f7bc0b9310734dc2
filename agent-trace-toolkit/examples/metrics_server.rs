//! Serves span metrics on `http://127.0.0.1:9464/metrics` (or `METRICS_ADDR`) while the support
//! workload runs, scrapes itself once and prints the exposition. `METRICS_HOLD_SECS=60` keeps
//! serving afterwards, for `curl` or a Prometheus to scrape.
//!
//! ```text
//! cargo run -p agent-trace-toolkit --example metrics_server
//! ```

mod support;

use std::time::Duration;

use agent_trace::TracerProvider;
use agent_trace_toolkit::metrics::{MetricsProcessor, MetricsServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("METRICS_ADDR").unwrap_or_else(|_| "127.0.0.1:9464".into());
    let metrics = MetricsProcessor::new();
    let server = MetricsServer::bind(addr.as_str(), metrics.clone()).await?;
    eprintln!("serving http://{}/metrics", server.local_addr());
    let provider = TracerProvider::builder()
        .with_processor(metrics.clone())
        .build();
    for q in support::QUESTIONS {
        let _ = provider
            .trace("customer-support")
            .run(support::triage(q))
            .await;
    }

    let mut conn = tokio::net::TcpStream::connect(server.local_addr()).await?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut response = String::new();
    conn.read_to_string(&mut response).await?;
    println!("{response}");

    let hold: u64 = std::env::var("METRICS_HOLD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(hold)).await;
    Ok(())
}

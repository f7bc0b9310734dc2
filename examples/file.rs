//! Rotating JSONL files: a small simulated support workflow traced into `./traces/`.
//!
//! Run with `cargo run --example file`. The exporter rotates at 4 KiB so that a few runs of
//! the workflow produce several files, keeps at most 3 rotated files, and the example then
//! lists what it wrote. Each line is one trace or span in the OpenAI Agents SDK export shape;
//! read them back with `agent_trace_exporters::jsonl::read_items`.
//!
//! No network, no model: the "model calls" are simulated.

use std::path::Path;
use std::time::Duration;

use agent_trace::Record;
use agent_trace::{current_span, traced, BatchProcessor, TracerProvider, Usage};
use agent_trace_exporters::jsonl::read_items;
use agent_trace_exporters::JsonlExporter;

#[traced(kind = "agent", name = "Triage", tools = ["lookup_invoice"], handoffs = ["Billing"])]
async fn triage(question: String) -> String {
    let plan = call_model(question.clone()).await;
    let invoice = lookup_invoice(question.len() as u64).await;
    let checked = no_pii(&question);
    format!("{plan}; invoice {invoice}; pii check passed: {checked}")
}

#[traced(kind = "generation", model = "gpt-4o-mini")]
async fn call_model(prompt: String) -> String {
    tokio::time::sleep(Duration::from_millis(1)).await;
    current_span().record_usage(Usage::tokens(prompt.len() as u64, 7));
    "look up the invoice".to_owned()
}

#[traced(kind = "function")]
async fn lookup_invoice(id: u64) -> u64 {
    1_000 + id
}

#[traced(kind = "guardrail", name = "no_pii")]
fn no_pii(text: &str) -> bool {
    !text.contains('@')
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new("traces");
    let active = dir.join("example.jsonl");
    // Start from a clean slate so that the listing below shows this run only: remove what
    // earlier runs of this example wrote (and nothing else).
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("example.") && name.ends_with(".jsonl") {
                std::fs::remove_file(entry.path())?;
            }
        }
    }

    let exporter = JsonlExporter::builder(&active)
        .max_bytes(4 * 1024)
        .rotate_daily(true)
        .retention(3)
        .build()?;
    let batch = BatchProcessor::builder()
        .with_exporter(exporter)
        .schedule_delay(Duration::from_millis(20))
        .build();
    let provider = TracerProvider::builder().with_processor(batch).build();
    agent_trace::set_global_provider(&provider);

    for i in 0..12 {
        agent_trace::trace("customer-support")
            .group_id(format!("thread-{i}"))
            .run(triage(format!("where is my refund for order {i}?")))
            .await;
    }
    provider.force_flush().await?;

    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("example."))
        })
        .collect();
    files.sort();
    println!("wrote {} files in {}:", files.len(), dir.display());
    let mut total = 0;
    for path in &files {
        let (items, report) = read_items(path)?;
        total += items.len();
        println!(
            "  {:<36} {:>3} lines, {:>5} bytes{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            items.len(),
            std::fs::metadata(path)?.len(),
            if report.bad_lines > 0 {
                " (some unreadable lines)"
            } else {
                ""
            },
        );
    }
    println!("{total} lines kept (older files beyond the retention of 3 were deleted)");
    provider.shutdown(Duration::from_secs(2)).await?;
    Ok(())
}

//! A simulated multi-agent customer-support run, traced end to end.
//!
//! triage agent → guardrail → model generation → hand-off → billing agent → tool calls (one in a
//! spawned task) → model generation with token usage. Latencies are fake and fixed; there is no
//! network and no API key. The trace tree is printed to the terminal and written to
//! `traces.jsonl` (the OpenAI Agents SDK export format).
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::time::Duration;

use agent_trace::Record;
use agent_trace::{current_span, traced, BatchProcessor, Instrument, TracerProvider, Usage};
use agent_trace_exporters::{ConsoleExporter, JsonlExporter};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Message {
    role: &'static str,
    content: String,
}

fn msg(role: &'static str, content: impl Into<String>) -> Message {
    Message {
        role,
        content: content.into(),
    }
}

#[derive(Debug, Serialize)]
struct Invoice {
    id: u64,
    amount_cents: u64,
    paid: bool,
}

#[derive(Debug, thiserror::Error)]
enum SupportError {
    #[error("invoice {0} not found")]
    NotFound(u64),
}

/// A fake model: fixed latency, token counts derived from the text.
#[traced(
    kind = "generation",
    model = "gpt-4o-mini",
    input,
    output,
    skip(answer)
)]
async fn call_model(messages: &[Message], answer: &str) -> Vec<Message> {
    tokio::time::sleep(Duration::from_millis(40)).await;
    let input_tokens = messages
        .iter()
        .map(|m| m.content.split_whitespace().count() as u64 + 4)
        .sum();
    current_span().record_usage(Usage::tokens(
        input_tokens,
        answer.split_whitespace().count() as u64,
    ));
    vec![msg("assistant", answer)]
}

#[traced(kind = "guardrail", name = "no_pii")]
async fn no_pii(text: &str) -> bool {
    tokio::time::sleep(Duration::from_millis(3)).await;
    text.contains('@') // "triggered" when the question carries an e-mail address
}

#[traced(kind = "function")]
async fn lookup_invoice(customer: &str, invoice_id: u64) -> Result<Invoice, SupportError> {
    tokio::time::sleep(Duration::from_millis(12)).await;
    if customer.is_empty() {
        return Err(SupportError::NotFound(invoice_id));
    }
    Ok(Invoice {
        id: invoice_id,
        amount_cents: 4_200,
        paid: true,
    })
}

#[traced(kind = "function")]
async fn order_history(customer: &str) -> Vec<&'static str> {
    tokio::time::sleep(Duration::from_millis(8)).await;
    let _ = customer;
    vec!["order-1001", "order-1002"]
}

#[traced(kind = "function")]
async fn issue_refund(invoice_id: u64, amount_cents: u64) -> Result<String, SupportError> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if invoice_id == 0 {
        return Err(SupportError::NotFound(invoice_id));
    }
    Ok(format!(
        "refund of {amount_cents} cents issued for invoice {invoice_id}"
    ))
}

#[traced(kind = "agent", tools = ["lookup_invoice", "order_history", "issue_refund"])]
async fn billing(customer: &str, question: &str) -> Result<String, SupportError> {
    // Two tool calls at once: one in a spawned task, which keeps this agent as its parent.
    let owner = customer.to_owned();
    let history = agent_trace::spawn(async move { order_history(&owner).await });
    let invoice = lookup_invoice(customer, 42).await?;
    let orders = history.await.unwrap_or_default();
    let refund = issue_refund(invoice.id, invoice.amount_cents).await?;
    // A failing lookup: recorded as an error on its span, handled here.
    let _ = lookup_invoice("", 7).await;
    let answer = format!("{refund}; your orders: {}", orders.join(", "));
    call_model(
        &[
            msg("system", "You are the billing agent."),
            msg("user", question),
        ],
        &answer,
    )
    .await;
    Ok(answer)
}

#[traced(kind = "agent", tools = ["search_docs"], handoffs = ["billing"])]
async fn triage(customer: &str, question: &str) -> Result<String, SupportError> {
    if no_pii(question).await {
        return Ok("Please remove personal data from your question.".into());
    }
    async { tokio::time::sleep(Duration::from_millis(5)).await }
        .in_span(agent_trace::custom_span("search_docs").with_attribute("query", question))
        .await;
    call_model(
        &[
            msg("system", "Route the customer to the right agent."),
            msg("user", question),
        ],
        "transfer_to_billing",
    )
    .await;
    agent_trace::handoff_span("triage", "billing").end();
    billing(customer, question).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jsonl_path = "traces.jsonl";
    let batch = BatchProcessor::builder()
        .with_exporter(ConsoleExporter::new())
        .with_exporter(JsonlExporter::new(jsonl_path)?)
        .build();
    // Content (inputs, outputs, error data) is off by default; this demo shows it.
    // AGENT_TRACE_INCLUDE_SENSITIVE_DATA=false turns it off again without a rebuild.
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(batch.clone())
        .build();
    agent_trace::set_global_provider(&provider);

    let answer = agent_trace::trace("customer-support")
        .group_id("thread-42")
        .metadata("tier", "gold")
        .run(triage("ada", "Where is my refund for invoice 42?"))
        .await?;
    println!("answer: {answer}\n");

    // Await the flush at shutdown: everything above is exported (or counted) when it returns.
    provider.force_flush().await?;
    let stats = batch.stats();
    for e in &stats.exporters {
        println!(
            "{:>8}: exported {} items, dropped {}",
            e.name, e.exported, e.dropped_export_failed
        );
    }
    println!("wrote {jsonl_path}");
    provider.shutdown(Duration::from_secs(5)).await?;
    Ok(())
}

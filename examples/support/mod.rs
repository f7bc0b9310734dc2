//! The simulated customer-support workflow shared by the `otlp` and `openai` examples, and the
//! run-and-report loop around it. No model is called: the "model calls" are simulated.

use std::process::ExitCode;
use std::time::Duration;

use agent_trace::{
    current_span, handoff_span, traced, BatchProcessor, Record, TracerProvider, TracingExporter,
    Usage,
};

#[derive(Debug)]
struct RefundError(String);

impl std::fmt::Display for RefundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RefundError {}

#[traced(kind = "agent", name = "Triage", tools = ["classify"], handoffs = ["Billing"])]
pub async fn triage(question: String) -> String {
    if !no_pii(&question) {
        return "please do not share personal data".to_owned();
    }
    let topic = call_model("gpt-4o-mini", question.clone(), 42, 6).await;
    handoff_span("Triage", "Billing").end();
    topic
}

#[traced(kind = "guardrail", name = "no_pii")]
fn no_pii(text: &str) -> bool {
    !text.contains('@')
}

#[traced(kind = "agent", name = "Billing", tools = ["lookup_invoice", "issue_refund"])]
pub async fn billing(question: String) -> String {
    let plan = call_model("gpt-4o", question, 180, 24).await;
    let invoice = lookup_invoice(1042).await;
    let refund = match issue_refund(invoice, 25_000).await {
        Ok(id) => id,
        // A refund over the limit fails (the span records the error); retry with the limit.
        Err(_) => issue_refund(invoice, 5_000).await.unwrap_or_default(),
    };
    let answer = call_model("gpt-4o", format!("{plan}; refund {refund}"), 220, 40).await;
    format!("{answer} (refund {refund})")
}

#[traced(kind = "generation")]
async fn call_model(model: &'static str, prompt: String, input: u64, output: u64) -> String {
    current_span().set_model(model);
    tokio::time::sleep(Duration::from_millis(3)).await;
    current_span().record_usage(Usage::tokens(input, output));
    format!(
        "answer to `{}`",
        prompt.chars().take(24).collect::<String>()
    )
}

#[traced(kind = "function")]
async fn lookup_invoice(order: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    order * 10
}

#[traced(kind = "function")]
async fn issue_refund(invoice: u64, cents: u64) -> Result<String, RefundError> {
    if cents > 10_000 {
        return Err(RefundError(format!(
            "refund of {cents} cents exceeds the limit"
        )));
    }
    Ok(format!("rf_{invoice}_{cents}"))
}

/// Runs the workflow twice with `exporter` behind a batch processor, prints the counters, and
/// fails unless every item was exported. `hint` is added to the failure message.
pub async fn run_and_report(exporter: impl TracingExporter, hint: &str) -> ExitCode {
    let batch = BatchProcessor::builder()
        .with_exporter(exporter)
        .schedule_delay(Duration::from_millis(200))
        .build();
    // The provider records content (off by default); each exporter may still leave it out.
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(batch.clone())
        .build();
    agent_trace::set_global_provider(&provider);

    for (i, question) in ["where is my refund?", "I was charged twice"]
        .into_iter()
        .enumerate()
    {
        let answer = agent_trace::trace("customer-support")
            .group_id(format!("thread-{i}"))
            .metadata("channel", "chat")
            .run(async {
                let topic = triage(question.to_owned()).await;
                billing(format!("{question} ({topic})")).await
            })
            .await;
        println!("{question} -> {answer}");
    }

    let flushed = provider.force_flush().await;
    let stats = batch.stats();
    println!("{stats:#?}");
    let _ = provider.shutdown(Duration::from_secs(5)).await;
    let exporter = stats.exporters.first();
    let failed = exporter.map_or(0, |e| e.dropped_export_failed + e.in_spool + e.in_flight);
    let exported = exporter.map_or(0, |e| e.exported);
    if let Err(e) = flushed {
        eprintln!("error: flush failed: {e}");
        return ExitCode::FAILURE;
    }
    if stats.dropped_queue_full > 0 || failed > 0 || exported != stats.enqueued {
        eprintln!(
            "error: {exported} of {} items exported ({} dropped at the queue, {failed} failed){hint}",
            stats.enqueued, stats.dropped_queue_full
        );
        return ExitCode::FAILURE;
    }
    println!("exported {exported} items");
    ExitCode::SUCCESS
}

//! Shared by the behaviour tests: the binary, fixtures, and a writer of our own fixture through
//! the real `JsonlExporter`.
#![allow(dead_code)] // each test file uses a part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use agent_trace::{
    agent_span, current_span, custom_span, function_span, generation_span, guardrail_span,
    handoff_span, BatchProcessor, Instrument, Record, SpanError, TracerProvider, Usage,
};
use agent_trace_exporters::JsonlExporter;

/// The binary under test.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agent-trace"));
    c.env_remove("NO_COLOR").env("COLUMNS", "100");
    c
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .expect("the agent-trace binary runs")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fixture file in tests/fixtures.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The OpenAI Agents SDK's export sample.
pub fn sdk() -> String {
    fixture("openai-agents-export-sample.jsonl")
}

/// Our exporter's fixture (baseline runs).
pub fn ours() -> String {
    fixture("ours-baseline.jsonl")
}

/// Our exporter's fixture (candidate runs: slower refunds, more errors, more tokens).
pub fn ours_candidate() -> String {
    fixture("ours-candidate.jsonl")
}

/// How the simulated support workflow behaves.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// Runs (traces).
    pub runs: u32,
    /// Milliseconds the refund tool takes.
    pub refund_ms: u64,
    /// Runs (by index) whose refund fails.
    pub refund_fails: &'static [u32],
    /// Extra completion tokens per model call.
    pub extra_tokens: u64,
}

/// The baseline.
pub const BASELINE: Variant = Variant {
    runs: 3,
    refund_ms: 6,
    refund_fails: &[1],
    extra_tokens: 0,
};

/// The candidate.
pub const CANDIDATE: Variant = Variant {
    runs: 3,
    refund_ms: 30,
    refund_fails: &[0, 1, 2],
    extra_tokens: 40,
};

async fn sleep(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn model(name: &'static str, input: u64, output: u64, ms: u64) {
    async move {
        current_span().set_model_config("temperature", &0.2);
        sleep(ms).await;
        current_span().record_usage(Usage::tokens(input, output));
    }
    .in_span(generation_span().with_model(name))
    .await
}

async fn tool(name: &'static str, ms: u64, fail: Option<&'static str>) {
    async move {
        current_span().set_input(&serde_json::json!({"order": 42}));
        sleep(ms).await;
        match fail {
            Some(m) => current_span()
                .set_error(SpanError::new(m).with_data(serde_json::json!({"error": "upstream"}))),
            None => current_span().set_output(&serde_json::json!({"ok": true})),
        }
    }
    .in_span(function_span(name))
    .await
}

async fn run_once(i: u32, v: Variant) {
    // Triage: a model call, a retrieval with two tool calls in parallel, a guardrail, a handoff.
    async {
        model(
            "gpt-4o-mini",
            120 + u64::from(i) * 10,
            18 + v.extra_tokens,
            8,
        )
        .await;
        async {
            tokio::join!(tool("search_docs", 5, None), tool("lookup_order", 9, None));
        }
        .in_span(custom_span("retrieve"))
        .await;
        guardrail_span("no_pii").in_scope(|| current_span().set_output(&false));
        handoff_span("Triage", "Billing").in_scope(|| ());
    }
    .in_span(agent_span("Triage").with_tools(&["search_docs", "lookup_order"]))
    .await;
    // Billing: a model call, the refund tool, a final model call.
    async {
        model("gpt-4o", 300, 40 + v.extra_tokens, 12).await;
        let fails = v.refund_fails.contains(&i);
        tool(
            "refund",
            v.refund_ms,
            fails.then_some("refund service timed out"),
        )
        .await;
        model("gpt-4o", 380, 25 + v.extra_tokens, 6).await;
    }
    .in_span(agent_span("Billing").with_tools(&["refund"]))
    .await;
}

/// Writes `v.runs` traces of the simulated support workflow to `path` through the real
/// `JsonlExporter` and batch pipeline.
pub fn write_runs(path: &Path, v: Variant) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let exporter = JsonlExporter::new(path).unwrap();
        let batch = BatchProcessor::builder().with_exporter(exporter).build();
        let provider = TracerProvider::builder().with_processor(batch).build();
        for i in 0..v.runs {
            provider
                .trace("customer-support")
                .group_id(format!("conversation-{}", i % 2))
                .metadata("run", i)
                .run(run_once(i, v))
                .await;
        }
        provider.force_flush().await.unwrap();
        provider.shutdown(Duration::from_secs(5)).await.unwrap();
    });
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A path in `dir`.
pub fn at(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

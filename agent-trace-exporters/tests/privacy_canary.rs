//! The provider's privacy settings hold for every byte any exporter writes: canary secrets
//! placed in inputs, outputs, trace metadata, error messages, error data and nested JSON never
//! reach the console (tree and JSON lines), the JSONL file, the OTLP collector (a real
//! 127.0.0.1 receiver, protobuf and JSON) or the batch processor's on-disk spool.

mod common;

use std::path::Path;
use std::time::Duration;

use agent_trace::privacy::Redactor;
use agent_trace::{
    custom_span, generation_span, traced, BatchProcessor, BreakerPolicy, Record, RetryPolicy,
    SpanError, TracerProvider,
};
use agent_trace_exporters::console::ConsoleFormat;
use agent_trace_exporters::otlp::Protocol;
use agent_trace_exporters::{ConsoleExporter, JsonlExporter, OtlpExporter};
use common::loopback::{closed_port, otlp_receiver};
use common::SharedBuf;
use serde_json::json;

/// Every canary holds this; no exporter may write it.
const MARK: &str = "CANARY";

const OPENAI: &str = "sk-proj-CANARYc4n4ry0123456789xyz";
const ANTHROPIC: &str = "sk-ant-api03-CANARYc4n4ry0123456789";
const GOOGLE: &str = "AIzaSyCANARY0123456789abcdefghijklmnopq";
const AWS: &str = "AKIACANARY0123456789";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJCANARYpayload.c2ln";
const BEARER: &str = "Bearer CANARYbearer0123456789";
const PEM: &str =
    "-----BEGIN RSA PRIVATE KEY-----\nCANARYpemBody0123\n-----END RSA PRIVATE KEY-----";

/// An error whose message is harmless and whose `Debug` form (the captured error data) holds a
/// canary.
#[derive(Debug)]
struct ToolError {
    #[allow(dead_code)]
    key: String,
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the tool failed")
    }
}

/// A tool whose argument and error data carry canaries, through `#[traced]`'s captures.
#[traced]
fn lookup(question: &str, api_key: &str) -> Result<String, ToolError> {
    let _ = question;
    Err(ToolError {
        key: api_key.to_owned(),
    })
}

/// A tool whose output carries a canary.
#[traced]
fn fetch_token() -> String {
    format!("token {JWT}")
}

/// Where the canaries go. `everywhere`: also in the error message and trace metadata, which a
/// provider without content still records (only redaction keeps them out).
fn agent_turn(provider: &TracerProvider, everywhere: bool) {
    let mut trace = provider.trace("canary-turn");
    if everywhere {
        trace = trace.group_id(format!("session {OPENAI}")).metadata(
            "auth",
            json!({"headers": [{"authorization": BEARER}], "aws": {"key": AWS}}),
        );
    }
    trace.in_scope(|| {
        let _ = lookup("what is my balance?", ANTHROPIC);
        let _ = fetch_token();
        let mut llm = generation_span();
        llm.set_model("gpt-4o-mini");
        llm.set_input(&json!([
            {"role": "system", "content": [{"type": "text", "text": format!("use {GOOGLE}")}]},
            {"role": "user", "content": "hello"},
        ]));
        llm.set_output(&format!("here is a key: {PEM}"));
        llm.end();
        let mut step = custom_span("step");
        step.set_input(&json!({"deep": {"list": [[{"secret": OPENAI}]]}}));
        step.set_output(&json!({"out": [AWS]}));
        let message = if everywhere {
            format!("request failed with {OPENAI}")
        } else {
            "request failed".to_owned()
        };
        step.set_error(SpanError::new(message).with_data(json!({"sent": {"key": ANTHROPIC}})));
        step.end();
    });
}

/// Every byte under `dir` (recursively).
fn bytes_under(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(bytes_under(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Runs one agent turn through every exporter; returns what each wrote.
async fn outputs(
    configure: impl Fn(agent_trace::TracerProviderBuilder) -> agent_trace::TracerProviderBuilder,
    everywhere: bool,
) -> Vec<(&'static str, Vec<u8>)> {
    let tree = SharedBuf::default();
    let lines = SharedBuf::default();
    let jsonl_dir = tempfile::tempdir().unwrap();
    let spool_dir = tempfile::tempdir().unwrap();
    let (proto_rx, proto_url) = otlp_receiver().await;
    let (json_rx, json_url) = otlp_receiver().await;
    // Every OTLP exporter sends content it is given: the provider is what keeps it out.
    let otlp = |url: &str, protocol: Protocol| {
        OtlpExporter::builder()
            .endpoint(url)
            .protocol(protocol)
            .include_sensitive_data(true)
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap()
    };
    let live = BatchProcessor::builder()
        .with_exporter(ConsoleExporter::builder().to_writer(tree.clone()).build())
        .with_exporter(
            ConsoleExporter::builder()
                .format(ConsoleFormat::JsonLines)
                .to_writer(lines.clone())
                .build(),
        )
        .with_exporter(JsonlExporter::new(jsonl_dir.path().join("traces.jsonl")).unwrap())
        .with_exporter(otlp(&proto_url, Protocol::HttpProtobuf))
        .with_exporter(otlp(&json_url, Protocol::HttpJson))
        .build();
    let down = format!("http://127.0.0.1:{}", closed_port());
    let spooling = BatchProcessor::builder()
        .with_exporter(otlp(&down, Protocol::HttpJson))
        .spool_dir(spool_dir.path())
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_elapsed(Duration::from_millis(20)),
        )
        .breaker_policy(BreakerPolicy::new(2, Duration::from_millis(100)))
        .build();
    let provider = configure(TracerProvider::builder())
        .with_processor(live.clone())
        .with_processor(spooling.clone())
        .build();
    agent_turn(&provider, everywhere);
    provider.force_flush().await.unwrap();
    assert!(
        spooling.stats().exporters[0].in_spool > 0,
        "nothing spooled"
    );
    provider.shutdown(Duration::from_secs(5)).await.unwrap();

    let bodies = |rx: &common::loopback::Receiver| -> Vec<u8> {
        rx.seen
            .lock()
            .unwrap()
            .iter()
            .flat_map(|s| s.body.clone())
            .collect()
    };
    vec![
        ("console tree", tree.take().into_bytes()),
        ("console json lines", lines.take().into_bytes()),
        ("jsonl file", bytes_under(jsonl_dir.path())),
        ("otlp protobuf body", bodies(&proto_rx)),
        ("otlp json body", bodies(&json_rx)),
        ("spool", bytes_under(spool_dir.path())),
    ]
}

fn assert_no_canary(outputs: &[(&str, Vec<u8>)]) {
    for (what, bytes) in outputs {
        assert!(!bytes.is_empty(), "{what} wrote nothing");
        assert!(
            !contains(bytes, MARK),
            "a canary reached the {what}: {}",
            String::from_utf8_lossy(bytes)
        );
    }
}

fn text_of<'a>(outputs: &'a [(&str, Vec<u8>)], what: &str) -> std::borrow::Cow<'a, str> {
    let bytes = &outputs.iter().find(|(w, _)| *w == what).unwrap().1;
    String::from_utf8_lossy(bytes)
}

fn env_decides() -> bool {
    agent_trace::privacy::sensitive_data_from_env().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_on_with_redaction_writes_no_secret_anywhere() {
    if env_decides() {
        return; // the environment decides content here; the promise is about the code's setting
    }
    let out = outputs(
        |b| b.include_sensitive_data(true).redactor(Redactor::new()),
        true,
    )
    .await;
    assert_no_canary(&out);
    // The content was recorded and cleaned, not dropped.
    let jsonl = text_of(&out, "jsonl file");
    for marker in [
        "[REDACTED:openai_key]",
        "[REDACTED:anthropic_key]",
        "[REDACTED:google_api_key]",
        "[REDACTED:aws_access_key]",
        "[REDACTED:jwt]",
        "[REDACTED:bearer_token]",
        "[REDACTED:private_key]",
        "what is my balance?",
        "request failed with [REDACTED:openai_key]",
    ] {
        assert!(jsonl.contains(marker), "{marker} missing: {jsonl}");
    }
    let otlp = text_of(&out, "otlp json body");
    assert!(otlp.contains("[REDACTED:"), "{otlp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_off_by_default_writes_no_input_output_or_error_data() {
    if env_decides() {
        return;
    }
    let out = outputs(|b| b, false).await;
    assert_no_canary(&out);
    let jsonl = text_of(&out, "jsonl file");
    // Names, models and error messages stay; the content is gone.
    for kept in [
        "lookup",
        "fetch_token",
        "gpt-4o-mini",
        "request failed",
        "the tool failed",
    ] {
        assert!(jsonl.contains(kept), "{kept} missing: {jsonl}");
    }
    assert!(!jsonl.contains("what is my balance?"), "{jsonl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_off_with_redaction_also_cleans_messages_and_metadata() {
    if env_decides() {
        return;
    }
    let out = outputs(|b| b.redactor(Redactor::new()), true).await;
    assert_no_canary(&out);
    let jsonl = text_of(&out, "jsonl file");
    assert!(
        jsonl.contains("request failed with [REDACTED:openai_key]"),
        "{jsonl}"
    );
    assert!(jsonl.contains("[REDACTED:bearer_token]"), "{jsonl}");
}

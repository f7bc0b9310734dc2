//! End to end on a real rig agent (rig-core / rig-agent 0.44) with two tools, against a local
//! OpenAI-compatible server on 127.0.0.1 (canned: a tool call, another tool call, the answer,
//! each with usage). The layer is the only tracing code: no agent-trace code in the agent.
//! The JSONL file, the OTLP export and the console tree of the run are checked.
//!
//! Both of rig's OpenAI routes are run: the Responses API (its default) and Chat Completions.
//! Each test has its own subscriber as the default of its (current-thread) runtime's thread.

#[path = "../examples/support/rig_fake.rs"]
mod rig_fake;

use std::io::Write;
use std::sync::{Arc, Mutex};

use agent_trace::{BatchProcessor, TracerProvider};
use agent_trace_exporters::console::ColorChoice;
use agent_trace_exporters::otlp::{OtlpExporter, Protocol};
use agent_trace_exporters::{ConsoleExporter, JsonlExporter};
use agent_trace_tracing::AgentTraceLayer;
use rig_fake::Api;
use serde_json::Value;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer as _;

/// A writer the console exporter writes into and the test reads.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The value of an OTLP/JSON attribute as a string (string or int values).
fn attr(span: &Value, key: &str) -> Option<String> {
    let a = span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?;
    let v = &a["value"];
    v["stringValue"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| v["intValue"].as_str().map(str::to_owned))
        .or_else(|| v["intValue"].as_i64().map(|i| i.to_string()))
}

#[tokio::test]
async fn a_rig_agent_run_on_the_responses_api_is_one_typed_trace() {
    run_and_check(Api::Responses).await;
}

#[tokio::test]
async fn a_rig_agent_run_on_chat_completions_is_one_typed_trace() {
    run_and_check(Api::ChatCompletions).await;
}

/// Runs the agent on `api` and checks the JSONL file, the OTLP export and the console tree.
async fn run_and_check(api: Api) {
    let (addr, received) = rig_fake::start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let jsonl_path = dir.path().join("rig_agent.jsonl");
    let console = Shared::default();
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(
            BatchProcessor::builder()
                .with_exporter(
                    ConsoleExporter::builder()
                        .to_writer(console.clone())
                        .color(ColorChoice::Never)
                        .build(),
                )
                .with_exporter(JsonlExporter::new(&jsonl_path).unwrap())
                .with_exporter(
                    OtlpExporter::builder()
                        .endpoint(format!("http://{addr}"))
                        .protocol(Protocol::HttpJson)
                        .include_sensitive_data(true)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .build();
    // A user's log filter that would drop rig's chat spans (`rig::completions`,
    // `rig::agent_chat`), given per layer: the bridge still sees every span.
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        .with_filter(Targets::new().with_target("rig_agent", tracing::Level::INFO));
    let _default = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(
                AgentTraceLayer::builder()
                    .root_traces(true)
                    .provider(&provider)
                    .include_sensitive_data(true)
                    .build(),
            )
            .with(logs),
    );

    let answer = rig_fake::agent(addr, api)
        .prompt("What is the weather in Oslo, in Fahrenheit?")
        .max_turns(5)
        .await
        .unwrap();
    assert_eq!(answer.output(), "It is sunny in Oslo, 69.8°F.");
    provider.force_flush().await.unwrap();

    // The model server saw three calls, the later ones carrying the tool results.
    let requests = received.model_requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "{api:?}");
    // Each went to the route asked for (a Responses request has `input`, a Chat Completions
    // one `messages`).
    let field = match api {
        Api::Responses => "input",
        Api::ChatCompletions => "messages",
    };
    assert!(
        requests.iter().all(|r| r.get(field).is_some()),
        "{requests:#?}"
    );

    // JSONL: one trace, an agent span whose children are, in order, generation, function,
    // generation, function, generation.
    let lines: Vec<Value> = std::fs::read_to_string(&jsonl_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let spans: Vec<&Value> = lines
        .iter()
        .filter(|l| l["object"] == "trace.span")
        .collect();
    let trace_ids: std::collections::BTreeSet<&str> = spans
        .iter()
        .map(|s| s["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(trace_ids.len(), 1, "{lines:#?}");
    let trace = lines
        .iter()
        .find(|l| l["object"] == "trace")
        .expect("a trace line");
    assert_eq!(trace["workflow_name"], "weather-agent");
    let agent = spans
        .iter()
        .find(|s| s["span_data"]["type"] == "agent")
        .expect("an agent span");
    assert_eq!(agent["span_data"]["name"], "weather-agent");
    assert!(agent["parent_id"].is_null());
    let mut children: Vec<&Value> = spans
        .iter()
        .copied()
        .filter(|s| s["parent_id"] == agent["id"])
        .collect();
    children.sort_by_key(|s| s["started_at"].as_str().unwrap().to_owned());
    let kinds: Vec<&str> = children
        .iter()
        .map(|s| s["span_data"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "generation",
            "function",
            "generation",
            "function",
            "generation"
        ],
        "{lines:#?}"
    );
    assert_eq!(spans.len(), 6, "no other spans: {lines:#?}");
    let tokens: Vec<(u64, u64)> = children
        .iter()
        .filter(|s| s["span_data"]["type"] == "generation")
        .map(|g| {
            assert_eq!(g["span_data"]["model"], rig_fake::MODEL);
            let u = &g["span_data"]["usage"];
            (
                u["input_tokens"].as_u64().unwrap(),
                u["output_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tokens, [(42, 11), (63, 9), (88, 14)]);
    let tools: Vec<(&str, &str)> = children
        .iter()
        .filter(|s| s["span_data"]["type"] == "function")
        .map(|f| {
            (
                f["span_data"]["name"].as_str().unwrap(),
                f["span_data"]["input"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tools,
        [
            ("get_weather", r#"{"city":"Oslo"}"#),
            ("to_fahrenheit", r#"{"celsius":21.0}"#)
        ]
    );
    assert_eq!(children[3]["span_data"]["output"], "69.8");

    // OTLP: the same spans with the GenAI attributes.
    let otlp_spans: Vec<Value> = received
        .otlp
        .lock()
        .unwrap()
        .iter()
        .flat_map(|body| {
            body["resourceSpans"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|rs| rs["scopeSpans"].as_array().into_iter().flatten())
                .flat_map(|ss| ss["spans"].as_array().into_iter().flatten())
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    let op = |name: &str| -> Vec<&Value> {
        otlp_spans
            .iter()
            .filter(|s| attr(s, "gen_ai.operation.name").as_deref() == Some(name))
            .collect()
    };
    let agents = op("invoke_agent");
    assert_eq!(agents.len(), 1, "{otlp_spans:#?}");
    assert_eq!(
        attr(agents[0], "gen_ai.agent.name").as_deref(),
        Some("weather-agent")
    );
    let chats = op("chat");
    assert_eq!(chats.len(), 3);
    let mut input_tokens: Vec<String> = chats
        .iter()
        .map(|c| {
            assert_eq!(
                attr(c, "gen_ai.request.model").as_deref(),
                Some(rig_fake::MODEL)
            );
            attr(c, "gen_ai.usage.input_tokens").unwrap()
        })
        .collect();
    input_tokens.sort();
    assert_eq!(input_tokens, ["42", "63", "88"]);
    let mut tool_names: Vec<String> = op("execute_tool")
        .iter()
        .map(|t| attr(t, "gen_ai.tool.name").unwrap())
        .collect();
    tool_names.sort();
    assert_eq!(tool_names, ["get_weather", "to_fahrenheit"]);

    // Console: the tree.
    let tree = String::from_utf8(console.0.lock().unwrap().clone()).unwrap();
    for line in [
        "agent weather-agent",
        "generation gpt-4o-mini",
        "function get_weather",
        "function to_fahrenheit",
        "in 42 / out 11 tokens",
    ] {
        assert!(tree.contains(line), "{line:?} not in\n{tree}");
    }
}

/// A tool that fails in a real rig run: rig records `gen_ai.tool.call.outcome = "error"` and
/// `gen_ai.tool.error.type` on its `execute_tool` span, which becomes the function span's
/// error; the run goes on (the model gets the error as the tool's result).
#[tokio::test]
async fn a_failed_rig_tool_is_a_failed_function_span() {
    let (addr, _received) = rig_fake::start_server().await;
    let spans = agent_trace::testing::CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(spans.clone())
        .build();
    let _default = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(
            AgentTraceLayer::builder()
                .root_traces(true)
                .provider(&provider)
                .build(),
        ),
    );
    rig_fake::agent(addr, Api::Responses)
        .prompt(format!(
            "What is the weather in {}?",
            rig_fake::UNKNOWN_CITY
        ))
        .max_turns(5)
        .await
        .unwrap();

    let recorded = spans.spans();
    let functions: Vec<_> = recorded
        .iter()
        .filter(|s| s.data.kind() == agent_trace::SpanKind::Function)
        .collect();
    assert_eq!(functions.len(), 2, "{recorded:#?}");
    assert_eq!(functions[0].data.name(), Some("get_weather"));
    let error = functions[0]
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("the failed tool has no error: {:#?}", functions[0]));
    assert!(error.message.starts_with("error: "), "{error:?}");
    assert!(functions[1].error.is_none(), "{:#?}", functions[1]);
    // Sensitive data off (the default): no arguments or results in the spans.
    assert!(functions.iter().all(|f| matches!(
        &f.data,
        agent_trace::span_data::SpanData::Function(d) if d.input.is_none() && d.output.is_none()
    )));
}

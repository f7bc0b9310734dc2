//! A local OpenAI-compatible server with canned replies — the Responses API
//! (`POST /v1/responses`, rig 0.44's default route for OpenAI) and Chat Completions
//! (`POST /v1/chat/completions`) — an OTLP collector on the same port, and a rig agent with two
//! tools. Shared by the `rig_agent` example and the end-to-end test.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::routing::post;
use rig_agent::prelude::{Agent, AgentBuilder, DynModel};
use rig_core::operation::Completion;
use rig_core::providers::openai::OpenAIConfig;
use rig_core::tool::PortableTool;
use serde::Deserialize;
use serde_json::{json, Value};

/// The model the agent asks for.
pub const MODEL: &str = "gpt-4o-mini";

/// Which OpenAI API the agent's model calls.
#[derive(Debug, Clone, Copy)]
pub enum Api {
    /// `POST /v1/responses` (rig's default for OpenAI).
    Responses,
    /// `POST /v1/chat/completions`.
    ChatCompletions,
}

/// What the local server received.
#[derive(Clone, Default)]
pub struct Received {
    /// Bodies of `POST /v1/responses`, in order.
    pub model_requests: Arc<Mutex<Vec<Value>>>,
    /// Bodies of `POST /v1/traces` (OTLP/JSON), in order.
    pub otlp: Arc<Mutex<Vec<Value>>>,
}

/// A city [`GetWeather`] fails for; a prompt naming it gets a lookup of it.
pub const UNKNOWN_CITY: &str = "Atlantis";

/// The city the first tool call asks about: [`UNKNOWN_CITY`] when the prompt names it.
fn city_of(request: &Value) -> &'static str {
    if request.to_string().contains(UNKNOWN_CITY) {
        UNKNOWN_CITY
    } else {
        "Oslo"
    }
}

/// The canned reply to the n-th model call of a run, told by how many tool results the
/// request carries: a weather lookup, then a unit conversion, then the answer.
fn reply(tool_results: usize, city: &str) -> Value {
    let (output, usage) = match tool_results {
        0 => (
            json!([{
                "type": "function_call", "id": "fc_1", "call_id": "call_weather",
                "name": "get_weather", "arguments": json!({"city": city}).to_string(),
                "status": "completed"
            }]),
            (42, 11),
        ),
        1 => (
            json!([{
                "type": "function_call", "id": "fc_2", "call_id": "call_convert",
                "name": "to_fahrenheit", "arguments": "{\"celsius\":21.0}", "status": "completed"
            }]),
            (63, 9),
        ),
        _ => (
            json!([{
                "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                "content": [{
                    "type": "output_text", "annotations": [],
                    "text": "It is sunny in Oslo, 69.8°F."
                }]
            }]),
            (88, 14),
        ),
    };
    json!({
        "id": format!("resp_{}", tool_results + 1),
        "object": "response",
        "created_at": 1_764_547_200,
        "status": "completed",
        "model": MODEL,
        "output": output,
        "tools": [],
        "usage": {
            "input_tokens": usage.0,
            "output_tokens": usage.1,
            "total_tokens": usage.0 + usage.1
        }
    })
}

/// The same three replies in the Chat Completions shape.
fn chat_reply(tool_results: usize, city: &str) -> Value {
    let call = |id: &str, name: &str, arguments: &str| {
        json!({
            "role": "assistant", "content": null,
            "tool_calls": [{"id": id, "type": "function",
                            "function": {"name": name, "arguments": arguments}}]
        })
    };
    let (message, finish, usage) = match tool_results {
        0 => (
            call(
                "call_weather",
                "get_weather",
                &json!({"city": city}).to_string(),
            ),
            "tool_calls",
            (42, 11),
        ),
        1 => (
            call("call_convert", "to_fahrenheit", "{\"celsius\":21.0}"),
            "tool_calls",
            (63, 9),
        ),
        _ => (
            json!({"role": "assistant", "content": "It is sunny in Oslo, 69.8°F."}),
            "stop",
            (88, 14),
        ),
    };
    json!({
        "id": format!("chatcmpl-{}", tool_results + 1),
        "object": "chat.completion",
        "created": 1_764_547_200,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": usage.0,
            "completion_tokens": usage.1,
            "total_tokens": usage.0 + usage.1
        }
    })
}

fn count_chat_tool_results(request: &Value) -> usize {
    request["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["role"] == "tool").count())
        .unwrap_or(0)
}

fn count_tool_results(request: &Value) -> usize {
    request["input"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["type"] == "function_call_output")
                .count()
        })
        .unwrap_or(0)
}

/// Starts the server on 127.0.0.1 (a free port) on the current runtime.
pub async fn start_server() -> (SocketAddr, Received) {
    let received = Received::default();
    let (models, otlp) = (received.model_requests.clone(), received.otlp.clone());
    let chat_models = models.clone();
    let app = axum::Router::new()
        .route(
            "/v1/chat/completions",
            post(move |body: Bytes| {
                let models = chat_models.clone();
                async move {
                    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let answer = chat_reply(count_chat_tool_results(&request), city_of(&request));
                    models.lock().unwrap().push(request);
                    axum::Json(answer)
                }
            }),
        )
        .route(
            "/v1/responses",
            post(move |body: Bytes| {
                let models = models.clone();
                async move {
                    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let answer = reply(count_tool_results(&request), city_of(&request));
                    models.lock().unwrap().push(request);
                    axum::Json(answer)
                }
            }),
        )
        .route(
            "/v1/traces",
            post(move |body: Bytes| {
                let otlp = otlp.clone();
                async move {
                    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                        otlp.lock().unwrap().push(v);
                    }
                    axum::Json(json!({}))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, received)
}

/// A tool's failure.
#[derive(Debug)]
pub struct ToolFailed(String);

impl std::fmt::Display for ToolFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolFailed {}

/// Looks up the weather (canned).
pub struct GetWeather;

/// `get_weather`'s arguments.
#[derive(Deserialize)]
pub struct City {
    city: String,
}

impl PortableTool for GetWeather {
    const NAME: &'static str = "get_weather";
    type Args = City;
    type Output = Value;
    type Error = ToolFailed;

    fn description(&self) -> String {
        "Current weather of a city, in Celsius".into()
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    }

    async fn call(&self, args: City) -> Result<Value, ToolFailed> {
        if args.city == UNKNOWN_CITY {
            return Err(ToolFailed(format!("no weather station in {}", args.city)));
        }
        Ok(json!({"city": args.city, "sky": "sunny", "celsius": 21.0}))
    }
}

/// Converts Celsius to Fahrenheit.
pub struct ToFahrenheit;

/// `to_fahrenheit`'s arguments.
#[derive(Deserialize)]
pub struct Celsius {
    celsius: f64,
}

impl PortableTool for ToFahrenheit {
    const NAME: &'static str = "to_fahrenheit";
    type Args = Celsius;
    type Output = f64;
    type Error = ToolFailed;

    fn description(&self) -> String {
        "Converts a temperature from Celsius to Fahrenheit".into()
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"celsius": {"type": "number"}}, "required": ["celsius"]})
    }

    async fn call(&self, args: Celsius) -> Result<f64, ToolFailed> {
        Ok(args.celsius * 9.0 / 5.0 + 32.0)
    }
}

/// The agent: rig's OpenAI client pointed at the local server, on `api`, two tools, content
/// telemetry on. No agent-trace code in it.
pub fn agent(addr: SocketAddr, api: Api) -> Agent {
    let openai = OpenAIConfig::new("test-key")
        .with_base_url(format!("http://{addr}/v1"))
        .client();
    let model: DynModel<Completion> = match api {
        // `completion` takes the dialect's default route: the Responses API for OpenAI.
        Api::Responses => openai.completion(MODEL).into(),
        Api::ChatCompletions => openai.chat(MODEL).into(),
    };
    AgentBuilder::new(model)
        .name("weather-agent")
        .preamble("You answer weather questions with the tools.")
        .tool(GetWeather)
        .tool(ToFahrenheit)
        .record_content_telemetry(true)
        .build()
}

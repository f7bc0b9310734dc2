//! # agent-trace-tracing
//!
//! A [`tracing_subscriber::Layer`] that turns the `tracing` spans of code that never heard of
//! agent-trace — [rig](https://docs.rs/rig-core) agents, HTTP clients, your own
//! `#[tracing::instrument]` functions — into agent-trace spans: typed agent, generation and
//! function spans for the OpenTelemetry GenAI conventions, custom spans for the rest, in the
//! same trees, JSONL files and OTLP exports as `#[traced]` code.
//!
//! ```
//! use agent_trace::testing::CollectingProcessor;
//! use agent_trace::{SpanKind, TracerProvider};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let spans = CollectingProcessor::new();
//! let provider = TracerProvider::builder().with_processor(spans.clone()).build();
//! let subscriber = tracing_subscriber::registry().with(agent_trace_tracing::AgentTraceLayer::new());
//!
//! tracing::subscriber::with_default(subscriber, || {
//!     provider.trace("support").in_scope(|| {
//!         let chat = tracing::info_span!(
//!             "chat",
//!             gen_ai.operation.name = "chat",
//!             gen_ai.request.model = "gpt-4o-mini",
//!             gen_ai.usage.input_tokens = tracing::field::Empty,
//!             gen_ai.usage.output_tokens = tracing::field::Empty,
//!         );
//!         let _entered = chat.enter();
//!         // … the model call; usage arrives last, recorded on the span:
//!         chat.record("gen_ai.usage.input_tokens", 12);
//!         chat.record("gen_ai.usage.output_tokens", 5);
//!     });
//! });
//!
//! let generation = &spans.spans()[0];
//! assert_eq!(generation.data.kind(), SpanKind::Generation);
//! assert_eq!(generation.data.name(), Some("gpt-4o-mini"));
//! assert_eq!(generation.data.usage().unwrap().total(), 17);
//! ```
//!
//! ## Nesting, both ways
//!
//! Inside a current agent-trace trace, every `tracing` span becomes an agent-trace span under
//! the current agent-trace span; while a bridged `tracing` span is entered (`enter`,
//! `in_scope`, a `tracing::Instrument` future being polled, on any thread or task) its
//! agent-trace span is the current one, so `#[traced]` functions and `.in_span()` futures run
//! inside it nest under it. Outside any trace `tracing` spans are left alone (one
//! check per callback), unless the root switch is on.
//!
//! ## The mapping
//!
//! The mapping is data: a list of [`Rule`]s ([`Rules`]); the first rule whose conditions
//! (span name, target prefix, a field's value at creation) hold types the span, and each
//! field goes to the [`Slot`] the rule names for it, at creation or when recorded later
//! (rig records model, usage and content after the call returns). The default set,
//! [`Rules::genai`], follows the OpenTelemetry GenAI conventions by `gen_ai.operation.name`:
//!
//! | `gen_ai.operation.name` | agent-trace span | Fields → slots |
//! |---|---|---|
//! | `invoke_agent`, `create_agent` | agent | `gen_ai.agent.name` → name; `gen_ai.tool.definitions` → tools (JSON array of names or definitions); `error.type` → error |
//! | `chat`, `text_completion`, `generate_content` | generation | `gen_ai.request.model`, then `gen_ai.response.model` → model; `gen_ai.usage.input_tokens` / `output_tokens` → usage; `gen_ai.usage.cache_read.input_tokens` → `usage.input_tokens_details.cached_tokens`; `gen_ai.usage.reasoning_tokens` → `usage.output_tokens_details.reasoning_tokens`; `gen_ai.request.{temperature,top_p,max_tokens,seed}` → model config; sensitive: `gen_ai.input.messages` → input, `gen_ai.output.messages` → output (JSON text parsed); `error.type` → error |
//! | `execute_tool` | function | `gen_ai.tool.name` → name; `gen_ai.tool.call.outcome = "error"` → error; `gen_ai.tool.error.type` / `error.type` → error message; sensitive: `gen_ai.tool.call.arguments` → input, `gen_ai.tool.call.result` → output |
//! | `embeddings` | custom (named by the span) | every field as data but `gen_ai.operation.name` (not the sensitive ones when sensitive data is off) |
//! | any other span, or none | custom (named by the span) | every field as data (not the sensitive ones when sensitive data is off) |
//! | any span | — | events inside it: counted (`data.events` on custom spans); an `ERROR` event makes the span failed (message and fields only with sensitive data on) |
//! | any span | — | `follows_from` → a link to the other span, when it is bridged and still open (otherwise ignored) |
//!
//! Sensitive fields — `gen_ai.input.messages`, `gen_ai.output.messages`,
//! `gen_ai.system_instructions`, `gen_ai.prompt`, `gen_ai.completion`,
//! `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` — are recorded only with
//! [`include_sensitive_data(true)`](AgentTraceLayerBuilder::include_sensitive_data).
//!
//! ### Typing another framework's spans
//!
//! Rules you add are tried before the defaults. For example langchain-rust's agent runs,
//! model calls and tool calls (its field names here are illustrative; check the ones your
//! version emits):
//!
//! ```
//! use agent_trace::SpanKind;
//! use agent_trace_tracing::{AgentTraceLayer, Rule, Rules, Slot};
//!
//! let langchain = Rules::new()
//!     .rule(Rule::named("agent.run").and_target("langchain_rust").kind(SpanKind::Agent)
//!         .field("agent", Slot::Name))
//!     .rule(Rule::named("llm.generate").and_target("langchain_rust").kind(SpanKind::Generation)
//!         .field("model", Slot::Model)
//!         .field("provider", Slot::ModelConfig("provider".into()))
//!         .field("prompt_tokens", Slot::InputTokens)
//!         .field("completion_tokens", Slot::OutputTokens)
//!         .field("prompt", Slot::Input)
//!         .field("completion", Slot::Output))
//!     .rule(Rule::named("tool.call").and_target("langchain_rust").kind(SpanKind::Function)
//!         .field("tool", Slot::Name)
//!         .field("input", Slot::Input)
//!         .field("output", Slot::Output))
//!     .sensitive_field("prompt")
//!     .sensitive_field("completion");
//! let layer = AgentTraceLayer::builder().rules(langchain.extend(Rules::genai())).build();
//! # drop(layer);
//! ```
//!
//! ## rig
//!
//! rig-core / rig-agent (0.44, pinned by this crate's tests) open GenAI spans: with no
//! `tracing` span current an agent run opens a root `invoke_agent` span (`parent: None`);
//! each model call a `chat` span whose model, usage and messages are recorded after the call;
//! each tool call an `execute_tool` span, a sibling of the `chat` spans. With
//! [`root_traces(true)`](AgentTraceLayerBuilder::root_traces) and a provider, that
//! `invoke_agent` span starts a trace: an application using rig alone is traced by adding the
//! layer. Inside a trace it goes under the current agent-trace span.
//!
//! Under an existing `tracing` span rig opens no `invoke_agent` span and records nothing on
//! the one it finds, so the generations and tools would have no agent: give them one by
//! running the agent inside an agent span of your own — `agent_trace::agent_span("name")`
//! with `.in_span()` (or `#[traced(kind = "agent")]`), or a `tracing` span with
//! `gen_ai.operation.name = "invoke_agent"` and `gen_ai.agent.name`.
//!
//! `agent.chat(..)` adds a second span named `chat` (target `rig_agent::agent::completion`):
//! the rules tell them apart by `gen_ai.operation.name` and target. rig's targets are mixed
//! (`rig::agent_chat`, `rig_agent::agent::telemetry`, `rig::completions`): a global log filter
//! such as `rig_agent=info` drops spans before any layer sees them, so give your `fmt` layer
//! its filter as a per-layer filter (`fmt::layer().with_filter(EnvFilter::new(..))`) and add
//! this layer without one.
//!
//! ## Diagnostics
//!
//! [`install_diagnostics`] sends agent-trace's own warnings to `tracing` as `WARN` events
//! under the [`DIAGNOSTICS_TARGET`] `agent_trace`. Those events, and the `tracing` spans and
//! events that processors and exporters make while the bridge starts or ends a span, are
//! never bridged: no feedback loop.
//!
//! ## Cost
//!
//! Outside a trace with the root switch off, each callback of a `tracing` span returns after
//! one inlined check (a thread-local read when the span opens, one load after), so the layer
//! costs about what any no-op layer on the registry costs. Inside a trace, a bridged span costs
//! what an agent-trace span costs plus one registry lookup per callback, one value in the
//! span's extensions and its fields put straight on the record (a JSON value is built only for
//! a field that goes somewhere). `benches/tracing_bridge.rs` compares it with
//! tracing-opentelemetry on the same spans:
//! `cargo bench -p agent-trace-benches --bench tracing_bridge` prints the table.
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]

mod apply;
mod builder;
mod callsites;
mod diagnostics;
mod layer;
mod rules;

pub use diagnostics::install_diagnostics;
pub use layer::{AgentTraceLayer, AgentTraceLayerBuilder, DIAGNOSTICS_TARGET};
pub use rules::{Rule, Rules, Slot, Text, OPERATION_NAME};

//! # agent-trace
//!
//! Async-first tracing for LLM multi-agent systems. Annotate your agents, tools and model calls;
//! get a tree of every run — in the terminal, in JSONL files shaped like the OpenAI Agents SDK's
//! export, and in any OpenTelemetry backend.
//!
//! ## In one screen
//!
//! ```
//! use agent_trace::{current_span, traced, Instrument, Record, TracerProvider, Usage};
//! use agent_trace::testing::CollectingProcessor;
//!
//! #[traced(kind = "agent", tools = ["lookup_invoice"], handoffs = ["billing"])]
//! async fn triage(question: &str) -> Result<String, std::io::Error> {
//!     let invoice = lookup_invoice(42).await;
//!     Ok(format!("{question}: invoice {invoice} is paid"))
//! }
//!
//! #[traced(kind = "function")] // records the arguments as input, the return as output
//! async fn lookup_invoice(id: u64) -> u64 {
//!     call_model().await;
//!     id
//! }
//!
//! #[traced(kind = "generation", model = "gpt-4o-mini")]
//! async fn call_model() -> String {
//!     current_span().record_usage(Usage::tokens(12, 5)); // nested code reaches its span
//!     "paid".into()
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let spans = CollectingProcessor::new(); // in an application: a BatchProcessor + exporters
//! let provider = TracerProvider::builder().with_processor(spans.clone()).build();
//! agent_trace::set_global_provider(&provider);
//!
//! agent_trace::trace("customer-support")
//!     .group_id("thread-42")
//!     .run(async {
//!         triage("where is my refund?").await.unwrap();
//!         async { /* fetch */ }.in_span(agent_trace::custom_span("fetch-docs")).await;
//!     })
//!     .await;
//! provider.force_flush().await.unwrap(); // at shutdown
//!
//! assert_eq!(spans.spans().len(), 4);
//! # }
//! ```
//!
//! ## Concepts
//!
//! - A **trace** ([`trace`], [`TraceBuilder`]) is one run of a workflow; a **span**
//!   ([`Span`]) is one unit of work in it, with typed [`SpanData`] (agent, function,
//!   generation, response, handoff, custom, guardrail, transcription, speech, speech group,
//!   MCP tools). Finished ones reach processors as [`TraceRecord`] and [`SpanRecord`], which
//!   serialize to the OpenAI Agents SDK's JSON ([`ExportItem`]).
//! - The **context** (the current trace and span) follows your code across `.await`: futures
//!   carry it with [`Instrument::in_span`], [`Instrument::in_current_span`] and
//!   [`spawn`]; threads with [`Context::attach`]. `#[traced]` does it for you.
//! - A [`TracerProvider`] hands traces and spans to [`TracingProcessor`]s; the
//!   [`BatchProcessor`] queues them for [`TracingExporter`]s on its own thread.
//!   Await [`TracerProvider::force_flush`] before exiting. Providers are values: the one
//!   installed with [`set_global_provider`] lives for the process (its spans skip the
//!   reference count); any other is flushed and shut down when its last handle, trace, span or
//!   captured context goes (one per test or per tenant is fine).
//! - Each trace's record reaches the processors and exporters when it starts (before its
//!   spans) and again when it ends ([`ExportItem::is_trace_start`]).
//! - [`sampling`]: head samplers decide once per trace whether it is recorded
//!   ([`TracerProviderBuilder::sampler`], `OTEL_TRACES_SAMPLER`), a span filter switches kinds
//!   and names off ([`TracerProviderBuilder::span_filter`], `AGENT_TRACE_SPAN_KINDS`,
//!   `AGENT_TRACE_SPAN_FILTER`), and a tail sampler keeps or drops whole traces once they end.
//! - Recording on a span is one vocabulary, [`Record`], on the [`Span`] you hold, on
//!   [`current_span`] and on a [`SpanRecord`]. [`prelude`] has what most code imports.
//!
//! ## Cargo features
//!
//! - `pipeline` (default): [`BatchProcessor`] with its export thread, retry, circuit breaker
//!   and spool (pulls Tokio's runtime, `rtrb`, `backon`).
//! - `tokio` (in `pipeline`): [`spawn`] and [`spawn_blocking`].
//! - `retry` (default): [`retry`] and [`retry_when`], traced retries with backoff.
//!
//! A library that only instruments its code (spans, `#[traced]`, `.in_span()`) depends on
//! `agent-trace` with `default-features = false` and leaves the pipeline to the application;
//! with no provider installed its spans cost what a span outside any trace costs (a few
//! nanoseconds). `examples/tool-library` is such a crate.
//! - Off switch: [`set_enabled`], or `AGENT_TRACE_DISABLED=true` / `OTEL_SDK_DISABLED=true`.
//!   Off, or outside any trace, spans cost a few nanoseconds and nested code works the same.
//! - Privacy: content (inputs, outputs, error data) is off by default —
//!   [`TracerProviderBuilder::include_sensitive_data`] or `AGENT_TRACE_INCLUDE_SENSITIVE_DATA`
//!   turns it on; [`privacy::Redactor`] and truncation clean records before any processor sees
//!   them (see [`privacy`]).
// The crate-root lint set of tokio-rs/tracing.
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub,
    bad_style,
    dead_code,
    improper_ctypes,
    non_shorthand_field_patterns,
    no_mangle_generic_items,
    overflowing_literals,
    path_statements,
    patterns_in_fns_without_body,
    private_interfaces,
    private_bounds,
    unconditional_recursion,
    unused_allocation,
    unused_comparisons,
    unused_parens,
    while_true
)]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "pipeline")]
mod batch;
mod clock;
mod context;
mod current;
mod diag;
pub mod guide;
mod id;
mod instrument;
mod kinds;
mod model;
pub mod privacy;
mod processor;
pub mod propagation;
mod provider;
mod recording;
#[cfg(feature = "retry")]
mod retry;
#[cfg(feature = "tokio")]
mod runtime;
pub mod sampling;
mod slot;
mod span;
mod trace;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod testing;

#[doc = include_str!("docs/traced.md")]
pub use agent_trace_macros::traced;
#[cfg(feature = "pipeline")]
pub use batch::{
    BatchProcessor, BatchProcessorBuilder, BatchStats, BreakerPolicy, CircuitState, ExporterStats,
    RetryPolicy,
};
pub use clock::{Timestamp, TimestampParseError};
pub use context::{Context, ContextGuard};
pub use current::{current_span, CurrentSpan};
pub use diag::{emit_diagnostic, set_diagnostics_hook, Diagnostic};
pub use id::{IdParseError, SpanId, TraceId};
pub use instrument::{Instrument, Instrumented, WithContext};
pub use kinds::{
    agent_span, custom_span, function_span, generation_span, guardrail_span, handoff_span,
    mcp_tools_span, response_span, span_of_kind,
};
pub use model::{
    ExportItem, Name, NameList, SpanData, SpanError, SpanKind, SpanLink, SpanRecord, TraceRecord,
    Usage,
};

/// The data of each kind of span, as [`SpanData`]'s variants carry it (agent, function,
/// generation, response, handoff, custom, guardrail, transcription, speech, speech group, MCP
/// tools), with [`SpanData`], [`SpanKind`] and [`Usage`] again for one-stop imports.
///
/// ```
/// use agent_trace::span_data::{SpanData, SpanKind};
///
/// let mut data = SpanData::empty(SpanKind::Generation);
/// if let SpanData::Generation(g) = &mut data {
///     g.model = Some("gpt-4o-mini".into());
/// }
/// assert_eq!(data.name(), Some("gpt-4o-mini"));
/// ```
pub mod span_data {
    pub use crate::model::{
        AgentSpanData, CustomSpanData, FunctionSpanData, GenerationSpanData, GuardrailSpanData,
        HandoffSpanData, McpListToolsSpanData, ResponseSpanData, SpanData, SpanKind,
        SpeechGroupSpanData, SpeechSpanData, TranscriptionSpanData, Usage,
    };
}
pub use processor::{BoxFuture, ExportError, TraceError, TracingExporter, TracingProcessor};
pub use provider::{
    global_provider, is_enabled, set_enabled, set_global_provider, TracerProvider,
    TracerProviderBuilder, DEFAULT_DROP_TIMEOUT, EXIT_FLUSH_TIMEOUT,
};
pub use recording::Record;
#[cfg(feature = "retry")]
pub use retry::{retry, retry_when, Retry};
#[cfg(feature = "tokio")]
pub use runtime::{spawn, spawn_blocking};
pub use span::Span;
pub use trace::{trace, Trace, TraceBuilder, TraceFuture};

pub use sampling::{current_sampled, SamplingStats};

/// What most instrumented code needs, in one import.
///
/// ```
/// use agent_trace::prelude::*;
///
/// #[traced(kind = "function")]
/// async fn lookup(id: u64) -> u64 {
///     current_span().set_attribute("cache", &"miss"); // ignored: function spans have no free-form data
///     id
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let provider = TracerProvider::builder().build();
/// provider.trace("wf").run(async {
///     lookup(1).in_span(custom_span("outer")).await;
/// }).await;
/// # }
/// ```
pub mod prelude {
    pub use crate::{
        agent_span, current_span, custom_span, function_span, generation_span, trace, traced,
        Context, Instrument, Record, Span, SpanError, TracerProvider, Usage,
    };
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

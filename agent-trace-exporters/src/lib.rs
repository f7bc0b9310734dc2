//! # agent-trace-exporters
//!
//! Where finished traces go. Each exporter is a [`TracingExporter`](agent_trace::TracingExporter)
//! behind its own cargo feature, so you compile only what you use. Put them behind a
//! [`BatchProcessor`](agent_trace::BatchProcessor): it runs them on its own export thread, each
//! on its own lane with timeout, retries, a circuit breaker and an optional on-disk spool.
//!
//! | feature | exporter | writes |
//! |---|---|---|
//! | `console` (default) | [`ConsoleExporter`] | a tree per trace on stdout/stderr, or JSON lines |
//! | `jsonl` (default) | [`JsonlExporter`] | OpenAI-Agents-SDK-shaped JSON lines, rotated files |
//! | `otlp` | `OtlpExporter` | OTLP/HTTP protobuf or JSON, GenAI semantic conventions (mapping table in `otlp`) |
//! | `openai` | `OpenAiExporter` | the OpenAI traces-ingest endpoint (the OpenAI traces dashboard) |
//! | `tls` (default) | — | https endpoints for `otlp` and `openai` (rustls); turn default features off for a plain-http build |
//!
//! ```no_run
//! use agent_trace::{BatchProcessor, TracerProvider};
//! use agent_trace_exporters::{ConsoleExporter, JsonlExporter};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let batch = BatchProcessor::builder()
//!     .with_exporter(ConsoleExporter::new())
//!     .with_exporter(JsonlExporter::builder("traces/run.jsonl").max_bytes(64 << 20).retention(10).build()?)
//!     .spool_dir("traces/spool") // keeps batches through an outage of a remote backend
//!     .build();
//! let provider = TracerProvider::builder().with_processor(batch).build();
//! agent_trace::set_global_provider(&provider);
//! // ... run traced code ...
//! provider.force_flush().await?;
//! # Ok(()) }
//! ```
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
#![forbid(unsafe_code)]

#[cfg(feature = "console")]
pub mod console;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "jsonl")]
pub mod jsonl;
#[cfg(feature = "openai")]
pub mod openai;
#[cfg(feature = "otlp")]
pub mod otlp;

#[cfg(feature = "console")]
pub use console::ConsoleExporter;
#[cfg(feature = "http")]
pub use http::HttpSetupError;
#[cfg(feature = "jsonl")]
pub use jsonl::JsonlExporter;
#[cfg(feature = "openai")]
pub use openai::OpenAiExporter;
#[cfg(feature = "otlp")]
pub use otlp::OtlpExporter;

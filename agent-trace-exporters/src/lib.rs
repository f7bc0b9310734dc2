//! # agent-trace-exporters
//!
//! Where finished traces go. Each exporter is a [`TracingExporter`](agent_trace::TracingExporter)
//! behind its own cargo feature; put them behind a [`BatchProcessor`](agent_trace::BatchProcessor),
//! which runs them on its export thread with retries, a circuit breaker and an optional spool.
//!
//! | feature | exporter | writes |
//! |---|---|---|
//! | `console` (default) | [`ConsoleExporter`] | a tree per trace on stdout/stderr, or JSON lines |
//! | `jsonl` (default) | [`JsonlExporter`] | OpenAI-Agents-SDK-shaped JSON lines, rotated files |
//! | `otlp` | `OtlpExporter` | OTLP/HTTP protobuf or JSON, GenAI semantic conventions |
//! | `openai` | `OpenAiExporter` | the OpenAI traces-ingest endpoint |
//! | `tls` | — | https endpoints for the HTTP exporters (rustls) |
#![warn(missing_docs)]

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
#[cfg(feature = "jsonl")]
pub use jsonl::JsonlExporter;
#[cfg(feature = "openai")]
pub use openai::OpenAiExporter;
#[cfg(feature = "otlp")]
pub use otlp::OtlpExporter;

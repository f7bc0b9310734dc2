//! # agent-trace-http
//!
//! W3C Trace Context over HTTP for [`agent_trace`]: one trace across services.
//!
//! - [`inject_headers`] / [`extract_headers`] (and the [`HeaderInjector`] /
//!   [`HeaderExtractor`] carriers) put the `traceparent` and `tracestate` headers on an
//!   [`http::HeaderMap`] and read them back;
//! - [`RequestBuilderExt::with_trace_context`] (feature `reqwest`) adds them to an outgoing
//!   `reqwest` request;
//! - [`TraceContextLayer`] (feature `tower`) continues the caller's trace on the server: each
//!   request's handler runs inside a server span whose parent is the caller's span, in the
//!   caller's trace.
//!
//! ```no_run
//! # #[cfg(all(feature = "reqwest", feature = "tower"))]
//! # async fn demo(provider: agent_trace::TracerProvider) {
//! use agent_trace_http::{RequestBuilderExt, TraceContextLayer};
//!
//! // Service B: every request continues its caller's trace.
//! let app: axum::Router = axum::Router::new()
//!     .route("/answer", axum::routing::get(|| async { "42" }))
//!     .layer(TraceContextLayer::with_provider(&provider));
//!
//! // Service A: the call carries the current span as the remote parent.
//! let body = reqwest::Client::new()
//!     .get("http://127.0.0.1:3000/answer")
//!     .with_trace_context()
//!     .send()
//!     .await;
//! # }
//! ```
//!
//! String maps and other carriers: [`agent_trace::propagation`].
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

#[cfg(feature = "reqwest")]
mod client;
mod headers;
#[cfg(feature = "tower")]
mod server;

#[cfg(feature = "reqwest")]
pub use client::RequestBuilderExt;
pub use headers::{extract_headers, inject_headers, HeaderExtractor, HeaderInjector};
#[cfg(feature = "tower")]
pub use server::{ResponseFuture, TraceContextLayer, TraceContextService};

pub use agent_trace::propagation::{RemoteContext, TraceState};

//! The `reqwest` side: send the current position with a request.

use agent_trace::propagation::TraceState;
use agent_trace::Context;

use crate::headers::inject_headers;

/// Adds `traceparent` (and `tracestate`) to a `reqwest` request, so that the server's spans
/// continue this trace under the current span.
pub trait RequestBuilderExt: Sized + sealed::Sealed {
    /// Carries the position of the running code (nothing outside a span: see
    /// [`agent_trace::propagation::inject`]).
    ///
    /// ```
    /// use agent_trace_http::RequestBuilderExt;
    /// let request = reqwest::Client::new()
    ///     .get("http://127.0.0.1:9/")
    ///     .with_trace_context()
    ///     .build()
    ///     .unwrap();
    /// assert!(request.headers().get("traceparent").is_none()); // no span is current here
    /// ```
    fn with_trace_context(self) -> Self {
        self.with_context(&Context::current(), &TraceState::new())
    }

    /// Carries `cx`, with `state` as `tracestate` when not empty (for example the
    /// [`RemoteContext::state`](agent_trace::propagation::RemoteContext::state) of the request
    /// being served, which the server layer puts in the request's extensions).
    ///
    /// ```
    /// use agent_trace_http::{RequestBuilderExt, TraceState};
    /// let provider = agent_trace::TracerProvider::builder().build();
    /// let state = TraceState::parse("vendor=1").unwrap();
    /// let request = provider.trace("wf").in_scope(|| {
    ///     agent_trace::custom_span("call").in_scope(|| {
    ///         reqwest::Client::new()
    ///             .get("http://127.0.0.1:9/")
    ///             .with_context(&agent_trace::Context::current(), &state)
    ///             .build()
    ///             .unwrap()
    ///     })
    /// });
    /// assert_eq!(request.headers()["tracestate"], "vendor=1");
    /// ```
    fn with_context(self, cx: &Context, state: &TraceState) -> Self;
}

impl RequestBuilderExt for reqwest::RequestBuilder {
    fn with_context(self, cx: &Context, state: &TraceState) -> Self {
        let mut headers = http::HeaderMap::new();
        inject_headers(cx, state, &mut headers);
        if headers.is_empty() {
            return self;
        }
        // `headers` replaces values of the same names, so a retried builder sends one set.
        self.headers(headers)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for reqwest::RequestBuilder {}
}

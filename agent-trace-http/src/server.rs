//! The server side: a tower layer that continues the caller's trace for each request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use agent_trace::{
    current_span, global_provider, Instrument, Instrumented, Record, Span, SpanData, SpanError,
    Trace, TracerProvider,
};
use pin_project::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::headers::extract_headers;

/// A tower layer (for axum's `Router::layer`, hyper via `hyper-util`, tonic) that runs each
/// request's handler inside a server span:
///
/// - with a valid `traceparent`, the span's parent is the caller's span, in the caller's trace
///   (and the [`RemoteContext`](agent_trace::propagation::RemoteContext), with the caller's
///   `tracestate`, is put in the request's extensions);
/// - without one (or with a malformed one, reported as a diagnostic), the request starts a new
///   trace named like the span.
///
/// The span is a custom span named `"{method} {path}"` with `http.request.method`, `url.path`
/// and, once the handler answers, `http.response.status_code`; a 5xx answer marks it failed.
/// Spans the handler starts are its children. With no provider (none given and no global one),
/// requests pass through untouched.
///
/// ```
/// let provider = agent_trace::TracerProvider::builder().build();
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "ok" }))
///     .layer(agent_trace_http::TraceContextLayer::with_provider(&provider));
/// # drop(app);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TraceContextLayer {
    provider: Option<TracerProvider>,
}

impl TraceContextLayer {
    /// Records on the global provider (looked up per request).
    ///
    /// ```
    /// let _layer = agent_trace_http::TraceContextLayer::new();
    /// ```
    pub fn new() -> Self {
        TraceContextLayer { provider: None }
    }

    /// Records on `provider`.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// let _layer = agent_trace_http::TraceContextLayer::with_provider(&p);
    /// ```
    pub fn with_provider(provider: &TracerProvider) -> Self {
        TraceContextLayer {
            provider: Some(provider.clone()),
        }
    }
}

impl<S> Layer<S> for TraceContextLayer {
    type Service = TraceContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceContextService {
            inner,
            provider: self.provider.clone(),
        }
    }
}

/// The service made by [`TraceContextLayer`].
#[derive(Debug, Clone)]
pub struct TraceContextService<S> {
    inner: S,
    provider: Option<TracerProvider>,
}

impl<S, B, R> Service<http::Request<B>> for TraceContextService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let Some(provider) = self.provider.clone().or_else(global_provider) else {
            return ResponseFuture {
                inner: RecordStatus {
                    fut: self.inner.call(req),
                }
                .in_span(Span::none()),
                trace: None,
            };
        };
        let name = format!("{} {}", req.method(), req.uri().path());
        let (parent, trace) = match extract_headers(req.headers()) {
            Some(remote) => {
                let cx = remote.context(&provider);
                req.extensions_mut().insert(remote);
                (cx, None)
            }
            None => {
                let trace = provider.trace(name.clone()).start();
                (trace.context(), Some(trace))
            }
        };
        let span = Span::with_parent(parent, SpanData::custom(name))
            .with_attribute("http.request.method", req.method().as_str())
            .with_attribute("url.path", req.uri().path());
        // The inner service's own `call` runs in the span too (some do work there).
        let fut = span.context().run(|| self.inner.call(req));
        ResponseFuture {
            inner: RecordStatus { fut }.in_span(span),
            trace,
        }
    }
}

/// The response future of [`TraceContextService`]: the handler's future inside the server
/// span; the span (and a trace the request started) ends when it completes or is dropped.
#[pin_project]
#[derive(Debug)]
pub struct ResponseFuture<F> {
    // Declared before `trace`, so that on drop the span ends before its trace.
    #[pin]
    inner: Instrumented<RecordStatus<F>>,
    trace: Option<Trace>,
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = this.inner.poll(cx);
        if out.is_ready() {
            if let Some(trace) = this.trace.take() {
                trace.end();
            }
        }
        out
    }
}

/// Records the answer's status on the server span (polled inside it).
#[pin_project]
#[derive(Debug)]
pub(crate) struct RecordStatus<F> {
    #[pin]
    fut: F,
}

impl<F, R, E> Future for RecordStatus<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let out = self.project().fut.poll(cx);
        if let Poll::Ready(result) = &out {
            let mut span = current_span();
            match result {
                Ok(response) => {
                    let status = response.status();
                    span.set_attribute("http.response.status_code", &status.as_u16());
                    if status.is_server_error() {
                        span.set_error(SpanError::new(format!("HTTP {status}")));
                    }
                }
                Err(_) => span.set_error(SpanError::new("the service failed before answering")),
            }
        }
        out
    }
}

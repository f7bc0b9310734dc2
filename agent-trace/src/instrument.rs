//! Future wrappers that carry a span or a context across `.await`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project::{pin_project, pinned_drop};

use crate::context::Active;
use crate::model::SpanError;
use crate::span::Span;
use crate::Context;
use crate::Record;

/// Attaches spans and contexts to futures. Implemented for every future.
///
/// ```
/// use agent_trace::{testing::CollectingProcessor, Instrument, TracerProvider};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let spans = CollectingProcessor::new();
/// let provider = TracerProvider::builder().with_processor(spans.clone()).build();
/// provider.trace("wf").run(async {
///     async { 21 * 2 }.in_span(agent_trace::custom_span("answer")).await;
/// }).await;
/// assert_eq!(spans.spans().len(), 1);
/// # }
/// ```
pub trait Instrument: Future + Sized {
    /// Runs this future inside `span`: the span is current on every poll (and while the future
    /// is dropped), and ends when the future completes. Dropped before completion, the span
    /// ends with the error `"cancelled"`; a panic while polling ends it with the panic message
    /// and goes on unwinding.
    fn in_span(self, span: Span) -> Instrumented<Self> {
        Instrumented {
            inner: Hooked::new(span, self, NoHook),
        }
    }

    /// Runs this future in the context that is current now, wherever it is polled later (for
    /// futures handed to `tokio::spawn`, `FuturesUnordered`, another runtime…).
    fn in_current_span(self) -> WithContext<Self> {
        self.in_context(Context::current())
    }

    /// Runs this future in the given context.
    fn in_context(self, cx: Context) -> WithContext<Self> {
        WithContext {
            fut: Some(self),
            active: cx.active,
        }
    }
}

impl<F: Future> Instrument for F {}

/// The hook of a plain [`Instrument::in_span`]: records nothing about the output.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoHook;

/// What to record about a future's output when it completes (used by `#[traced]`).
pub(crate) trait OutputHook<T> {
    /// Called once with the finished span and the output, before the span ends.
    fn on_output(self, span: &mut Span, output: &T);
}

impl<T> OutputHook<T> for NoHook {
    #[inline]
    fn on_output(self, _: &mut Span, _: &T) {}
}

impl<T, C: FnOnce(&mut Span, &T)> OutputHook<T> for C {
    #[inline]
    fn on_output(self, span: &mut Span, output: &T) {
        self(span, output)
    }
}

/// A future running inside a span; see [`Instrument::in_span`].
#[pin_project]
pub struct Instrumented<F> {
    #[pin]
    inner: Hooked<F, NoHook>,
}

impl<F> std::fmt::Debug for Instrumented<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instrumented")
            .field("span", &self.inner.span)
            .finish_non_exhaustive()
    }
}

impl<F> Instrumented<F> {
    /// The span (it records nothing once the future has completed).
    pub fn span(&self) -> &Span {
        &self.inner.span
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

/// A future running inside a span, with a hook called on its output (`#[traced]` records the
/// return value with it).
#[pin_project(PinnedDrop)]
pub(crate) struct Hooked<F, H> {
    #[pin]
    fut: Option<F>,
    span: Span,
    hook: Option<H>,
}

impl<F, H> Hooked<F, H> {
    pub(crate) fn new(span: Span, fut: F, hook: H) -> Self {
        Hooked {
            fut: Some(fut),
            span,
            hook: Some(hook),
        }
    }
}

impl<F: Future, H: OutputHook<F::Output>> Future for Hooked<F, H> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            panic!("agent_trace::Instrumented polled after it completed");
        };
        let span: &mut Span = this.span;
        match span.enter_catching(|| fut.poll(cx)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(out) => {
                if let Some(hook) = this.hook.take() {
                    hook.on_output(span, &out);
                }
                span.end_now();
                this.fut.set(None);
                Poll::Ready(out)
            }
        }
    }
}

#[pinned_drop]
impl<F, H> PinnedDrop for Hooked<F, H> {
    fn drop(self: Pin<&mut Self>) {
        let mut this = self.project();
        if this.fut.is_none() {
            return;
        }
        let span: &mut Span = this.span;
        // Code that runs while the future is dropped still sees its span (tracing#2541).
        span.enter_for(|| this.fut.set(None));
        if span.is_recording() {
            span.set_error(SpanError::new("cancelled"));
            span.end_now();
        }
    }
}

/// A future running in a captured context; see [`Instrument::in_context`].
#[pin_project(PinnedDrop)]
pub struct WithContext<F> {
    #[pin]
    fut: Option<F>,
    active: Option<Active>,
}

impl<F> std::fmt::Debug for WithContext<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cx = Context {
            active: self.active.clone(),
        };
        f.debug_struct("WithContext")
            .field("context", &cx)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            panic!("agent_trace::WithContext polled after it completed");
        };
        let _g = Context {
            active: this.active.clone(),
        }
        .attach();
        let out = fut.poll(cx);
        if out.is_ready() {
            this.fut.set(None);
        }
        out
    }
}

#[pinned_drop]
impl<F> PinnedDrop for WithContext<F> {
    fn drop(self: Pin<&mut Self>) {
        let this = self.project();
        if this.fut.is_some() {
            let _g = Context {
                active: this.active.clone(),
            }
            .attach();
            let mut fut = this.fut;
            fut.set(None);
        }
    }
}

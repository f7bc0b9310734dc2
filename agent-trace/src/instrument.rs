//! Future wrappers that carry a span or a context across `.await`.
//!
//! ## Panics, and the stack of deep nesting
//! A span whose future panics while polled ends with the panic's message. Catching the panic
//! at every level (`catch_unwind` per poll) would cost each level of an async recursion
//! several frames of stack: traced recursion would overflow a 2 MiB worker stack at about a
//! fifth of the depth the same code reaches untraced. So only the outermost instrumented poll
//! on the thread's stack catches; an inner level has a drop guard instead, which, when a panic
//! unwinds through it, hands its span to the outermost level (the context was already
//! restored by the span's `Enter` guard). The outermost level ends those spans, innermost
//! first, with the panic's message, then its own, and resumes the panic. If the panic is caught
//! between two levels (a `catch_unwind` inside a span), the outermost level ends the handed-over
//! spans when its poll returns, with the error "panicked" (the message did not reach it).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project::{pin_project, pinned_drop};

use crate::context::{Active, Enter};
use crate::model::{SpanError, SpanRecord};
use crate::span::{panic_error, Span};
use crate::Context;
use crate::Record;

thread_local! {
    /// Recording [`Hooked`] polls on this thread's stack now.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Spans of inner levels a panic unwound through, innermost first, waiting for the
    /// outermost level to end them with the panic's message.
    static UNWOUND: RefCell<Vec<Span>> = const { RefCell::new(Vec::new()) };
    /// Whether [`UNWOUND`] may hold spans: a plain flag, so the outermost poll's check costs no
    /// destructor registration check (`UNWOUND` has a destructor).
    static HANDED_OVER: Cell<bool> = const { Cell::new(false) };
}

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

    #[inline(always)]
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

    // Always inlined, as `poll_inner` and `Instrumented::poll`: each level of a recursion
    // would otherwise pay one more frame for each, also in debug builds.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            panic!("agent_trace::Instrumented polled after it completed");
        };
        let span: &mut Span = this.span;
        let polled = if !span.is_recording() {
            fut.poll(cx)
        } else if DEPTH.with(Cell::get) == 0 {
            poll_outermost(span, fut, cx)
        } else {
            poll_inner(span, fut, cx)
        };
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(out) => {
                complete(span, this.hook, this.fut, &out);
                Poll::Ready(out)
            }
        }
    }
}

/// The future completed: the hook sees its output, the span ends, the future is dropped. Out
/// of line, so its locals do not take stack in every level's poll.
#[inline(never)]
fn complete<F: Future, H: OutputHook<F::Output>>(
    span: &mut Span,
    hook: &mut Option<H>,
    fut: Pin<&mut Option<F>>,
    out: &F::Output,
) {
    if let Some(hook) = hook.take() {
        hook.on_output(span, out);
    }
    span.end_now();
    let mut fut = fut;
    fut.set(None);
}

/// Polls inside `span` with a panic caught: this level is the outermost on the thread's stack.
/// Out of line: the inner levels' polls do not carry its locals.
#[inline(never)]
fn poll_outermost<F: Future>(
    span: &mut Span,
    fut: Pin<&mut F>,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output> {
    DEPTH.with(|d| d.set(1));
    let polled = catch_unwind(AssertUnwindSafe(|| span.enter_for(|| fut.poll(cx))));
    DEPTH.with(|d| d.set(0));
    match polled {
        Ok(out) => {
            if HANDED_OVER.with(Cell::get) {
                end_unwound(None);
            }
            out
        }
        Err(payload) => {
            let error = panic_error(&*payload);
            end_unwound(Some(&error));
            span.set_error(error);
            span.end_now();
            resume_unwind(payload)
        }
    }
}

/// Ends the spans inner levels handed over while a panic unwound through them: with the
/// panic's error, or "panicked" when the panic was caught before it reached this level.
#[cold]
#[inline(never)]
fn end_unwound(error: Option<&SpanError>) {
    let _ = HANDED_OVER.try_with(|h| h.set(false));
    let spans = UNWOUND
        .try_with(|u| u.try_borrow_mut().map(|mut u| std::mem::take(&mut *u)))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    for mut span in spans {
        span.set_error(error.cloned().unwrap_or_else(|| SpanError::new("panicked")));
        span.end_now();
    }
}

/// Polls inside `span` under an outer level that catches panics: no `catch_unwind` here, only
/// a guard that hands the span over if a panic unwinds through. No closures either: in debug
/// builds each would be one more frame per level.
#[inline(always)]
fn poll_inner<F: Future>(
    span: &mut Span,
    fut: Pin<&mut F>,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let mut level = InnerLevel {
        span,
        returned: false,
    };
    // Dropped first (declared last): the context is restored before the guard's check.
    let _enter = enter(level.span);
    let out = fut.poll(cx);
    level.returned = true;
    out
}

/// Makes `span` current until the guard drops (what `Span::enter_for` does, without a closure).
/// Its temporaries stay in its own frame, which has returned before the future is polled.
#[inline]
fn enter(span: &mut Span) -> Enter {
    let active = span.active();
    let live = span
        .record
        .as_mut()
        .map_or(std::ptr::null_mut(), |r| r as *mut SpanRecord);
    Enter::new(active, live)
}

/// One inner level's poll in progress; see [`poll_inner`].
struct InnerLevel<'a> {
    span: &'a mut Span,
    returned: bool,
}

impl Drop for InnerLevel<'_> {
    #[inline]
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
        if !self.returned {
            self.hand_over();
        }
    }
}

impl InnerLevel<'_> {
    /// A panic is unwinding through this level: the outermost level ends the span with its
    /// message. (With this thread's locals gone, the span ends here, without it.)
    #[cold]
    #[inline(never)]
    fn hand_over(&mut self) {
        let span = std::mem::replace(self.span, Span::none());
        let _ = UNWOUND.try_with(|u| {
            if let Ok(mut u) = u.try_borrow_mut() {
                u.push(span);
                let _ = HANDED_OVER.try_with(|h| h.set(true));
            }
        });
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

//! Future wrappers that carry a span or a context across `.await`.
//!
//! ## The stack of deep nesting, and panics
//! In an async recursion each level polls the next from inside its own poll (and, dropped
//! before it completes, drops the next from inside its own drop), so every level's frames are
//! on the stack at once: whatever a wrapper's poll holds across the inner poll is paid once per
//! level. A wrapper's poll holds nothing but its pointer to the wrapper: the position it
//! replaces goes into the wrapper ([`SavedContext`], not a guard on the stack), the work before
//! and after the inner poll is out of line, and a `#[traced] async fn` keeps its span in a local
//! of the function rather than moving it through the poll's temporaries. A level then costs
//! about the stack the same code takes untraced (`tests/deep_nesting.rs` prints the figures).
//!
//! A span whose future panics while polled ends with the panic's message. Catching the panic
//! at every level (`catch_unwind` per poll) would cost each level several frames of stack. So
//! only the outermost instrumented poll on the thread's stack catches; an inner level has a
//! guard instead, which, when a panic unwinds through it, restores the position it replaced and
//! hands its span to the outermost level. The outermost level ends those spans, innermost
//! first, with the panic's message, then its own, and resumes the panic. If the panic is caught
//! between two levels (a `catch_unwind` inside a span), the outermost level ends the handed-over
//! spans when its poll returns, with the error "panicked" (the message did not reach it).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project::{pin_project, pinned_drop};

use crate::context::{Active, SavedContext};
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
            inner: Hooked::new(span.into(), self, NoHook),
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
            saved: SavedContext::default(),
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
            .field("span", self.span())
            .finish_non_exhaustive()
    }
}

impl<F> Instrumented<F> {
    /// The span (it records nothing once the future has completed).
    pub fn span(&self) -> &Span {
        &self.inner.level.state.state_ref().span
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

/// A wrapper's span with the position its poll replaces (see [`SavedContext`]: kept here, the
/// poll frame holds nothing across the inner poll but its pointer to the wrapper).
///
/// A `#[traced] async fn` keeps it in a local of its own and awaits a wrapper holding a pointer
/// to it ([`traced_future_in`](crate::__private::traced_future_in)): the function's poll then
/// moves small values through its temporaries, which an unoptimized build keeps in the frame of
/// every level of a recursion. Not a public API.
///
/// It has no drop glue: the [`Hooked`] wrapper it is given to ends the span on every path
/// (completion, drop, a panic), after which the span owns nothing. A future holding one (a
/// `#[traced] async fn`'s) then has drop glue small enough for the compiler to inline and see
/// that a future dropped before its first poll needs no drop at all: `Box::pin(traced_fn(..))`
/// can then build it in its box, where it would otherwise build it on the stack first, in the
/// frame of every level of a recursion (in case the allocation unwinds).
#[doc(hidden)]
pub struct SpanState {
    pub(crate) span: ManuallyDrop<Span>,
    saved: SavedContext,
}

impl std::fmt::Debug for SpanState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.span.fmt(f)
    }
}

impl From<Span> for SpanState {
    #[inline]
    fn from(span: Span) -> SpanState {
        SpanState {
            span: ManuallyDrop::new(span),
            saved: SavedContext::default(),
        }
    }
}

/// Where a [`Hooked`] keeps its [`SpanState`]: in itself (`.in_span()`, `#[traced]` functions
/// that return a future), or behind a pointer (`#[traced] async fn`).
pub(crate) trait SpanSlot {
    /// The state.
    fn state(&mut self) -> &mut SpanState;
    /// The state, shared.
    fn state_ref(&self) -> &SpanState;
}

impl SpanSlot for SpanState {
    #[inline(always)]
    fn state(&mut self) -> &mut SpanState {
        self
    }
    #[inline(always)]
    fn state_ref(&self) -> &SpanState {
        self
    }
}

impl SpanSlot for &mut SpanState {
    #[inline(always)]
    fn state(&mut self) -> &mut SpanState {
        self
    }
    #[inline(always)]
    fn state_ref(&self) -> &SpanState {
        self
    }
}

/// A future running inside a span, with a hook called on its output (`#[traced]` records the
/// return value with it).
///
/// `fut` is pinned structurally (polled and dropped in place, never moved); `level` is not
/// pinned. Hence no `Unpin` impl: the automatic one requires `F: Unpin`.
pub(crate) struct Hooked<F, H, S: SpanSlot = SpanState> {
    /// `None` once completed. Dropped by `Hooked::drop` (with the span entered), out of line:
    /// the drop glue of the futures that hold a `Hooked` stays small (see [`SpanState`]).
    fut: ManuallyDrop<Option<F>>,
    level: Level<H, S>,
}

/// What a [`Hooked`] keeps besides the future.
struct Level<H, S: SpanSlot> {
    state: S,
    hook: Option<H>,
}

impl<F, H, S: SpanSlot> Hooked<F, H, S> {
    #[inline]
    pub(crate) fn new(state: S, fut: F, hook: H) -> Self {
        Hooked {
            fut: ManuallyDrop::new(Some(fut)),
            level: Level {
                state,
                hook: Some(hook),
            },
        }
    }
}

impl<F: Future, H: OutputHook<F::Output>, S: SpanSlot> Future for Hooked<F, H, S> {
    type Output = F::Output;

    // In an async recursion every level's poll is on the stack at once, each inside the one
    // above, so what this frame holds is paid once per level. It holds little: always inlined
    // (as `Instrumented::poll`), it calls out of line for everything before and after the inner
    // poll, and keeps the position it replaces in the wrapper (see `SavedContext`), not in a
    // guard. Only the outermost level on the thread's stack catches panics (module docs).
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        // SAFETY: `fut` is only ever polled and dropped in place (pinned structurally); nothing
        // else of `self` is pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if begin(this) {
            return poll_outermost(this, cx);
        }
        // A raw pointer, not `&mut`: a reference to the whole level taken here would invalidate
        // the pointer a `#[traced] async fn`'s `&mut SpanState` level holds into its own frame.
        let unwinding = Unwinding(&raw mut this.level);
        let Some(fut) = &mut *this.fut else {
            // SAFETY: `begin` panics when the future has completed.
            unsafe { std::hint::unreachable_unchecked() }
        };
        // SAFETY: as above, `fut` does not move while `self` is pinned.
        let out = unsafe { Pin::new_unchecked(fut) }.poll(cx);
        std::mem::forget(unwinding);
        after(this, &out);
        out
    }
}

/// Before a poll: whether this is the outermost recording level on the thread's stack (the
/// caller then polls with [`poll_outermost`]); otherwise, a recording span is made current
/// ([`enter_inner`]). Panics if the future has completed.
#[inline(never)]
fn begin<F, H, S: SpanSlot>(this: &mut Hooked<F, H, S>) -> bool {
    // Through `&mut`: a shared reference to the whole (self-referential, `!Unpin`) future would
    // invalidate the pointers it holds into itself (a `#[traced] async fn`'s to its span).
    if this.fut.as_mut().is_none() {
        polled_after_completion()
    }
    let state = this.level.state.state();
    if !state.span.is_recording() {
        return false;
    }
    if DEPTH.with(Cell::get) == 0 {
        return true;
    }
    enter_inner(state);
    false
}

/// After an inner or plain poll: the replaced position is put back, and if the future
/// completed, the hook sees its output, the span ends and the future is dropped.
#[inline(never)]
fn after<F: Future, H: OutputHook<F::Output>, S: SpanSlot>(
    this: &mut Hooked<F, H, S>,
    polled: &Poll<F::Output>,
) {
    let state = this.level.state.state();
    if state.span.is_recording() {
        leave_inner(state);
    }
    if let Poll::Ready(out) = polled {
        complete(&mut this.level, &mut this.fut, out);
    }
}

#[cold]
#[inline(never)]
fn polled_after_completion() -> ! {
    panic!("agent_trace::Instrumented polled after it completed")
}

/// Makes the span current for an inner level's poll, keeping the replaced position.
#[inline]
fn enter_inner(state: &mut SpanState) {
    DEPTH.with(|d| d.set(d.get() + 1));
    state.enter();
}

/// Puts back the position [`enter_inner`] replaced.
#[inline]
fn leave_inner(state: &mut SpanState) {
    state.saved.restore();
    DEPTH.with(|d| d.set(d.get() - 1));
}

impl SpanState {
    /// Makes the span current, with a pointer to its record for `current_span()`, until
    /// `self.saved.restore()`.
    #[inline]
    fn enter(&mut self) {
        let active = self.span.active();
        let live = self
            .span
            .record_slot_mut()
            .map_or(std::ptr::null_mut(), |r| r as *mut SpanRecord);
        self.saved.enter(active, live);
    }
}

/// An inner (or plain) level's poll in progress, dropped only if a panic unwinds through it (a
/// poll that returns forgets it). It holds a raw pointer, made into a reference only in `drop`.
struct Unwinding<H, S: SpanSlot>(*mut Level<H, S>);

impl<H, S: SpanSlot> Drop for Unwinding<H, S> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the level outlives the poll this guard is dropped in, and the inner poll
        // that held references into it has been unwound.
        unwound(unsafe { &mut *self.0 }.state.state());
    }
}

/// A panic is unwinding through an inner level: the position it replaced is restored, and the
/// outermost level ends the span with the panic's message. (With this thread's locals gone, the
/// span ends here, without it.) Nothing to do for a span that records nothing (a plain poll).
#[cold]
#[inline(never)]
fn unwound(state: &mut SpanState) {
    if !state.span.is_recording() {
        return;
    }
    leave_inner(state);
    let span = std::mem::replace(&mut *state.span, Span::none());
    let _ = UNWOUND.try_with(|u| {
        if let Ok(mut u) = u.try_borrow_mut() {
            u.push(span);
            let _ = HANDED_OVER.try_with(|h| h.set(true));
        }
    });
}

/// The future completed: the hook sees its output, the span ends, the future is dropped.
#[inline]
fn complete<F: Future, H: OutputHook<F::Output>, S: SpanSlot>(
    level: &mut Level<H, S>,
    fut: &mut Option<F>,
    out: &F::Output,
) {
    let span = &mut level.state.state().span;
    if let Some(hook) = level.hook.take() {
        hook.on_output(span, out);
    }
    span.end_now();
    // Dropped in place (it is pinned).
    *fut = None;
}

/// Polls inside the span with a panic caught: this level is the outermost recording one on the
/// thread's stack. Out of line: the inner levels' polls do not carry its locals.
#[inline(never)]
fn poll_outermost<F: Future, H: OutputHook<F::Output>, S: SpanSlot>(
    this: &mut Hooked<F, H, S>,
    cx: &mut TaskContext<'_>,
) -> Poll<F::Output> {
    let Some(fut) = &mut *this.fut else {
        polled_after_completion()
    };
    // SAFETY: `fut` does not move while the wrapper is pinned (see `Hooked::poll`).
    let fut = unsafe { Pin::new_unchecked(fut) };
    let span = &mut this.level.state.state().span;
    DEPTH.with(|d| d.set(1));
    let polled = catch_unwind(AssertUnwindSafe(|| span.enter_for(|| fut.poll(cx))));
    DEPTH.with(|d| d.set(0));
    match polled {
        Ok(out) => {
            if HANDED_OVER.with(Cell::get) {
                end_unwound(None);
            }
            if let Poll::Ready(out) = &out {
                complete(&mut this.level, &mut this.fut, out);
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

impl<F, H, S: SpanSlot> Drop for Hooked<F, H, S> {
    #[inline]
    fn drop(&mut self) {
        drop_hooked(self);
    }
}

/// Drops the future if it has not completed, inside its span, and ends the span "cancelled".
///
/// Dropping a deep recursion before it completes drops every level from inside the one above,
/// so this frame is paid once per level, as a poll's: it holds nothing across the future's drop
/// but its pointers, and the position it replaces goes into the wrapper, as in `poll`.
#[inline(never)]
fn drop_hooked<F, H, S: SpanSlot>(this: &mut Hooked<F, H, S>) {
    // Through `&mut`, as in `begin`.
    if this.fut.as_mut().is_none() {
        return;
    }
    // Code that runs while the future is dropped still sees its span (tracing#2541).
    if !enter_to_drop(this.level.state.state()) {
        *this.fut = None;
        return;
    }
    let restore = RestoreOnUnwind(&raw mut this.level);
    // Dropped in place (it is pinned).
    *this.fut = None;
    std::mem::forget(restore);
    dropped(this.level.state.state());
}

/// Makes a recording span current to drop its future; `false` (nothing done) otherwise.
#[inline(never)]
fn enter_to_drop(state: &mut SpanState) -> bool {
    if !state.span.is_recording() {
        return false;
    }
    state.enter();
    true
}

/// The future was dropped before it completed: the position is put back and the span ends
/// with the error "cancelled".
#[inline(never)]
fn dropped(state: &mut SpanState) {
    state.saved.restore();
    if state.span.is_recording() {
        state.span.set_error(SpanError::new("cancelled"));
        state.span.end_now();
    }
}

/// If dropping the future panics: puts back the position replaced for the drop and ends the
/// span "cancelled" (a drop that returns forgets it). A raw pointer, as in [`Unwinding`].
struct RestoreOnUnwind<H, S: SpanSlot>(*mut Level<H, S>);

impl<H, S: SpanSlot> Drop for RestoreOnUnwind<H, S> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: as in `Unwinding::drop`: the level outlives this guard.
        dropped(unsafe { &mut *self.0 }.state.state());
    }
}

/// A future running in a captured context; see [`Instrument::in_context`].
#[pin_project(PinnedDrop)]
pub struct WithContext<F> {
    #[pin]
    fut: Option<F>,
    active: Option<Active>,
    /// The position a poll (or the drop) replaces, kept here rather than on the stack, as in
    /// [`Hooked`].
    saved: SavedContext,
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
        enter_position(this.saved, this.active);
        let restore = Restore(this.saved);
        let out = fut.poll(cx);
        drop(restore);
        if out.is_ready() {
            this.fut.set(None);
        }
        out
    }
}

/// Makes `active` current, keeping the replaced position in `saved`. Out of line: its
/// temporaries take no room in the frame of a poll.
#[inline(never)]
fn enter_position(saved: &mut SavedContext, active: &Option<Active>) {
    saved.enter_position(active.clone());
}

/// Restores a [`SavedContext`] when dropped (also while unwinding).
struct Restore<'a>(&'a mut SavedContext);

impl Drop for Restore<'_> {
    #[inline]
    fn drop(&mut self) {
        restore(self.0);
    }
}

#[inline(never)]
fn restore(saved: &mut SavedContext) {
    saved.restore();
}

#[pinned_drop]
impl<F> PinnedDrop for WithContext<F> {
    fn drop(self: Pin<&mut Self>) {
        let this = self.project();
        if this.fut.is_some() {
            enter_position(this.saved, this.active);
            let restore = Restore(this.saved);
            let mut fut = this.fut;
            fut.set(None);
            drop(restore);
        }
    }
}

//! The current trace and span of the running code.
//!
//! The context lives in a thread-local that future wrappers swap in on every poll and out after
//! it (and around the drop of the future they wrap), which gives it task-local semantics: what
//! tokio's `task_local!` does, in a plain `Cell` with no lazy initialisation and no borrow flag.
//! A wrapper that owns a live span also installs a pointer to it, so nested code can record on
//! it through [`current_span`](crate::current_span); the pointer only exists while the owner is
//! being polled on this thread, and is never handed to other tasks or threads.

use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use crate::id::{SpanId, TraceId};
use crate::model::SpanRecord;
use crate::provider::{ProviderInner, ProviderRef, TracerProvider};

/// The ids and provider of an active trace position. `Send`, `Sync`; cloning it clones a
/// provider reference (free for a pinned provider, one counter increment otherwise).
#[derive(Clone)]
pub(crate) struct Active {
    pub(crate) provider: ProviderRef,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: Option<SpanId>,
    /// The trace's head-sampling decision: spans under an unsampled position record nothing.
    pub(crate) sampled: bool,
}

/// The thread-local form of an [`Active`]: plain data, so the thread-local has no destructor
/// and its every access is a plain load (a thread-local with a destructor pays a registration
/// check on each access). The slot owns the provider reference of the position it holds: it is
/// moved in by [`swap_active`] and moved out by the next one. A thread that exits with a
/// position still installed, guards dropped out of order (which can leave one installed), and a
/// `ContextGuard` passed to `mem::forget` (its saved position too) each leak one reference.
#[derive(Clone, Copy)]
struct RawActive {
    provider: NonNull<ProviderInner>,
    trace_id: TraceId,
    span_id: Option<SpanId>,
    sampled: bool,
}

impl Active {
    #[inline]
    fn into_raw(self) -> RawActive {
        RawActive {
            provider: self.provider.into_raw(),
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
        }
    }

    /// # Safety
    /// `raw` must come from [`Active::into_raw`], and its reference must be taken back once.
    #[inline]
    unsafe fn from_raw(raw: RawActive) -> Active {
        Active {
            // SAFETY: forwarded from the caller.
            provider: unsafe { ProviderRef::from_raw(raw.provider) },
            trace_id: raw.trace_id,
            span_id: raw.span_id,
            sampled: raw.sampled,
        }
    }
}

thread_local! {
    /// The trace position new spans attach to.
    static CURRENT: Cell<Option<RawActive>> = const { Cell::new(None) };
    /// The innermost live span whose owner is running on this thread (null if none). Only the
    /// strictly nested [`Enter`] guards of scopes and [`SavedContext`] enter/restore pairs of
    /// wrappers (and [`with_live`], which hides it) change it, so it is always valid.
    static LIVE: Cell<*mut SpanRecord> = const { Cell::new(std::ptr::null_mut()) };
}

/// Runs `f` on the current position without taking it out of the thread-local.
///
/// Private on purpose: `f` must not change `CURRENT` nor run user code (the view borrows the
/// slot's reference); the helpers below only read ids or clone.
#[inline]
fn peek_active<R>(f: impl FnOnce(Option<&Active>) -> R) -> R {
    let raw = CURRENT.with(Cell::get);
    // A view of the slot's position that must not release the slot's reference.
    // SAFETY: the slot owns the reference; `ManuallyDrop` keeps this view from releasing it,
    // and the slot keeps it alive while `f` runs (`f` only reads ids and clones the reference).
    let view = raw.map(|r| ManuallyDrop::new(unsafe { Active::from_raw(r) }));
    f(view.as_deref())
}

/// Whether the current position's provider records content (inputs, outputs, error data);
/// `false` outside any trace.
#[inline]
pub(crate) fn current_records_content() -> bool {
    peek_active(|a| a.is_some_and(|a| a.provider.records_content()))
}

/// The current trace and parent span ids.
#[inline]
pub(crate) fn current_ids() -> Option<(TraceId, Option<SpanId>)> {
    peek_active(|a| a.map(|a| (a.trace_id, a.span_id)))
}

/// The current trace's sampling decision (`None` outside any trace).
#[inline]
pub(crate) fn current_sampled() -> Option<bool> {
    peek_active(|a| a.map(|a| a.sampled))
}

/// Where a span started now would go: the provider, trace and parent; `None` when it would
/// record nothing (no trace, or the provider is switched off).
#[inline]
pub(crate) fn current_position() -> Option<(ProviderRef, TraceId, Option<SpanId>)> {
    peek_active(|a| a.and_then(Active::position))
}

impl Active {
    /// The provider, trace and parent a span started here gets; `None` when the provider is
    /// switched off or the trace is not sampled (the global switch is checked by the callers).
    #[inline]
    pub(crate) fn position(&self) -> Option<(ProviderRef, TraceId, Option<SpanId>)> {
        if !self.sampled || !self.provider.own_switch_on() {
            return None;
        }
        Some((self.provider.clone(), self.trace_id, self.span_id))
    }
}

/// Whether a span started now would record: a sampled trace is current and its provider is
/// switched on (the global switch is checked by the callers). The inlined check in front of
/// every span start.
#[inline(always)]
pub(crate) fn current_may_record() -> bool {
    peek_active(|a| a.is_some_and(|a| a.sampled && a.provider.own_switch_on()))
}

/// A copy of the current position.
#[inline]
pub(crate) fn current_active() -> Option<Active> {
    peek_active(|a| a.cloned())
}

/// Installs `active` as the current position and returns the one it replaces. The caller
/// drops the old value outside the thread-local access (dropping a provider reference can
/// run a provider's shutdown).
#[inline]
fn swap_active(active: Option<Active>) -> Option<Active> {
    let old = replace_current(active.map(Active::into_raw));
    // SAFETY: what the slot held came from `into_raw` just like this, and leaves it here once.
    old.map(|r| unsafe { Active::from_raw(r) })
}

/// `CURRENT.replace(new)`, through a pointer to the slot: the slot has no destructor, so it is
/// never torn down while the thread runs, and `LocalKey::with` with a closure this size is not
/// inlined (a call and copies of the 48-byte value, twice per span).
#[inline(always)]
fn replace_current(new: Option<RawActive>) -> Option<RawActive> {
    let slot = CURRENT.with(Cell::as_ptr);
    // SAFETY: `slot` points to this thread's `CURRENT`, alive for as long as the thread (no
    // destructor); nothing else holds a reference into it across this call (`Cell` hands out
    // none), and the value is plain data.
    unsafe { std::ptr::replace(slot, new) }
}

/// Installs a position (and, for the owner of a live span, the span) until dropped, then
/// restores the previous ones, also while unwinding. Internal only, and always dropped in the
/// scope that made it, so `LIVE` follows a strict stack.
pub(crate) struct Enter {
    prev: Option<Active>,
    prev_live: *mut SpanRecord,
}

impl Enter {
    #[inline]
    pub(crate) fn new(active: Option<Active>, live: *mut SpanRecord) -> Enter {
        Enter {
            prev: swap_active(active),
            prev_live: replace_live(live),
        }
    }
}

impl Drop for Enter {
    #[inline]
    fn drop(&mut self) {
        let ours = swap_active(self.prev.take());
        replace_live(self.prev_live);
        drop(ours);
    }
}

/// `LIVE.replace(new)` through a pointer to the slot (see [`replace_current`]).
#[inline(always)]
fn replace_live(new: *mut SpanRecord) -> *mut SpanRecord {
    let slot = LIVE.with(Cell::as_ptr);
    // SAFETY: as in `replace_current`: this thread's slot, no destructor, no reference held.
    unsafe { std::ptr::replace(slot, new) }
}

/// The position and live span a future wrapper replaced while it polls, kept in the wrapper
/// instead of in a guard on the stack.
///
/// In an async recursion every level's poll is on the stack at once, so whatever a level holds
/// across its inner poll is paid once per level: an [`Enter`] guard there would cost 56 bytes
/// of stack a level. A wrapper is pinned while polled, so it can keep them itself; its poll
/// frame then holds nothing but the pointer to the wrapper it already has.
///
/// Between [`enter`](SavedContext::enter) and [`restore`](SavedContext::restore) (which also
/// runs while unwinding) the slot holds the replaced position; at rest it is empty. Like
/// [`Enter`], the two calls are made by the same poll (or drop), so `LIVE` follows a strict
/// stack.
///
/// Plain data, with no drop glue: the futures that hold one stay cheap to drop (the compiler
/// then sees that a future dropped before its first poll needs no drop at all, and builds a
/// boxed one in place instead of on the stack first).
pub(crate) struct SavedContext {
    /// The replaced position, which owns its provider reference while kept here (as in
    /// `CURRENT`).
    prev: Option<RawActive>,
    prev_live: *mut SpanRecord,
}

impl Default for SavedContext {
    #[inline]
    fn default() -> Self {
        SavedContext {
            prev: None,
            prev_live: std::ptr::null_mut(),
        }
    }
}

// SAFETY: both fields are only set between `enter` and `restore`, which one poll (or drop) of
// the owning wrapper makes on one thread, and the pointer is never read through here: it only
// goes back into this thread's `LIVE`. At rest (whenever the wrapper can move to another
// thread) they are empty.
unsafe impl Send for SavedContext {}
// SAFETY: as above; `&SavedContext` gives no access to either.
unsafe impl Sync for SavedContext {}

impl SavedContext {
    /// Installs `active` and the live span `live` (null for none), keeping what they replace
    /// here until [`restore`](SavedContext::restore).
    #[inline]
    pub(crate) fn enter(&mut self, active: Option<Active>, live: *mut SpanRecord) {
        debug_assert!(self.prev.is_none() && self.prev_live.is_null());
        // The slot's reference moves here, and `active`'s into the slot.
        self.prev = replace_current(active.map(Active::into_raw));
        self.prev_live = replace_live(live);
    }

    /// Installs `active` only (the live span stays), as [`enter`](SavedContext::enter) does.
    #[inline]
    pub(crate) fn enter_position(&mut self, active: Option<Active>) {
        let live = LIVE.with(Cell::get);
        self.enter(active, live);
    }

    /// Puts back what [`enter`](SavedContext::enter) replaced.
    #[inline]
    pub(crate) fn restore(&mut self) {
        let ours = replace_current(self.prev.take());
        replace_live(std::mem::replace(&mut self.prev_live, std::ptr::null_mut()));
        // SAFETY: what the slot held came from `into_raw`, and leaves it here once.
        drop(ours.map(|r| unsafe { Active::from_raw(r) }));
    }
}

/// Runs `f` with the current span when its owner is running on this thread, `None` otherwise
/// (no trace, a span owned by another task, a context attached by id only).
#[inline]
pub(crate) fn with_live<R>(f: impl FnOnce(Option<&mut SpanRecord>) -> R) -> R {
    let live = LIVE.with(Cell::get);
    // SAFETY: LIVE is only non-null while the wrapper or scope that owns the span runs on this
    // thread without touching the span itself (`Span::in_scope`, `Instrumented::poll`/drop), and
    // those scopes restore it before they end.
    let Some(span) = (unsafe { live.as_mut() }) else {
        return f(None);
    };
    if peek_active(|a| a.and_then(|a| a.span_id)) != Some(span.id) {
        return f(None);
    }
    // Hide the pointer while `f` holds `&mut` to the span, so it cannot be reached twice.
    let _hide = HideLive(LIVE.with(|c| c.replace(std::ptr::null_mut())));
    f(Some(span))
}

/// Restores the live-span pointer hidden by [`with_live`].
struct HideLive(*mut SpanRecord);

impl Drop for HideLive {
    #[inline]
    fn drop(&mut self) {
        LIVE.with(|c| c.set(self.0));
    }
}

/// A captured trace position: the trace and the span that new spans will have as parent.
///
/// Capture it with [`Context::current`] and re-establish it elsewhere — on a plain thread,
/// in a callback, in a task spawned without [`agent_trace::spawn`](crate::spawn).
///
/// ```
/// use agent_trace::{testing::CollectingProcessor, Context, TracerProvider};
///
/// let spans = CollectingProcessor::new();
/// let provider = TracerProvider::builder().with_processor(spans.clone()).build();
/// provider.trace("wf").in_scope(|| {
///     let cx = Context::current();
///     std::thread::spawn(move || {
///         let _guard = cx.attach();
///         agent_trace::custom_span("on-a-thread").in_scope(|| {});
///     }).join().unwrap();
/// });
/// assert_eq!(spans.spans()[0].data.name(), Some("on-a-thread"));
/// ```
///
/// A context keeps its provider alive (see [`TracerProvider`]); cloning one is cheap.
#[derive(Clone, Default)]
pub struct Context {
    pub(crate) active: Option<Active>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .finish()
    }
}

impl Context {
    /// The context of the running code (empty outside any trace).
    ///
    /// ```
    /// assert!(agent_trace::Context::current().trace_id().is_none());
    /// ```
    #[inline]
    pub fn current() -> Context {
        Context {
            active: current_active(),
        }
    }

    /// A context at the root of an existing trace on `provider`, or under a span of it (for
    /// example one received from another process). The provider's head sampler decides (and
    /// counts) whether it is sampled, as for a trace started here; see
    /// [`remote_sampled`](Context::remote_sampled) to pass on the caller's decision.
    ///
    /// ```
    /// use agent_trace::{Context, SpanId, TraceId, TracerProvider};
    /// let p = TracerProvider::builder().build();
    /// let cx = Context::remote(&p, TraceId::random(), SpanId::from_u64(1));
    /// assert!(cx.trace_id().is_some());
    /// ```
    pub fn remote(provider: &TracerProvider, trace_id: TraceId, parent: Option<SpanId>) -> Context {
        let params = crate::sampling::SamplingParams::root(trace_id, "", None);
        Context::remote_decided(provider, trace_id, parent, &params)
    }

    /// Like [`remote`](Context::remote), with the caller's sampled flag (the `traceparent`
    /// flag `01`): a parent-based sampler (the default) follows it.
    ///
    /// ```
    /// use agent_trace::{Context, SpanId, TraceId, TracerProvider};
    /// let p = TracerProvider::builder().build();
    /// let cx = Context::remote_sampled(&p, TraceId::random(), SpanId::from_u64(1), false);
    /// assert!(!cx.is_sampled());
    /// ```
    pub fn remote_sampled(
        provider: &TracerProvider,
        trace_id: TraceId,
        parent: Option<SpanId>,
        sampled: bool,
    ) -> Context {
        let params = crate::sampling::SamplingParams::root(trace_id, "", None).with_parent(sampled);
        Context::remote_decided(provider, trace_id, parent, &params)
    }

    fn remote_decided(
        provider: &TracerProvider,
        trace_id: TraceId,
        parent: Option<SpanId>,
        params: &crate::sampling::SamplingParams<'_>,
    ) -> Context {
        Context {
            active: Some(Active {
                provider: provider.inner.clone(),
                trace_id,
                span_id: parent,
                sampled: provider.inner.head_sample(params),
            }),
        }
    }

    /// A context continuing the caller's trace from a W3C `traceparent` header: spans started
    /// in it are children of the remote span.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// let cx = agent_trace::Context::from_traceparent(&p, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    /// assert_eq!(cx.traceparent().unwrap(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    /// ```
    pub fn from_traceparent(
        provider: &TracerProvider,
        header: &str,
    ) -> Result<Context, crate::propagation::TraceparentError> {
        let p = crate::propagation::parse_traceparent(header)?;
        Ok(Context::remote_sampled(
            provider,
            p.trace_id,
            Some(p.parent_id),
            p.sampled,
        ))
    }

    /// The `traceparent` header for this position, to send to another process (its sampled
    /// flag from [`outgoing_sampled`](crate::propagation::outgoing_sampled)); `None` outside a
    /// trace or at a trace's root (no span to be the parent).
    ///
    /// ```
    /// assert!(agent_trace::Context::current().traceparent().is_none());
    /// ```
    pub fn traceparent(&self) -> Option<String> {
        let a = self.active.as_ref()?;
        Some(crate::propagation::format_traceparent(
            a.trace_id,
            a.span_id?,
            crate::propagation::outgoing_sampled(self),
        ))
    }

    /// Whether this position's trace is sampled (recorded): false outside a trace and in a
    /// trace the head sampler dropped. An outgoing `traceparent` carries it as its flag.
    ///
    /// ```
    /// assert!(!agent_trace::Context::current().is_sampled());
    /// ```
    pub fn is_sampled(&self) -> bool {
        self.active.as_ref().is_some_and(|a| a.sampled)
    }

    /// The trace, if any.
    ///
    /// ```
    /// assert!(agent_trace::Context::default().trace_id().is_none());
    /// ```
    pub fn trace_id(&self) -> Option<TraceId> {
        self.active.as_ref().map(|a| a.trace_id)
    }

    /// The span new spans will have as parent (`None` at the root of a trace or outside one).
    ///
    /// ```
    /// assert!(agent_trace::Context::default().span_id().is_none());
    /// ```
    pub fn span_id(&self) -> Option<SpanId> {
        self.active.as_ref().and_then(|a| a.span_id)
    }

    /// Makes this the current context on this thread until the guard is dropped.
    ///
    /// Do not hold the guard across an `.await`: use
    /// [`Instrument::in_context`](crate::Instrument::in_context) for futures. The guard is not
    /// `Send`, which catches that mistake in spawned futures (not on a current-thread runtime,
    /// a `LocalSet` or `block_on`).
    ///
    /// Drop guards in the reverse order of their `attach`, and do not let one outlive the scope
    /// it was made in (e.g. return it from `in_scope`): each guard restores the position that
    /// was current when it was made, so out of order the thread is left in a position that has
    /// ended, later spans on it join that trace, and its provider stays alive. Nothing dangles
    /// either way. A guard passed to `mem::forget` keeps its provider alive for good.
    ///
    /// ```
    /// let cx = agent_trace::Context::current();
    /// let _g = cx.attach();
    /// ```
    pub fn attach(self) -> ContextGuard {
        ContextGuard {
            prev: swap_active(self.active),
            _not_send: PhantomData,
        }
    }

    /// Runs `f` with this context current.
    ///
    /// ```
    /// let n = agent_trace::Context::current().run(|| 1 + 1);
    /// assert_eq!(n, 2);
    /// ```
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let _g = self.attach();
        f()
    }
}

/// Restores the previous context when dropped. See [`Context::attach`].
#[must_use = "the context is detached again when the guard is dropped"]
pub struct ContextGuard {
    prev: Option<Active>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        // Guards dropped out of order restore an out-of-date position, but every position
        // owns its provider reference, so nothing dangles.
        drop(swap_active(self.prev.take()));
    }
}

impl std::fmt::Debug for ContextGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContextGuard")
    }
}

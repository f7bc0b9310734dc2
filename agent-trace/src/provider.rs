//! The tracer provider: holds the processors, hands traces and spans to them, and carries the
//! on/off switch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::diag::RateLimited;
use crate::model::{SpanRecord, TraceRecord};
use crate::processor::{TraceError, TracingProcessor};

/// A set of processors that traces and spans are handed to.
///
/// A provider is a reference-counted handle: clones share one provider. It stays alive while a
/// handle, a running trace or span, or a captured [`Context`](crate::Context) refers to it; when
/// the last of them goes, each processor's
/// [`on_provider_drop`](TracingProcessor::on_provider_drop) runs (shut down by default; a
/// [`BatchProcessor`](crate::BatchProcessor) another provider still shares only flushes),
/// bounded by [`TracerProviderBuilder::drop_timeout`] (a batch processor adds at most 0.5 s for
/// its reply; a custom processor that ignores its timeout is not bounded). On a Tokio runtime
/// thread that work moves to a short-lived thread of its own, which the exit hook waits for;
/// without the `tokio` feature no runtime can be detected and the drop runs where it happens —
/// in async code, prefer `provider.shutdown(timeout).await` before the last handle goes. A test
/// suite or a server can build one provider per test or per tenant.
///
/// An exporter must not hold a handle (or a span, or a context) of its own provider: that is a
/// reference cycle, and the provider is then never shut down.
///
/// The provider installed with [`set_global_provider`] (or kept with
/// [`TracerProvider::leak`]) lives for the rest of the process instead, and its spans skip the
/// reference count: that is the fast path.
///
/// ```
/// use agent_trace::{testing::CollectingProcessor, TracerProvider};
///
/// let spans = CollectingProcessor::new();
/// let provider = TracerProvider::builder().with_processor(spans.clone()).build();
/// provider.trace("wf").in_scope(|| {
///     agent_trace::custom_span("work").in_scope(|| {});
/// });
/// drop(provider); // the last handle: processors are flushed and shut down
/// assert_eq!(spans.spans().len(), 1);
/// ```
#[derive(Clone)]
pub struct TracerProvider {
    pub(crate) inner: ProviderRef,
}

// A provider stays consistent across a panic (atomics, and processors are isolated by
// catch_unwind), so holding one in code that catches panics is fine.
impl std::panic::UnwindSafe for TracerProvider {}
impl std::panic::RefUnwindSafe for TracerProvider {}

impl std::fmt::Debug for TracerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracerProvider")
            .field("processors", &self.inner.processors.len())
            .field("enabled", &self.inner.enabled.load(Ordering::Relaxed))
            .field("static", &self.inner.is_pinned())
            .finish()
    }
}

/// A counted reference to a provider's state, or a plain one once the provider is pinned
/// (global or leaked): then cloning and dropping it touch no shared counter.
///
/// The pointer comes from `Arc::into_raw`. While `pinned` is false, each `ProviderRef` owns one
/// strong count. Pinning adds one count that is never released, then sets `pinned`; from then
/// on refs neither add nor release counts. A ref that added a count before the pin and is
/// dropped after it leaves that count behind, which only leaks what pinning keeps anyway.
pub(crate) struct ProviderRef {
    ptr: NonNull<ProviderInner>,
}

// SAFETY: ProviderRef is an `Arc<ProviderInner>` (or a `&'static` once pinned); ProviderInner
// is Send + Sync (atomics and `Arc<dyn TracingProcessor>` with `Send + Sync` bounds).
unsafe impl Send for ProviderRef {}
// SAFETY: as above.
unsafe impl Sync for ProviderRef {}

impl ProviderRef {
    fn new(inner: ProviderInner) -> ProviderRef {
        let raw = Arc::into_raw(Arc::new(inner)) as *mut ProviderInner;
        ProviderRef {
            // SAFETY: Arc::into_raw never returns null.
            ptr: unsafe { NonNull::new_unchecked(raw) },
        }
    }

    /// A ref to a pinned provider, which owns no count.
    ///
    /// # Safety
    /// `ptr` must point to a provider whose `pin` has completed.
    unsafe fn from_pinned(ptr: NonNull<ProviderInner>) -> ProviderRef {
        ProviderRef { ptr }
    }

    /// Gives up this ref without releasing its count (see [`ProviderRef::from_raw`]).
    #[inline]
    pub(crate) fn into_raw(self) -> NonNull<ProviderInner> {
        std::mem::ManuallyDrop::new(self).ptr
    }

    /// Takes back a ref given up with [`ProviderRef::into_raw`].
    ///
    /// # Safety
    /// `ptr` must come from `into_raw`, and be taken back at most once.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: NonNull<ProviderInner>) -> ProviderRef {
        ProviderRef { ptr }
    }

    /// Keeps the provider for the rest of the process.
    fn pin(&self) {
        if self.is_pinned() {
            return;
        }
        // SAFETY: `self` owns a count, so the allocation is live; the extra count is leaked
        // on purpose (see the type's docs).
        unsafe { Arc::increment_strong_count(self.ptr.as_ptr()) };
        self.pinned.store(true, Ordering::Release);
    }
}

impl std::ops::Deref for ProviderRef {
    type Target = ProviderInner;

    #[inline]
    fn deref(&self) -> &ProviderInner {
        // SAFETY: a ProviderRef owns a strong count, or the provider is pinned (never freed).
        unsafe { self.ptr.as_ref() }
    }
}

impl Clone for ProviderRef {
    #[inline]
    fn clone(&self) -> ProviderRef {
        if !self.is_pinned() {
            // SAFETY: `self` owns a count, so the allocation is live.
            unsafe { Arc::increment_strong_count(self.ptr.as_ptr()) };
        }
        ProviderRef { ptr: self.ptr }
    }
}

impl Drop for ProviderRef {
    #[inline]
    fn drop(&mut self) {
        if !self.is_pinned() {
            // SAFETY: `self` owns one count, released exactly once here.
            unsafe { Arc::decrement_strong_count(self.ptr.as_ptr()) };
        }
    }
}

pub(crate) struct ProviderInner {
    processors: Box<[Arc<dyn TracingProcessor>]>,
    /// Indexes of processors that want `on_span_start`.
    start_listeners: Box<[usize]>,
    enabled: AtomicBool,
    /// Set once the provider lives for the rest of the process (see [`ProviderRef`]).
    pinned: AtomicBool,
    panics: AtomicU64,
    /// The bound on the flush and shutdown that run when the last reference goes.
    drop_timeout: Duration,
}

/// The default bound on the shutdown a provider runs when its last reference is dropped.
pub const DEFAULT_DROP_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a [`TracerProvider`].
pub struct TracerProviderBuilder {
    processors: Vec<Arc<dyn TracingProcessor>>,
    disabled: bool,
    drop_timeout: Duration,
}

impl Default for TracerProviderBuilder {
    fn default() -> Self {
        TracerProviderBuilder {
            processors: Vec::new(),
            disabled: false,
            drop_timeout: DEFAULT_DROP_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for TracerProviderBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracerProviderBuilder")
            .field("processors", &self.processors.len())
            .field("disabled", &self.disabled)
            .field("drop_timeout", &self.drop_timeout)
            .finish()
    }
}

impl TracerProviderBuilder {
    /// Adds a processor. Processors see each item in the order they were added.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder()
    ///     .with_processor(agent_trace::testing::CollectingProcessor::new())
    ///     .build();
    /// assert!(p.is_enabled());
    /// ```
    pub fn with_processor(mut self, processor: impl TracingProcessor) -> Self {
        self.processors.push(Arc::new(processor));
        self
    }

    /// Adds a processor that is shared with other code.
    ///
    /// ```
    /// let shared = std::sync::Arc::new(agent_trace::testing::CollectingProcessor::new());
    /// let p = agent_trace::TracerProvider::builder().with_shared_processor(shared.clone()).build();
    /// # let _ = p;
    /// ```
    pub fn with_shared_processor(mut self, processor: Arc<dyn TracingProcessor>) -> Self {
        self.processors.push(processor);
        self
    }

    /// Starts the provider switched off (see [`TracerProvider::set_enabled`]).
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().disabled().build();
    /// assert!(!p.is_enabled());
    /// ```
    pub fn disabled(mut self) -> Self {
        self.disabled = true;
        self
    }

    /// How long the flush and shutdown that run when the provider's last reference is dropped
    /// may take in all (default [`DEFAULT_DROP_TIMEOUT`], 5 s). Past it, what is still queued
    /// stays counted in the processors' stats.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder()
    ///     .drop_timeout(std::time::Duration::from_secs(1))
    ///     .build();
    /// # drop(p);
    /// ```
    pub fn drop_timeout(mut self, timeout: Duration) -> Self {
        self.drop_timeout = timeout;
        self
    }

    /// Builds the provider. It is not installed globally: see [`set_global_provider`].
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// # let _ = p;
    /// ```
    pub fn build(self) -> TracerProvider {
        let start_listeners = self
            .processors
            .iter()
            .enumerate()
            .filter(|(_, p)| p.wants_span_start())
            .map(|(i, _)| i)
            .collect();
        TracerProvider {
            inner: ProviderRef::new(ProviderInner {
                processors: self.processors.into_boxed_slice(),
                start_listeners,
                enabled: AtomicBool::new(!self.disabled),
                pinned: AtomicBool::new(false),
                panics: AtomicU64::new(0),
                drop_timeout: self.drop_timeout,
            }),
        }
    }
}

static PROCESSOR_PANICKED: RateLimited =
    RateLimited::new("processor_panicked", Duration::from_secs(10));

impl ProviderInner {
    #[inline]
    fn is_pinned(&self) -> bool {
        self.pinned.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn is_enabled(&self) -> bool {
        self.own_switch_on() && globally_enabled()
    }

    /// This provider's own switch, without the global one.
    #[inline]
    pub(crate) fn own_switch_on(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    fn guarded(&self, what: &'static str, f: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            self.panics.fetch_add(1, Ordering::Relaxed);
            let msg = crate::panic_message(&*payload);
            PROCESSOR_PANICKED.hit(1, |n| {
                format!("a tracing processor panicked in {what} ({n} time(s) since the last report): {msg}; the item was skipped for that processor, the others got it")
            });
        }
    }

    pub(crate) fn trace_start(&self, trace: &TraceRecord) {
        for p in self.processors.iter() {
            self.guarded("on_trace_start", || p.on_trace_start(trace));
        }
    }

    pub(crate) fn trace_end(&self, trace: &TraceRecord) {
        for p in self.processors.iter() {
            self.guarded("on_trace_end", || p.on_trace_end(trace));
        }
    }

    #[inline]
    pub(crate) fn span_start(&self, span: &SpanRecord) {
        for &i in self.start_listeners.iter() {
            let p = &self.processors[i];
            self.guarded("on_span_start", || p.on_span_start(span));
        }
    }

    /// Hands an ended span to the processors; the last may take it out of `slot`.
    #[inline]
    pub(crate) fn span_end(&self, slot: &mut Option<SpanRecord>) {
        let Some((last, init)) = self.processors.split_last() else {
            return;
        };
        for p in init {
            if let Some(span) = slot.as_ref() {
                self.guarded("on_span_end", || p.on_span_end(span));
            }
        }
        self.guarded("on_span_end", || last.on_span_end_last(slot));
    }
}

impl TracerProvider {
    /// Starts building a provider.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// # let _ = p;
    /// ```
    pub fn builder() -> TracerProviderBuilder {
        TracerProviderBuilder::default()
    }

    /// Keeps this provider for the rest of the process, as [`set_global_provider`] does: its
    /// spans and contexts then skip the reference count (the fast path), and dropping its
    /// handles no longer shuts it down — call [`shutdown`](Self::shutdown) yourself.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build().leak();
    /// p.trace("wf").in_scope(|| agent_trace::custom_span("fast").end());
    /// ```
    pub fn leak(self) -> TracerProvider {
        self.inner.pin();
        self
    }

    /// Switches this provider on or off. Off, new traces and spans are no-ops.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// p.set_enabled(false);
    /// assert!(!p.is_enabled());
    /// ```
    pub fn set_enabled(&self, on: bool) {
        self.inner.enabled.store(on, Ordering::Relaxed);
    }

    /// Whether this provider records (its own switch and the global one).
    ///
    /// ```
    /// assert!(agent_trace::TracerProvider::builder().build().is_enabled() || !agent_trace::is_enabled());
    /// ```
    pub fn is_enabled(&self) -> bool {
        self.inner.is_enabled()
    }

    /// Whether two handles refer to the same provider.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// assert!(p.same_as(&p.clone()));
    /// ```
    pub fn same_as(&self, other: &TracerProvider) -> bool {
        self.inner.ptr == other.inner.ptr
    }

    /// How many times a processor panicked (each panic was caught).
    ///
    /// ```
    /// assert_eq!(agent_trace::TracerProvider::builder().build().processor_panics(), 0);
    /// ```
    pub fn processor_panics(&self) -> u64 {
        self.inner.panics.load(Ordering::Relaxed)
    }

    /// Flushes every processor; resolves once all items ended before the call are exported
    /// or accounted for. Errors of several processors are joined into one.
    ///
    /// ```
    /// # async fn demo() -> Result<(), agent_trace::TraceError> {
    /// agent_trace::TracerProvider::builder().build().force_flush().await?;
    /// # Ok(()) }
    /// ```
    pub async fn force_flush(&self) -> Result<(), TraceError> {
        let mut errors = Vec::new();
        for p in self.inner.processors.iter() {
            if let Err(e) = p.force_flush().await {
                errors.push(e.to_string());
            }
        }
        join_errors(errors)
    }

    /// Flushes and shuts down every processor, each within `timeout`. Spans ended later are
    /// ignored. Calling it twice is harmless.
    ///
    /// ```
    /// # async fn demo() -> Result<(), agent_trace::TraceError> {
    /// let p = agent_trace::TracerProvider::builder().build();
    /// p.shutdown(std::time::Duration::from_secs(5)).await?;
    /// p.shutdown(std::time::Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), TraceError> {
        let mut errors = Vec::new();
        for p in self.inner.processors.iter() {
            if let Err(e) = p.shutdown(timeout).await {
                errors.push(e.to_string());
            }
        }
        join_errors(errors)
    }
}

impl TracerProvider {
    /// [`force_flush`](Self::force_flush) for sync code: blocks up to `timeout` per processor.
    /// It never needs the caller's runtime, so it cannot deadlock inside one, but it blocks
    /// the calling thread: in async code prefer `force_flush().await`.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// p.force_flush_blocking(std::time::Duration::from_secs(1)).unwrap();
    /// ```
    pub fn force_flush_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        join_errors(
            self.inner
                .processors
                .iter()
                .filter_map(|p| p.force_flush_blocking(timeout).err())
                .map(|e| e.to_string())
                .collect(),
        )
    }

    /// [`shutdown`](Self::shutdown) for sync code (see
    /// [`force_flush_blocking`](Self::force_flush_blocking)).
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// p.shutdown_blocking(std::time::Duration::from_secs(1)).unwrap();
    /// ```
    pub fn shutdown_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        join_errors(
            self.inner
                .processors
                .iter()
                .filter_map(|p| p.shutdown_blocking(timeout).err())
                .map(|e| e.to_string())
                .collect(),
        )
    }
}

fn join_errors(errors: Vec<String>) -> Result<(), TraceError> {
    match errors.len() {
        0 => Ok(()),
        _ => Err(TraceError::Failed(errors.join("; "))),
    }
}

impl Drop for ProviderInner {
    /// The last reference is gone: each processor's [`TracingProcessor::on_provider_drop`]
    /// (by default: shut down; a shared `BatchProcessor` only flushes) runs within
    /// `drop_timeout` in all. On a Tokio runtime thread the work moves to a thread of its own,
    /// so that the drop neither blocks the runtime nor needs it; the exit hook waits for such
    /// threads (bounded), so a provider dropped at the end of `#[tokio::main]` still delivers.
    fn drop(&mut self) {
        if self.processors.is_empty() {
            return;
        }
        let processors = std::mem::take(&mut self.processors);
        let timeout = self.drop_timeout;
        if !on_runtime_thread() {
            shut_down_all(&processors, timeout);
            return;
        }
        register_exit_flush();
        PENDING_DROPS.started();
        let spawned = std::thread::Builder::new()
            .name("agent-trace-drop".into())
            .spawn(move || {
                shut_down_all(&processors, timeout);
                PENDING_DROPS.finished();
            });
        if let Err(e) = spawned {
            PENDING_DROPS.finished();
            crate::diag::emit(crate::diag::Diagnostic {
                key: "provider_drop",
                message: format!("a dropped provider could not start its shutdown thread ({e}); its processors were not flushed — call shutdown() before dropping it"),
                count: 1,
            });
        }
    }
}

/// Shutdowns of dropped providers still running on their own threads; the exit hook waits
/// for them.
struct PendingDrops {
    count: std::sync::Mutex<usize>,
    done: std::sync::Condvar,
}

static PENDING_DROPS: PendingDrops = PendingDrops {
    count: std::sync::Mutex::new(0),
    done: std::sync::Condvar::new(),
};

impl PendingDrops {
    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn started(&self) {
        *self.lock() += 1;
    }

    fn finished(&self) {
        let mut n = self.lock();
        *n = n.saturating_sub(1);
        self.done.notify_all();
    }

    /// Waits until none is running, or until `deadline`.
    fn wait(&self, deadline: Instant) {
        let mut n = self.lock();
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            n = match self.done.wait_timeout(n, left) {
                Ok((n, _)) => n,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// Runs each processor's drop hook one after the other, sharing one deadline.
fn shut_down_all(processors: &[Arc<dyn TracingProcessor>], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    for p in processors {
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = match catch_unwind(AssertUnwindSafe(|| p.on_provider_drop(left))) {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(payload) => format!("it panicked: {}", crate::panic_message(&*payload)),
        };
        crate::diag::emit(crate::diag::Diagnostic {
            key: "provider_drop",
            message: format!("shutting down a dropped provider's processor failed: {failure}"),
            count: 1,
        });
    }
}

/// Whether this thread runs a Tokio runtime (a worker, or a thread inside `block_on`).
#[cfg(feature = "tokio")]
fn on_runtime_thread() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Without the `tokio` feature no Tokio runtime can be detected.
#[cfg(not(feature = "tokio"))]
fn on_runtime_thread() -> bool {
    false
}

static GLOBAL: AtomicPtr<ProviderInner> = AtomicPtr::new(std::ptr::null_mut());

/// Installs `provider` as the one [`trace`](crate::trace()) uses. Traces already running keep the
/// provider they started with.
///
/// The global provider lives for the rest of the process (its spans skip the reference count).
/// At a normal exit — `main` returning, or [`std::process::exit`] — it is shut down, which
/// flushes what was ended before, within [`EXIT_FLUSH_TIMEOUT`] (5 s), as the OpenAI Agents
/// SDK does with its exit hook. Nothing runs on `abort`, a fatal signal, or a panic with
/// `panic = "abort"`: await [`TracerProvider::force_flush`] where losing the tail matters.
///
/// ```
/// let p = agent_trace::TracerProvider::builder().build();
/// agent_trace::set_global_provider(&p);
/// assert!(agent_trace::global_provider().is_some());
/// ```
pub fn set_global_provider(provider: &TracerProvider) {
    provider.inner.pin();
    GLOBAL.store(provider.inner.ptr.as_ptr(), Ordering::Release);
    register_exit_flush();
}

/// The bound on the shutdown of the global provider at process exit.
pub const EXIT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Registers, once, the C `atexit` hook that shuts the global provider down.
fn register_exit_flush() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: `atexit` takes a plain `extern "C" fn()` that lives for the process; ours
        // never unwinds (it catches panics) and only uses the global provider, which is never
        // freed.
        if unsafe { libc::atexit(shut_down_global_at_exit) } != 0 {
            crate::diag::emit(crate::diag::Diagnostic {
                key: "exit_hook",
                message: "could not register the exit hook that flushes the global provider; await force_flush() before exiting".to_owned(),
                count: 1,
            });
        }
    });
}

/// Runs at process exit: shuts the global provider down (flushing what it holds) and waits for
/// the shutdowns of dropped providers still running on their own threads, all within
/// [`EXIT_FLUSH_TIMEOUT`].
extern "C" fn shut_down_global_at_exit() {
    let _ = catch_unwind(|| {
        let deadline = Instant::now() + EXIT_FLUSH_TIMEOUT;
        if let Some(provider) = global_provider() {
            if let Err(e) = provider.shutdown_blocking(EXIT_FLUSH_TIMEOUT) {
                eprintln!("agent-trace: flushing at exit: {e}");
            }
        }
        PENDING_DROPS.wait(deadline);
    });
}

/// The globally installed provider, if any.
///
/// ```
/// let _maybe = agent_trace::global_provider();
/// ```
pub fn global_provider() -> Option<TracerProvider> {
    let p = NonNull::new(GLOBAL.load(Ordering::Acquire))?;
    // SAFETY: GLOBAL only ever holds null or the pointer of a provider pinned before it was
    // stored (`set_global_provider`), which is never freed.
    Some(TracerProvider {
        inner: unsafe { ProviderRef::from_pinned(p) },
    })
}

/// 0 = not read yet, 1 = on, 2 = off.
static GLOBAL_SWITCH: AtomicU8 = AtomicU8::new(0);

fn env_says_disabled() -> bool {
    ["AGENT_TRACE_DISABLED", "OTEL_SDK_DISABLED"]
        .iter()
        .any(|k| {
            std::env::var(k)
                .map(|v| {
                    matches!(
                        v.trim().to_ascii_lowercase().as_str(),
                        "1" | "true" | "yes" | "on"
                    )
                })
                .unwrap_or(false)
        })
}

/// Whether tracing is on globally: off when [`set_enabled`]`(false)` was called, or, until
/// then, when `AGENT_TRACE_DISABLED` or `OTEL_SDK_DISABLED` is `true`/`1` (read once).
///
/// ```
/// let _on = agent_trace::is_enabled();
/// ```
#[inline]
pub fn is_enabled() -> bool {
    match GLOBAL_SWITCH.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => read_switch_from_env(),
    }
}

/// First use: the environment decides, once.
#[cold]
#[inline(never)]
fn read_switch_from_env() -> bool {
    let on = !env_says_disabled();
    let _ = GLOBAL_SWITCH.compare_exchange(
        0,
        if on { 1 } else { 2 },
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    GLOBAL_SWITCH.load(Ordering::Relaxed) == 1
}

#[inline]
fn globally_enabled() -> bool {
    is_enabled()
}

/// Switches all tracing on or off, overriding the environment variables. Off, traces and spans
/// are no-ops that cost a few nanoseconds; code that nests them keeps working.
///
/// ```
/// agent_trace::set_enabled(true);
/// assert!(agent_trace::is_enabled());
/// ```
pub fn set_enabled(on: bool) {
    GLOBAL_SWITCH.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

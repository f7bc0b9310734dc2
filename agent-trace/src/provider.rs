//! The tracer provider: holds the processors, hands traces and spans to them, and carries the
//! on/off switch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::diag::RateLimited;
use crate::model::{SpanRecord, TraceRecord};
use crate::processor::{TraceError, TracingProcessor};
use crate::trace::TraceBuilder;

/// A set of processors that traces and spans are handed to.
///
/// A provider is a cheap `Copy` handle. Its state lives for the rest of the process (a few
/// hundred bytes plus the processors), which is what lets every span refer to it without
/// reference counting; create one per application, or one per test.
///
/// ```
/// use agent_trace::{testing::CollectingProcessor, TracerProvider};
///
/// let spans = CollectingProcessor::new();
/// let provider = TracerProvider::builder().with_processor(spans.clone()).build();
/// provider.trace("wf").in_scope(|| {
///     agent_trace::custom_span("work").in_scope(|| {});
/// });
/// assert_eq!(spans.spans().len(), 1);
/// ```
#[derive(Clone, Copy)]
pub struct TracerProvider {
    pub(crate) inner: &'static ProviderInner,
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
            .finish()
    }
}

pub(crate) struct ProviderInner {
    processors: Box<[Arc<dyn TracingProcessor>]>,
    /// Indexes of processors that want `on_span_start`.
    start_listeners: Box<[usize]>,
    enabled: AtomicBool,
    panics: AtomicU64,
}

/// Builds a [`TracerProvider`].
#[derive(Default)]
pub struct TracerProviderBuilder {
    processors: Vec<Arc<dyn TracingProcessor>>,
    disabled: bool,
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
        let inner = Box::leak(Box::new(ProviderInner {
            processors: self.processors.into_boxed_slice(),
            start_listeners,
            enabled: AtomicBool::new(!self.disabled),
            panics: AtomicU64::new(0),
        }));
        TracerProvider { inner }
    }
}

static PROCESSOR_PANICKED: RateLimited =
    RateLimited::new("processor_panicked", Duration::from_secs(10));

impl ProviderInner {
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

    /// Starts a trace on this provider (rather than the global one).
    ///
    /// ```
    /// # async fn demo() {
    /// let p = agent_trace::TracerProvider::builder().build();
    /// p.trace("nightly-report").run(async { /* ... */ }).await;
    /// # }
    /// ```
    pub fn trace(&self, workflow_name: impl Into<crate::Str>) -> TraceBuilder {
        TraceBuilder::new(*self, workflow_name.into())
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

static GLOBAL: AtomicPtr<ProviderInner> = AtomicPtr::new(std::ptr::null_mut());

/// Installs `provider` as the one [`trace`](crate::trace()) uses. Traces already running keep the
/// provider they started with.
///
/// ```
/// let p = agent_trace::TracerProvider::builder().build();
/// agent_trace::set_global_provider(p);
/// assert!(agent_trace::global_provider().is_some());
/// ```
pub fn set_global_provider(provider: TracerProvider) {
    GLOBAL.store(
        provider.inner as *const ProviderInner as *mut ProviderInner,
        Ordering::Release,
    );
}

/// The globally installed provider, if any.
///
/// ```
/// let _maybe = agent_trace::global_provider();
/// ```
pub fn global_provider() -> Option<TracerProvider> {
    let p = GLOBAL.load(Ordering::Acquire);
    // SAFETY: GLOBAL only ever holds null or a pointer from `Box::leak` in `build`, which is
    // valid for 'static and never freed.
    unsafe { p.as_ref() }.map(|inner| TracerProvider { inner })
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

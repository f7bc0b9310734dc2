//! The tracer provider: holds the processors and hands traces and spans to them. The pieces
//! around it have their own files: the counted reference (`reference.rs`), what happens when
//! the last reference goes or the process exits (`shutdown.rs`), and the global provider and
//! on/off switch (`global.rs`).

mod global;
mod reference;
mod shutdown;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::diag::RateLimited;
use crate::model::{SpanData, SpanRecord, TraceRecord};
use crate::privacy::{Privacy, Redactor};
use crate::processor::{TraceError, TracingProcessor};
use crate::sampling::{Sampler, SamplingCounters, SamplingParams, SamplingStats, SpanFilter};

use global::globally_enabled;
pub(crate) use global::switch_read_on;
pub use global::{global_provider, is_enabled, set_enabled, set_global_provider};
pub(crate) use reference::ProviderRef;
pub use shutdown::EXIT_FLUSH_TIMEOUT;

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
    /// The head sampler; `None` is parent-based always-on.
    sampler: Option<Box<dyn Sampler>>,
    /// The span filter; `None` keeps every span.
    filter: Option<SpanFilter>,
    sampling: SamplingCounters,
    /// Content, redaction and truncation, applied before any processor sees a record.
    pub(crate) privacy: Privacy,
    /// The processor when it is the only one and the built-in batch processor: span ends go
    /// straight to its queue.
    #[cfg(feature = "pipeline")]
    sole_batch: Option<crate::BatchProcessor>,
}

/// The default bound on the shutdown a provider runs when its last reference is dropped.
pub const DEFAULT_DROP_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a [`TracerProvider`].
pub struct TracerProviderBuilder {
    processors: Vec<Arc<dyn TracingProcessor>>,
    disabled: bool,
    drop_timeout: Duration,
    sampler: Option<Box<dyn Sampler>>,
    filter: Option<SpanFilter>,
    privacy: Privacy,
}

impl Default for TracerProviderBuilder {
    fn default() -> Self {
        TracerProviderBuilder {
            processors: Vec::new(),
            disabled: false,
            drop_timeout: DEFAULT_DROP_TIMEOUT,
            sampler: None,
            filter: None,
            privacy: Privacy::default(),
        }
    }
}

impl std::fmt::Debug for TracerProviderBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracerProviderBuilder")
            .field("processors", &self.processors.len())
            .field("disabled", &self.disabled)
            .field("drop_timeout", &self.drop_timeout)
            .field("sampler", &self.sampler)
            .field("span_filter", &self.filter)
            .field("privacy", &self.privacy)
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

    /// Sets the head sampler, decided once per trace when it starts (see
    /// [`sampling`](crate::sampling)). Without one, `OTEL_TRACES_SAMPLER` /
    /// `OTEL_TRACES_SAMPLER_ARG` are read; without them every trace is sampled unless it
    /// continues a remote trace whose `traceparent` says not sampled (`parentbased_always_on`).
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder()
    ///     .sampler(agent_trace::sampling::TraceIdRatio::new(0.25))
    ///     .build();
    /// # let _ = p;
    /// ```
    pub fn sampler(mut self, sampler: impl Sampler) -> Self {
        self.sampler = Some(Box::new(sampler));
        self
    }

    /// Sets which span kinds and names are recorded (see
    /// [`SpanFilter`](crate::sampling::SpanFilter)). `AGENT_TRACE_SPAN_KINDS` and
    /// `AGENT_TRACE_SPAN_FILTER`, when set, replace the kinds and the name rules given here.
    ///
    /// ```
    /// use agent_trace::{sampling::SpanFilter, SpanKind};
    /// let p = agent_trace::TracerProvider::builder()
    ///     .span_filter(SpanFilter::new().drop_kind(SpanKind::Function))
    ///     .build();
    /// # let _ = p;
    /// ```
    pub fn span_filter(mut self, filter: SpanFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Records content — inputs, outputs, messages, tool arguments and results, error data —
    /// (default **off**: spans keep names, timings, usage and error messages only). When
    /// [`AGENT_TRACE_INCLUDE_SENSITIVE_DATA`](crate::privacy::SENSITIVE_DATA_ENV) or
    /// [`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`](crate::privacy::GENAI_CAPTURE_ENV)
    /// is set, the variable wins over this call (see [`crate::privacy`]).
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().include_sensitive_data(true).build();
    /// assert_eq!(
    ///     p.includes_sensitive_data(),
    ///     agent_trace::privacy::sensitive_data_from_env().unwrap_or(true)
    /// );
    /// ```
    pub fn include_sensitive_data(mut self, on: bool) -> Self {
        self.privacy.include_sensitive_data = on;
        self
    }

    /// Replaces secrets in every string of every record with `[REDACTED:<label>]` before any
    /// processor sees it (default: no redaction). See [`Redactor`].
    ///
    /// ```
    /// use agent_trace::privacy::Redactor;
    /// let p = agent_trace::TracerProvider::builder()
    ///     .redactor(Redactor::new().with_pattern(r"acct-\d+").unwrap())
    ///     .build();
    /// # drop(p);
    /// ```
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.privacy.redactor = Some(Arc::new(redactor));
        self
    }

    /// The longest string field a record keeps, in bytes (default
    /// [`DEFAULT_MAX_FIELD_BYTES`](crate::privacy::DEFAULT_MAX_FIELD_BYTES), 100 KiB; at
    /// least 1). A longer string is cut at a character boundary and ends with
    /// `…[truncated by agent-trace: N of M bytes cut]`. `usize::MAX` cuts nothing.
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().max_field_bytes(16 * 1024).build();
    /// # drop(p);
    /// ```
    pub fn max_field_bytes(mut self, max: usize) -> Self {
        self.privacy.max_field_bytes = max.max(1);
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
        let mut privacy = self.privacy;
        if let Some(on) = crate::privacy::sensitive_data_from_env() {
            privacy.include_sensitive_data = on;
        }
        // The global switch is read from the environment now if it has not been yet: span
        // starts look only for "on" (see `global::switch_read_on`), and no span can start under
        // a position before a provider exists.
        let _ = global::is_enabled();
        #[cfg(feature = "pipeline")]
        let sole_batch = match &*self.processors {
            [only] => only.__as_batch_processor().cloned(),
            _ => None,
        };
        TracerProvider {
            inner: ProviderRef::new(ProviderInner {
                #[cfg(feature = "pipeline")]
                sole_batch,
                processors: self.processors.into_boxed_slice(),
                start_listeners,
                enabled: AtomicBool::new(!self.disabled),
                pinned: AtomicBool::new(false),
                panics: AtomicU64::new(0),
                drop_timeout: self.drop_timeout,
                sampler: self
                    .sampler
                    .or_else(crate::sampling::env::env_sampler_or_default),
                filter: crate::sampling::env::apply_env_filter(self.filter)
                    .filter(|f| !f.is_noop()),
                sampling: SamplingCounters::default(),
                privacy,
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

    /// The head decision for a trace starting (or continued) here, counted.
    pub(crate) fn head_sample(&self, params: &SamplingParams<'_>) -> bool {
        let sampled = match &self.sampler {
            Some(s) => catch_unwind(AssertUnwindSafe(|| s.should_sample(params))).unwrap_or(true),
            None => params.parent_sampled.unwrap_or(true),
        };
        self.sampling.count_trace(sampled);
        sampled
    }

    /// Whether a span filter (selective tracing) looks at spans as they start.
    #[inline]
    pub(crate) fn has_span_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// Whether the span filter keeps a span with `data` (a drop is counted).
    #[inline]
    pub(crate) fn keeps_span(&self, data: &SpanData) -> bool {
        match &self.filter {
            None => true,
            Some(f) => self.filter_span(f, data),
        }
    }

    #[inline(never)]
    fn filter_span(&self, f: &SpanFilter, data: &SpanData) -> bool {
        let keep = f.keeps(data);
        if !keep {
            self.sampling.spans_filtered.fetch_add(1, Ordering::Relaxed);
        }
        keep
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

    /// Whether this provider records content (inputs, outputs, error data).
    #[inline]
    pub(crate) fn records_content(&self) -> bool {
        self.privacy.include_sensitive_data
    }

    pub(crate) fn trace_start(&self, trace: &TraceRecord) {
        self.deliver_trace(trace, "on_trace_start", |p, t| p.on_trace_start(t));
    }

    pub(crate) fn trace_end(&self, trace: &TraceRecord) {
        self.deliver_trace(trace, "on_trace_end", |p, t| p.on_trace_end(t));
    }

    /// Hands a trace record, cleaned, to every processor through `call` (`what` names the
    /// callback in a panic report).
    #[inline]
    fn deliver_trace(
        &self,
        trace: &TraceRecord,
        what: &'static str,
        call: impl Fn(&dyn TracingProcessor, &TraceRecord),
    ) {
        let cleaned = self.privacy.apply_trace(trace);
        let trace = cleaned.as_ref().unwrap_or(trace);
        // Our own processor alone: straight to its queue, with no virtual call or panic guard
        // (a batch processor queues the record the same way at a trace's start and end).
        #[cfg(feature = "pipeline")]
        if let Some(batch) = &self.sole_batch {
            batch.enqueue_trace(trace);
            return;
        }
        for p in self.processors.iter() {
            self.guarded(what, || call(&**p, trace));
        }
    }

    /// Whether a processor wants [`span_start`](Self::span_start) calls.
    #[inline]
    pub(crate) fn has_start_listeners(&self) -> bool {
        !self.start_listeners.is_empty()
    }

    /// Only called when [`has_start_listeners`](Self::has_start_listeners).
    pub(crate) fn span_start(&self, span: &SpanRecord) {
        // The listeners see the span as the exporters will: a copy only when it needs cleaning.
        let cleaned = self.privacy.apply_span_start(span);
        let span = cleaned.as_ref().unwrap_or(span);
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
        // Privacy first: no processor (nor exporter, nor spool) sees what it removes.
        if let Some(span) = slot.as_mut() {
            self.privacy.apply_span(span);
        }
        #[cfg(feature = "pipeline")]
        if let Some(batch) = &self.sole_batch {
            batch.enqueue_span(slot);
            return;
        }
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

    /// The head sampler's and span filter's counters (see
    /// [`SamplingStats`](crate::sampling::SamplingStats)).
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// p.trace("wf").in_scope(|| {});
    /// assert_eq!(p.sampling_stats().traces_sampled, 1);
    /// ```
    pub fn sampling_stats(&self) -> SamplingStats {
        self.inner.sampling.snapshot()
    }

    /// Whether this provider records content: inputs, outputs, messages, tool arguments and
    /// results, error data (see [`TracerProviderBuilder::include_sensitive_data`]).
    ///
    /// ```
    /// let p = agent_trace::TracerProvider::builder().build();
    /// assert_eq!(
    ///     p.includes_sensitive_data(),
    ///     agent_trace::privacy::sensitive_data_from_env().unwrap_or(false)
    /// );
    /// ```
    pub fn includes_sensitive_data(&self) -> bool {
        self.inner.records_content()
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
                errors.push(e);
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
                errors.push(e);
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
                .collect(),
        )
    }
}

/// The processors' errors as one: a single error as it is (so a shut-down processor gives
/// [`TraceError::ShutDown`], as the processor itself does), the same error from each as that
/// error, different ones joined into [`TraceError::Failed`].
fn join_errors(mut errors: Vec<TraceError>) -> Result<(), TraceError> {
    errors.dedup();
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(TraceError::Failed(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

#[cfg(test)]
mod join_tests {
    use super::*;

    #[test]
    fn errors_keep_their_kind_when_they_agree() {
        assert_eq!(join_errors(vec![]), Ok(()));
        assert_eq!(
            join_errors(vec![TraceError::ShutDown, TraceError::ShutDown]),
            Err(TraceError::ShutDown)
        );
        let timeout = TraceError::Timeout {
            what: "force_flush",
            timeout: Duration::from_secs(1),
        };
        assert_eq!(join_errors(vec![timeout.clone()]), Err(timeout.clone()));
        match join_errors(vec![TraceError::ShutDown, timeout]) {
            Err(TraceError::Failed(text)) => {
                assert!(text.contains("shut down") && text.contains("1s"), "{text}")
            }
            other => panic!("{other:?}"),
        }
    }
}

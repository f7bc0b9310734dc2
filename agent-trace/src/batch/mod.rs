//! The batch processor: queues finished spans without blocking and exports them in batches on
//! its own threads, with retry, circuit breaker and an optional on-disk spool.
//!
//! ## Why dedicated threads
//! The export work runs on threads of its own, each with a small current-thread Tokio runtime,
//! not on the application's runtime: one export thread drains the producers' queues into
//! batches, and each exporter's lane (retry, breaker, spool) runs on a thread of its own. It
//! keeps exporting while the application's workers are busy or
//! blocked; `force_flush` and `shutdown` work from any runtime flavour, from inside
//! `tokio::spawn`, from `Drop` at the end of `#[tokio::main]` (with the `_blocking` variants) and
//! with no runtime at all, because nothing they wait for needs the caller's runtime to make
//! progress. That is the class of deadlock opentelemetry-rust's batch processor has had
//! (#868, #1395, #2071, #2715, #3176).
//!
//! ## Overload policy
//! A span end never blocks. Each producing thread has a ring of `max_queue_size` items; when it
//! is full, new items spill into the queue's overflow list, which borrows from a budget of
//! 65,536 items shared by the whole process (returned as the export thread drains), so a burst
//! loses nothing at default settings. Only past that budget are items dropped, counted
//! (`dropped_queue_full`), warned about (rate-limited) and reported by the next flush. Items the
//! exporters cannot take (hung lane) are counted as `dropped_export_failed`. Nothing is dropped
//! without a count.
//!
//! ## Isolation and bounds
//! Each exporter runs on a lane of its own thread: one whose export never completes, or that
//! blocks its thread, stalls only its own lane. The export thread, which drains the producers'
//! queues, never calls into an exporter; when a lane's queue of batches is full it waits at
//! most `lane_full_timeout` and then drops that lane's batches (counted) until it has room.
//! Every wait has a deadline: [`flush`](BatchProcessor::flush) answers within
//! [`flush_timeout`](BatchProcessorBuilder::flush_timeout) (default 30 s), the blocking
//! variants and `shutdown` within the timeout they are given, whatever an exporter does.
//!
//! ## What a flush says
//! The truth: `Ok` only if nothing ended before it was dropped since the previous flush (see
//! [`BatchProcessor::flush`] for each error).
//!
//! ## Delivery
//! At-least-once. A batch whose export timed out may have arrived anyway and is sent again
//! (retry, or spool replay); a crash between a delivery and the deletion of its spool segment
//! replays that segment after restart. Exact-once needs de-duplication by span id downstream.

mod breaker;
mod builder;
mod lane;
mod queue;
mod settings;
mod spool;
mod stats;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

pub use breaker::BreakerPolicy;
pub use builder::BatchProcessorBuilder;
pub use lane::RetryPolicy;
pub use stats::{BatchStats, CircuitState, ExporterStats};

use crate::model::{ExportItem, SpanRecord, TraceRecord};
use crate::processor::{BoxFuture, TraceError, TracingExporter, TracingProcessor};
use queue::Queue;
use stats::LaneCounters;
use worker::{Command, Reply};

struct Inner {
    queue: Arc<Queue>,
    commands: mpsc::UnboundedSender<Command>,
    lane_stats: Vec<(String, Arc<LaneCounters>)>,
    pending: Arc<AtomicU64>,
    flush_timeout: Duration,
    shut_down: AtomicBool,
}

/// The default bound of [`BatchProcessor::flush`] (see
/// [`BatchProcessorBuilder::flush_timeout`]).
pub(crate) const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// Queues finished traces and spans and exports them in batches on its own thread.
///
/// Cloning gives another handle to the same processor (keep one to read [`stats`](Self::stats)).
///
/// ```
/// use agent_trace::{BatchProcessor, TracerProvider};
/// # struct Discard;
/// # impl agent_trace::TracingExporter for Discard {
/// #     fn name(&self) -> &str { "discard" }
/// #     fn export<'a>(&'a self, _: &'a [agent_trace::ExportItem]) -> agent_trace::BoxFuture<'a, Result<(), agent_trace::ExportError>> { Box::pin(async { Ok(()) }) }
/// # }
///
/// let batch = BatchProcessor::builder().with_exporter(Discard).build();
/// let provider = TracerProvider::builder().with_processor(batch.clone()).build();
/// provider.trace("wf").in_scope(|| agent_trace::custom_span("step").end());
/// batch.force_flush_blocking(std::time::Duration::from_secs(5)).unwrap();
/// assert_eq!(batch.stats().exporters[0].exported, 3); // the span, the trace at start and end
/// ```
#[derive(Clone)]
pub struct BatchProcessor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for BatchProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let exporters: Vec<&str> = self
            .inner
            .lane_stats
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        f.debug_struct("BatchProcessor")
            .field("exporters", &exporters)
            .field("shut_down", &self.inner.shut_down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl BatchProcessor {
    /// Starts building a processor.
    pub fn builder() -> BatchProcessorBuilder {
        BatchProcessorBuilder::default()
    }

    /// A processor with default settings for one exporter.
    pub fn new(exporter: impl TracingExporter) -> BatchProcessor {
        Self::builder().with_exporter(exporter).build()
    }

    /// The pipeline's counters.
    pub fn stats(&self) -> BatchStats {
        let c = self.inner.queue.counts();
        BatchStats {
            enqueued: c.enqueued,
            dropped_queue_full: c.dropped_full,
            dropped_after_shutdown: c.dropped_closed,
            queued: c.in_rings + self.inner.pending.load(Ordering::Relaxed),
            exporters: self
                .inner
                .lane_stats
                .iter()
                .map(|(name, counters)| counters.snapshot(name))
                .collect(),
        }
    }

    fn send(&self, cmd: Command) -> bool {
        self.inner.commands.send(cmd).is_ok()
    }

    /// Asks the export thread to flush (or shut down), answering by `bound` from now.
    fn request(&self, shutdown: bool, bound: Duration, reply: Reply) -> Result<(), TraceError> {
        let deadline = Instant::now() + bound;
        let cmd = if shutdown {
            Command::Shutdown {
                deadline,
                bound,
                reply,
            }
        } else {
            Command::Flush {
                deadline,
                bound,
                reply,
            }
        };
        self.send(cmd).then_some(()).ok_or(TraceError::ShutDown)
    }

    /// Exports everything ended before the call; resolves once it is exported or accounted
    /// for (spooled or counted as dropped), and within
    /// [`flush_timeout`](BatchProcessorBuilder::flush_timeout) (default 30 s) whatever an
    /// exporter does: the deadline is kept by the export thread, which never runs exporter
    /// code. Works from any executor.
    ///
    /// `Ok` only if every exporter flushed and no item was dropped since the previous flush;
    /// otherwise [`TraceError::Dropped`] (items given up — permanent error, retries exhausted
    /// without a spool, full spool, panic, an exporter too slow or stuck to take its batches —
    /// counted in [`stats`](Self::stats), each exporter named with its last reason; reported
    /// by one flush only), [`TraceError::Timeout`] (an exporter did not answer by the bound: a
    /// diagnostic names it) or [`TraceError::Failed`] (an exporter's own flush failed, or
    /// several of these at once). Items a producing thread could not queue (its ring full and
    /// the process's overflow budget spent; counted in `dropped_queue_full`) are reported the
    /// same way, as `Dropped`. Items kept in the spool are not dropped.
    pub async fn flush(&self) -> Result<(), TraceError> {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(TraceError::ShutDown);
        }
        let (tx, rx) = oneshot::channel();
        self.request(false, self.inner.flush_timeout, Reply::Async(tx))?;
        rx.await.unwrap_or(Err(TraceError::ShutDown))
    }

    /// [`flush`](Self::flush) for sync code: blocks this thread up to `timeout`. Safe anywhere,
    /// including inside a runtime (it does not need the runtime to progress), but it does block
    /// the calling thread: in async code prefer `flush().await`.
    pub fn force_flush_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            return Err(TraceError::ShutDown);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        self.request(false, timeout, Reply::Blocking(tx))?;
        wait_blocking(&rx, "force_flush", timeout, Err(TraceError::ShutDown))
    }

    /// Drains the queue, flushes and shuts down the exporters, and stops the export thread,
    /// within `timeout` (an exporter still busy then ends on its own; its items stay counted as
    /// in flight). Items ended afterwards are counted and ignored. Twice is harmless. The
    /// result says what [`flush`](Self::flush)'s does.
    pub async fn shutdown_async(&self, timeout: Duration) -> Result<(), TraceError> {
        if self.inner.shut_down.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        if self.request(true, timeout, Reply::Async(tx)).is_err() {
            return Ok(());
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// [`shutdown_async`](Self::shutdown_async) for sync code (see
    /// [`force_flush_blocking`](Self::force_flush_blocking)).
    pub fn shutdown_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        if self.inner.shut_down.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let (tx, rx) = std::sync::mpsc::channel();
        if self.request(true, timeout, Reply::Blocking(tx)).is_err() {
            return Ok(());
        }
        wait_blocking(&rx, "shutdown", timeout, Ok(()))
    }
}

/// Waits for the export thread's answer. It keeps the deadline itself; the margin covers its
/// reply, and this wait covers a bug of ours. `gone` is the answer if the thread is gone.
fn wait_blocking(
    rx: &std::sync::mpsc::Receiver<Result<(), TraceError>>,
    what: &'static str,
    timeout: Duration,
    gone: Result<(), TraceError>,
) -> Result<(), TraceError> {
    match rx.recv_timeout(timeout + Duration::from_millis(500)) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err(TraceError::Timeout { what, timeout })
        }
        Err(_) => gone,
    }
}

impl BatchProcessor {
    /// Moves an ended span's record into the queue (what `on_span_end_last` does).
    #[inline]
    pub(crate) fn enqueue_span(&self, slot: &mut Option<SpanRecord>) {
        self.inner.queue.push_with(queue::TakeSpan(slot));
    }

    /// Queues a copy of a trace record, as it starts and as it ends (the copy is made where
    /// the queue keeps it).
    #[inline]
    pub(crate) fn enqueue_trace(&self, trace: &TraceRecord) {
        self.inner.queue.push_with(queue::CloneTrace(trace));
    }
}

impl TracingProcessor for BatchProcessor {
    /// Queues the trace's record as it starts (`ended_at` is `None`), ahead of its spans.
    fn on_trace_start(&self, trace: &TraceRecord) {
        self.enqueue_trace(trace);
    }

    /// Queues the trace's record again as it ends (`ended_at` set).
    fn on_trace_end(&self, trace: &TraceRecord) {
        self.enqueue_trace(trace);
    }

    fn on_span_end(&self, span: &SpanRecord) {
        self.inner
            .queue
            .push_with(|| Some(ExportItem::Span(span.clone())));
    }

    #[inline]
    fn on_span_end_last(&self, slot: &mut Option<SpanRecord>) {
        self.enqueue_span(slot);
    }

    fn wants_span_start(&self) -> bool {
        false
    }

    fn __as_batch_processor(&self) -> Option<&BatchProcessor> {
        Some(self)
    }

    fn force_flush(&self) -> BoxFuture<'_, Result<(), TraceError>> {
        Box::pin(self.flush())
    }

    fn force_flush_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        BatchProcessor::force_flush_blocking(self, timeout)
    }

    fn shutdown(&self, timeout: Duration) -> BoxFuture<'_, Result<(), TraceError>> {
        Box::pin(self.shutdown_async(timeout))
    }

    fn shutdown_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        BatchProcessor::shutdown_blocking(self, timeout)
    }

    /// Shuts down when the dropped provider held the last handle; while another provider or
    /// other code holds a clone, only flushes (its export thread ends with the last handle).
    fn on_provider_drop(&self, timeout: Duration) -> Result<(), TraceError> {
        if self.inner.shut_down.load(Ordering::SeqCst) {
            // Shut down already, by its owner: nothing left to do, nothing to report.
            return Ok(());
        }
        if Arc::strong_count(&self.inner) == 1 {
            BatchProcessor::shutdown_blocking(self, timeout)
        } else {
            BatchProcessor::force_flush_blocking(self, timeout)
        }
    }
}

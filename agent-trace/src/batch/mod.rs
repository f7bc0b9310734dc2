//! The batch processor: queues finished spans without blocking and exports them in batches on
//! its own thread, with retry, circuit breaker and an optional on-disk spool.
//!
//! ## Why a dedicated thread
//! The export work runs on a thread of its own with a small current-thread Tokio runtime, not on
//! the application's runtime. It keeps exporting while the application's workers are busy or
//! blocked; `force_flush` and `shutdown` work from any runtime flavour, from inside
//! `tokio::spawn`, from `Drop` at the end of `#[tokio::main]` (with the `_blocking` variants) and
//! with no runtime at all, because nothing they wait for needs the caller's runtime to make
//! progress. That is the class of deadlock opentelemetry-rust's batch processor has had
//! (#868, #1395, #2071, #2715, #3176).
//!
//! ## Overload policy
//! A span end never blocks and never allocates beyond its record. Each producing thread has a
//! ring of `max_queue_size` items; when it is full, new items are dropped and counted
//! (`dropped_queue_full`) and a rate-limited warning says how many. Items the exporters cannot
//! take (hung lane) are counted as `dropped_export_failed`. Nothing is dropped without a count.
//!
//! ## Delivery
//! At-least-once. A batch whose export timed out may have arrived anyway and is sent again
//! (retry, or spool replay); a crash between a delivery and the deletion of its spool segment
//! replays that segment after restart. Exact-once needs de-duplication by span id downstream.

mod breaker;
mod lane;
mod queue;
mod settings;
mod spool;
mod stats;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use breaker::BreakerPolicy;
pub use lane::RetryPolicy;
pub use stats::{BatchStats, CircuitState, ExporterStats};

use crate::diag::{emit, Diagnostic};
use crate::model::{ExportItem, SpanRecord, TraceRecord};
use crate::processor::{BoxFuture, TraceError, TracingExporter, TracingProcessor};
use lane::{Lane, LaneConfig, LaneMsg};
use queue::Queue;
use stats::LaneCounters;
use worker::{Command, LaneHandle, Reply, Worker};

/// Builds a [`BatchProcessor`]. Defaults come from the seed design and the standard
/// `OTEL_BSP_*` environment variables; builder calls override both.
pub struct BatchProcessorBuilder {
    exporters: Vec<Arc<dyn TracingExporter>>,
    max_queue_size: usize,
    max_batch_size: usize,
    schedule_delay: Duration,
    export_trigger_ratio: f64,
    export_timeout: Duration,
    lane_full_timeout: Duration,
    retry: RetryPolicy,
    breaker: BreakerPolicy,
    spool_dir: Option<PathBuf>,
    spool_max_bytes: u64,
}

impl std::fmt::Debug for BatchProcessorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let exporters: Vec<&str> = self.exporters.iter().map(|e| e.name()).collect();
        f.debug_struct("BatchProcessorBuilder")
            .field("exporters", &exporters)
            .field("max_queue_size", &self.max_queue_size)
            .field("max_batch_size", &self.max_batch_size)
            .field("schedule_delay", &self.schedule_delay)
            .field("export_trigger_ratio", &self.export_trigger_ratio)
            .field("export_timeout", &self.export_timeout)
            .field("lane_full_timeout", &self.lane_full_timeout)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
            .field("spool_dir", &self.spool_dir)
            .field("spool_max_bytes", &self.spool_max_bytes)
            .finish()
    }
}

impl Default for BatchProcessorBuilder {
    fn default() -> Self {
        BatchProcessorBuilder {
            exporters: Vec::new(),
            // Out-of-range values are clamped with a warning naming the variable (a huge
            // queue would abort on its first allocation, a batch size of 0 divide by zero).
            max_queue_size: settings::QUEUE_SIZE.read_env("OTEL_BSP_MAX_QUEUE_SIZE", 8192) as usize,
            max_batch_size: settings::BATCH_SIZE.read_env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 128)
                as usize,
            schedule_delay: Duration::from_millis(
                settings::SCHEDULE_DELAY_MS.read_env("OTEL_BSP_SCHEDULE_DELAY", 5000),
            ),
            export_trigger_ratio: 0.7,
            export_timeout: Duration::from_millis(
                settings::EXPORT_TIMEOUT_MS.read_env("OTEL_BSP_EXPORT_TIMEOUT", 30_000),
            ),
            lane_full_timeout: Duration::from_millis(100),
            retry: RetryPolicy::default(),
            breaker: BreakerPolicy::default(),
            spool_dir: None,
            spool_max_bytes: 256 << 20,
        }
    }
}

impl BatchProcessorBuilder {
    /// Adds an exporter. Each exporter gets every batch, on its own lane.
    pub fn with_exporter(mut self, exporter: impl TracingExporter) -> Self {
        self.exporters.push(Arc::new(exporter));
        self
    }

    /// Adds an exporter shared with other code.
    pub fn with_shared_exporter(mut self, exporter: Arc<dyn TracingExporter>) -> Self {
        self.exporters.push(exporter);
        self
    }

    /// Items each producing thread may have waiting (default 8192, `OTEL_BSP_MAX_QUEUE_SIZE`;
    /// 16 to 262,144, clamped with a warning).
    pub fn max_queue_size(mut self, n: usize) -> Self {
        self.max_queue_size = settings::QUEUE_SIZE.clamp("max_queue_size", n as u64) as usize;
        self
    }

    /// Items per exported batch (default 128, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`; 1 to 65,536,
    /// clamped with a warning).
    pub fn max_batch_size(mut self, n: usize) -> Self {
        self.max_batch_size = settings::BATCH_SIZE.clamp("max_batch_size", n as u64) as usize;
        self
    }

    /// How long a partial batch may wait (default 5 s, `OTEL_BSP_SCHEDULE_DELAY` in ms).
    pub fn schedule_delay(mut self, d: Duration) -> Self {
        self.schedule_delay = settings::SCHEDULE_DELAY_MS.clamp_duration("schedule_delay", d);
        self
    }

    /// A producing thread wakes the export thread when its ring is this full (default 0.7).
    /// The export thread also drains on its own timer: every millisecond while spans flow,
    /// backing off to every 100 ms when idle.
    pub fn export_trigger_ratio(mut self, r: f64) -> Self {
        self.export_trigger_ratio = r.clamp(0.01, 1.0);
        self
    }

    /// The longest one call into an exporter may take: one export attempt (a retry is another
    /// attempt, with its own timeout), or its `force_flush` / `shutdown` (default 30 s,
    /// `OTEL_BSP_EXPORT_TIMEOUT` in ms). An attempt that times out counts as a transient
    /// failure. The whole retry sequence is bounded by [`RetryPolicy::max_elapsed`].
    pub fn export_timeout(mut self, d: Duration) -> Self {
        self.export_timeout = settings::EXPORT_TIMEOUT_MS.clamp_duration("export_timeout", d);
        self
    }

    /// How long the export thread waits for room in an exporter's lane when the lane already
    /// holds its limit of batches (`max_queue_size / max_batch_size`, at least 4). Default
    /// 100 ms. This wait holds up every other exporter, so keep it short. A lane still full
    /// afterwards counts as stalled: the batch is dropped for that exporter only (counted in
    /// `dropped_export_failed`, with a warning), and so are later batches, without waiting,
    /// until the lane has room again.
    pub fn lane_full_timeout(mut self, d: Duration) -> Self {
        self.lane_full_timeout = d;
        self
    }

    /// How failed exports are retried.
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.retry = p;
        self
    }

    /// When the circuit breaker opens and for how long.
    pub fn breaker_policy(mut self, p: BreakerPolicy) -> Self {
        self.breaker = p;
        self
    }

    /// Keeps batches that could not be delivered in this directory (one subdirectory per
    /// exporter) and replays them when the backend is back, also after a restart.
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The spool's size cap per exporter (default 256 MiB); past it, batches are dropped and
    /// counted.
    pub fn spool_max_bytes(mut self, n: u64) -> Self {
        self.spool_max_bytes = n;
        self
    }

    /// Starts the export thread and returns the processor.
    pub fn build(mut self) -> BatchProcessor {
        if self.max_batch_size > self.max_queue_size {
            emit(Diagnostic {
                key: "bad_setting",
                message: format!(
                    "max_batch_size={} is larger than max_queue_size={}; using {}",
                    self.max_batch_size, self.max_queue_size, self.max_queue_size
                ),
                count: 1,
            });
            self.max_batch_size = self.max_queue_size;
        }
        let queue = Queue::new(
            self.max_queue_size,
            ((self.max_queue_size as f64) * self.export_trigger_ratio) as usize,
        );
        let (lanes, handles) = self.lanes();
        let pending = Arc::new(AtomicU64::new(0));
        let lane_stats = handles
            .iter()
            .map(|h| (h.name.clone(), h.counters.clone()))
            .collect();
        let worker = Worker {
            queue: queue.clone(),
            lanes: handles,
            max_batch_size: self.max_batch_size,
            schedule_delay: self.schedule_delay,
            lane_full_timeout: self.lane_full_timeout,
            pending: pending.clone(),
        };
        let (commands, rx) = mpsc::unbounded_channel();
        start_export_thread(worker, lanes, rx);
        BatchProcessor {
            inner: Arc::new(Inner {
                queue,
                commands,
                lane_stats,
                pending,
                shut_down: AtomicBool::new(false),
            }),
        }
    }

    /// One lane per exporter: the lane itself with the receiving end of its batch queue (run
    /// on the export thread), and the export thread's handle on it.
    fn lanes(&self) -> (Vec<(Lane, mpsc::Receiver<LaneMsg>)>, Vec<LaneHandle>) {
        let cfg = LaneConfig {
            export_timeout: self.export_timeout,
            retry: self.retry.clone(),
            breaker: self.breaker.clone(),
        };
        let lane_depth = (self.max_queue_size / self.max_batch_size).max(4);
        let mut lanes = Vec::new();
        let mut handles = Vec::new();
        for (i, exporter) in self.exporters.iter().enumerate() {
            let name = exporter.name().to_owned();
            let counters = Arc::new(LaneCounters::default());
            let spool = self.open_spool(i, &name);
            let (tx, rx) = mpsc::channel(lane_depth);
            let lane = Lane::new(exporter.clone(), counters.clone(), cfg.clone(), spool);
            lanes.push((lane, rx));
            handles.push(LaneHandle {
                name,
                tx,
                counters,
                stalled: AtomicBool::new(false),
            });
        }
        (lanes, handles)
    }

    /// The spool of exporter number `i`, if a spool directory is set: a subdirectory named
    /// after the exporter. One that cannot be opened is reported, and the exporter runs
    /// without it.
    fn open_spool(&self, i: usize, name: &str) -> Option<spool::Spool> {
        let dir = self.spool_dir.as_ref()?;
        let sub: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{i}-{sub}"));
        match spool::Spool::open(&path, self.spool_max_bytes, self.exporters[i].clone()) {
            Ok(s) => Some(s),
            Err(e) => {
                emit(Diagnostic {
                    key: "spool_unavailable",
                    message: format!(
                        "cannot open the spool at {}: {e}; exporter {name} runs without one",
                        path.display()
                    ),
                    count: 1,
                });
                None
            }
        }
    }
}

/// Starts the export thread with its own current-thread runtime. If the thread or the runtime
/// cannot start, the queue is closed (spans are counted as dropped) and a diagnostic says why.
fn start_export_thread(
    worker: Worker,
    lanes: Vec<(Lane, mpsc::Receiver<LaneMsg>)>,
    commands: mpsc::UnboundedReceiver<Command>,
) {
    let queue = worker.queue.clone();
    let spawned = std::thread::Builder::new()
        .name("agent-trace-export".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(worker.run(lanes, commands)),
                Err(e) => {
                    worker.queue.close();
                    emit(Diagnostic {
                        key: "export_thread",
                        message: format!(
                            "cannot start the export runtime: {e}; spans are counted as dropped"
                        ),
                        count: 1,
                    });
                }
            }
        });
    if let Err(e) = spawned {
        queue.close();
        emit(Diagnostic {
            key: "export_thread",
            message: format!("cannot start the export thread: {e}; spans are counted as dropped"),
            count: 1,
        });
    }
}

struct Inner {
    queue: Arc<Queue>,
    commands: mpsc::UnboundedSender<Command>,
    lane_stats: Vec<(String, Arc<LaneCounters>)>,
    pending: Arc<AtomicU64>,
    shut_down: AtomicBool,
}

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

    /// Exports everything ended before the call; resolves once it is exported or accounted
    /// for (spooled or counted as dropped). Works from any executor.
    pub async fn flush(&self) -> Result<(), TraceError> {
        let (tx, rx) = oneshot::channel();
        if !self.send(Command::Flush(Reply::Async(tx))) {
            return Err(TraceError::ShutDown);
        }
        rx.await.unwrap_or(Err(TraceError::ShutDown))
    }

    /// [`flush`](Self::flush) for sync code: blocks this thread up to `timeout`. Safe anywhere,
    /// including inside a runtime (it does not need the runtime to progress), but it does block
    /// the calling thread: in async code prefer `flush().await`.
    pub fn force_flush_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        let (tx, rx) = std::sync::mpsc::channel();
        if !self.send(Command::Flush(Reply::Blocking(tx))) {
            return Err(TraceError::ShutDown);
        }
        match rx.recv_timeout(timeout) {
            Ok(r) => r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(TraceError::Timeout {
                what: "force_flush",
                timeout,
            }),
            Err(_) => Err(TraceError::ShutDown),
        }
    }

    /// Drains the queue, flushes and shuts down the exporters, and stops the export thread,
    /// within `timeout`. Items ended afterwards are counted and ignored. Twice is harmless.
    pub async fn shutdown_async(&self, timeout: Duration) -> Result<(), TraceError> {
        if self.inner.shut_down.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        if !self.send(Command::Shutdown(timeout, Reply::Async(tx))) {
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
        if !self.send(Command::Shutdown(timeout, Reply::Blocking(tx))) {
            return Ok(());
        }
        // The export thread enforces `timeout` itself; the margin covers its reply.
        match rx.recv_timeout(timeout + Duration::from_millis(500)) {
            Ok(r) => r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(TraceError::Timeout {
                what: "shutdown",
                timeout,
            }),
            Err(_) => Ok(()),
        }
    }
}

impl TracingProcessor for BatchProcessor {
    /// Queues the trace's record as it starts (`ended_at` is `None`), ahead of its spans.
    fn on_trace_start(&self, trace: &TraceRecord) {
        self.inner
            .queue
            .push_with(|| Some(ExportItem::Trace(trace.clone())));
    }

    /// Queues the trace's record again as it ends (`ended_at` set).
    fn on_trace_end(&self, trace: &TraceRecord) {
        self.inner
            .queue
            .push_with(|| Some(ExportItem::Trace(trace.clone())));
    }

    fn on_span_end(&self, span: &SpanRecord) {
        self.inner
            .queue
            .push_with(|| Some(ExportItem::Span(span.clone())));
    }

    #[inline]
    fn on_span_end_last(&self, slot: &mut Option<SpanRecord>) {
        self.inner
            .queue
            .push_with(|| slot.take().map(ExportItem::Span));
    }

    fn wants_span_start(&self) -> bool {
        false
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
        if Arc::strong_count(&self.inner) == 1 {
            BatchProcessor::shutdown_blocking(self, timeout)
        } else {
            BatchProcessor::force_flush_blocking(self, timeout)
        }
    }
}

//! [`BatchProcessorBuilder`]: the settings, the lanes (one per exporter, each on its own
//! thread) and the export thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::lane::{inbox, Lane, LaneConfig};
use super::queue::Queue;
use super::stats::LaneCounters;
use super::worker::{Command, LaneHandle, Worker};
use super::DEFAULT_FLUSH_TIMEOUT;
use super::{settings, spool, BatchProcessor, BreakerPolicy, Inner, RetryPolicy};
use crate::diag::{emit, Diagnostic};
use crate::processor::TracingExporter;

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
    flush_timeout: Duration,
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
            .field("flush_timeout", &self.flush_timeout)
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
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
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
    /// 100 ms. This wait holds up the draining of every thread's queue (and so every other
    /// exporter), so keep it short; it happens once per stall, not per batch. A lane still full
    /// afterwards counts as stalled: the batch is dropped for that exporter only (counted in
    /// `dropped_export_failed`, with a warning), and so are later batches, without waiting,
    /// until the lane has room again.
    pub fn lane_full_timeout(mut self, d: Duration) -> Self {
        self.lane_full_timeout = d;
        self
    }

    /// The longest [`BatchProcessor::flush`] (and so `TracerProvider::force_flush`) waits for
    /// the exporters (default 30 s; 1 ms to 1 h, clamped with a warning). Past it the flush
    /// returns [`TraceError::Timeout`](crate::TraceError::Timeout), whatever an exporter does, and a diagnostic names the
    /// exporters that did not answer; their items stay counted as in flight until they are
    /// delivered or dropped. The blocking variants take their own timeout instead.
    pub fn flush_timeout(mut self, d: Duration) -> Self {
        self.flush_timeout = settings::FLUSH_TIMEOUT_MS.clamp_duration("flush_timeout", d);
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
    /// exporter) and replays them when the backend is back, also after a restart. Each
    /// exporter's directory is locked by the process using it; a second process pointed at
    /// the same directory spools into a `proc-…` sub-directory of its own, and whoever opens
    /// the spool next adopts and replays the segments of processes that are gone.
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The spool's size cap per exporter in bytes on disk (default 256 MiB; whole blocks as
    /// the file system allocates them); past it, batches are dropped and counted.
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
        let handles = self.lanes();
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
            flush_timeout: self.flush_timeout,
            pending: pending.clone(),
        };
        let (commands, rx) = mpsc::unbounded_channel();
        start_export_thread(worker, rx);
        BatchProcessor {
            inner: Arc::new(Inner {
                queue,
                commands,
                lane_stats,
                pending,
                flush_timeout: self.flush_timeout,
                shut_down: AtomicBool::new(false),
            }),
        }
    }

    /// One lane per exporter, each started on a thread of its own; returns the export
    /// thread's handles on them.
    fn lanes(&self) -> Vec<Arc<LaneHandle>> {
        let cfg = LaneConfig {
            export_timeout: self.export_timeout,
            retry: self.retry.clone(),
            breaker: self.breaker.clone(),
        };
        let lane_depth = (self.max_queue_size / self.max_batch_size).max(4);
        let mut handles = Vec::new();
        for (i, exporter) in self.exporters.iter().enumerate() {
            let name = exporter.name().to_owned();
            let counters = Arc::new(LaneCounters::default());
            let spool = self.open_spool(i, &name);
            let (tx, rx) = inbox::inbox(lane_depth);
            let lane = Lane::new(exporter.clone(), counters.clone(), cfg.clone(), spool);
            inbox::spawn(lane, rx);
            handles.push(Arc::new(LaneHandle {
                name,
                inbox: tx,
                counters,
                stalled: AtomicBool::new(false),
                reported_drops: AtomicU64::new(0),
            }));
        }
        handles
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
fn start_export_thread(worker: Worker, commands: mpsc::UnboundedReceiver<Command>) {
    let queue = worker.queue.clone();
    let spawned = std::thread::Builder::new()
        .name("agent-trace-export".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(worker.run(commands)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flush_bound_is_30_s_by_default_and_clamped() {
        let b = BatchProcessorBuilder::default();
        assert_eq!(b.flush_timeout, Duration::from_secs(30));
        let b = b.flush_timeout(Duration::ZERO);
        assert_eq!(b.flush_timeout, Duration::from_millis(1));
    }
}

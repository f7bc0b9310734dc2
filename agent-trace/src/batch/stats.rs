//! Counters of the batch pipeline.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

/// The state of an exporter's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Batches are sent.
    Closed,
    /// Too many batches failed in a row: nothing is sent until the cooldown passes; batches go
    /// to the spool (or are dropped and counted without one).
    Open,
    /// The cooldown passed: the next batch is a probe that closes or reopens the circuit.
    HalfOpen,
}

impl CircuitState {
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            1 => CircuitState::Open,
            2 => CircuitState::HalfOpen,
            _ => CircuitState::Closed,
        }
    }

    pub(crate) fn as_u8(self) -> u8 {
        match self {
            CircuitState::Closed => 0,
            CircuitState::Open => 1,
            CircuitState::HalfOpen => 2,
        }
    }
}

/// Counters of one exporter behind a [`BatchProcessor`](crate::BatchProcessor).
///
/// Invariant, exact once the pipeline is quiet (after `force_flush`):
/// `enqueued + restored_from_spool = queued + in_flight + in_spool + exported + dropped_export_failed`
/// (the left side from [`BatchStats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExporterStats {
    /// The exporter's name.
    pub name: String,
    /// Items delivered (including those replayed from the spool).
    pub exported: u64,
    /// Items given up: permanent errors, retries exhausted with no spool, spool full, panics,
    /// and batches the exporter's lane could not take (its queue of batches stayed full: the
    /// exporter is stuck or slower than the spans come). The next flush reports them.
    pub dropped_export_failed: u64,
    /// Retry attempts made.
    pub retries: u64,
    /// Items written to the spool.
    pub spooled: u64,
    /// Items read back from the spool and delivered.
    pub replayed: u64,
    /// Items found in the spool when the processor started (left by an earlier process).
    pub restored_from_spool: u64,
    /// Items in the spool now.
    pub in_spool: u64,
    /// Items handed to this exporter's lane and not yet delivered, spooled or dropped.
    pub in_flight: u64,
    /// Batches whose export failed (each retry counts once).
    pub failed_attempts: u64,
    /// The circuit breaker's state.
    pub circuit: CircuitState,
    /// How many times the circuit opened.
    pub circuit_opened: u64,
    /// Calls into the exporter that panicked (in `export()` or its future, `force_flush()`,
    /// `shutdown()`). Each panic is caught: an export's batch counts as failed, a flush or
    /// shutdown returns an error naming the exporter.
    pub panics: u64,
}

/// Counters of a [`BatchProcessor`](crate::BatchProcessor): see [`BatchProcessor::stats`](crate::BatchProcessor::stats).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchStats {
    /// Items (spans and traces) accepted into the queue.
    pub enqueued: u64,
    /// Items refused because their thread's queue was full and the process's overflow budget
    /// was spent.
    pub dropped_queue_full: u64,
    /// Items ended after shutdown (ignored).
    pub dropped_after_shutdown: u64,
    /// Items accepted and not yet handed to the exporters.
    pub queued: u64,
    /// One entry per exporter.
    pub exporters: Vec<ExporterStats>,
}

impl BatchStats {
    /// Items offered to the processor: `enqueued + dropped_queue_full + dropped_after_shutdown`.
    pub fn produced(&self) -> u64 {
        self.enqueued + self.dropped_queue_full + self.dropped_after_shutdown
    }

    /// Whether the accounting invariant holds for every exporter (true once quiet).
    pub fn balanced(&self) -> bool {
        self.exporters.iter().all(|e| {
            self.enqueued + e.restored_from_spool
                == self.queued + e.in_flight + e.in_spool + e.exported + e.dropped_export_failed
        })
    }
}

#[derive(Default)]
pub(crate) struct LaneCounters {
    pub(crate) exported: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) replayed: AtomicU64,
    pub(crate) restored: AtomicU64,
    pub(crate) in_spool: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) failed_attempts: AtomicU64,
    pub(crate) circuit: AtomicU8,
    pub(crate) circuit_opened: AtomicU64,
    pub(crate) panics: AtomicU64,
    /// Why items were last dropped, for the error of the next flush.
    pub(crate) last_drop: Mutex<Option<String>>,
}

impl LaneCounters {
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sub(c: &AtomicU64, n: u64) {
        c.fetch_sub(n, Ordering::Relaxed);
    }

    /// Counts `n` items as dropped, `why` being the reason a flush reports.
    pub(crate) fn drop_items(&self, n: u64, why: impl FnOnce() -> String) {
        // The reason first: a flush that sees the count also finds a reason.
        *self.last_drop.lock().unwrap_or_else(|e| e.into_inner()) = Some(why());
        Self::add(&self.dropped, n);
    }

    /// Why items were last dropped.
    pub(crate) fn last_drop(&self) -> Option<String> {
        self.last_drop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn snapshot(&self, name: &str) -> ExporterStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ExporterStats {
            name: name.to_owned(),
            exported: g(&self.exported),
            dropped_export_failed: g(&self.dropped),
            retries: g(&self.retries),
            spooled: g(&self.spooled),
            replayed: g(&self.replayed),
            restored_from_spool: g(&self.restored),
            in_spool: g(&self.in_spool),
            in_flight: g(&self.in_flight),
            failed_attempts: g(&self.failed_attempts),
            circuit: CircuitState::from_u8(self.circuit.load(Ordering::Relaxed)),
            circuit_opened: g(&self.circuit_opened),
            panics: g(&self.panics),
        }
    }
}

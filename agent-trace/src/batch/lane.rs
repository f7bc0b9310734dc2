//! One exporter's delivery lane: timeout, retry with exponential backoff and full jitter,
//! circuit breaker, and the spool. Each lane is its own task on the export thread, so an exporter
//! that hangs or fails never holds up the others.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::spool::Spool;
use super::stats::{CircuitState, LaneCounters};
use crate::diag::{emit, Diagnostic, RateLimited};
use crate::model::ExportItem;
use crate::processor::{ExportError, TracingExporter};

/// How failed exports are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The first backoff ceiling (default 100 ms); each retry doubles it.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling (default 5 s).
    pub max_backoff: Duration,
    /// Give a batch up (to the spool, or dropped) once retrying would pass this (default 30 s).
    pub max_elapsed: Duration,
    /// The longest `Retry-After` honoured (default 30 s).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// When an exporter's circuit opens and how long it stays open.
#[derive(Debug, Clone)]
pub struct BreakerPolicy {
    /// Consecutive failed export attempts that open the circuit (default 5).
    pub failure_threshold: u32,
    /// How long the circuit stays open before a probe (default 10 s).
    pub cooldown: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failure_threshold: 5,
            cooldown: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub(crate) struct LaneConfig {
    pub(crate) export_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) breaker: BreakerPolicy,
}

pub(crate) enum LaneMsg {
    Batch(Arc<Vec<ExportItem>>),
    Flush(oneshot::Sender<Result<(), String>>),
    Shutdown(oneshot::Sender<Result<(), String>>),
}

struct Breaker {
    state: CircuitState,
    failures: u32,
    open_until: Option<Instant>,
}

pub(crate) struct Lane {
    pub(crate) exporter: Arc<dyn TracingExporter>,
    pub(crate) counters: Arc<LaneCounters>,
    pub(crate) cfg: LaneConfig,
    pub(crate) spool: Option<Spool>,
    breaker: Breaker,
    drops: RateLimited,
}

impl Lane {
    pub(crate) fn new(
        exporter: Arc<dyn TracingExporter>,
        counters: Arc<LaneCounters>,
        cfg: LaneConfig,
        spool: Option<Spool>,
    ) -> Lane {
        if let Some(s) = &spool {
            let n = s.items();
            LaneCounters::add(&counters.restored, n);
            LaneCounters::add(&counters.in_spool, n);
        }
        Lane {
            exporter,
            counters,
            cfg,
            spool,
            breaker: Breaker {
                state: CircuitState::Closed,
                failures: 0,
                open_until: None,
            },
            drops: RateLimited::new("export_dropped", Duration::from_secs(10)),
        }
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<LaneMsg>) {
        loop {
            let wake = self.next_replay_at();
            let msg = tokio::select! {
                m = rx.recv() => m,
                _ = sleep_until(wake), if wake.is_some() => {
                    self.replay().await;
                    continue;
                }
            };
            match msg {
                Some(LaneMsg::Batch(batch)) => self.deliver(batch).await,
                Some(LaneMsg::Flush(reply)) => {
                    self.replay().await;
                    let r = self.flush_exporter(false).await;
                    let _ = reply.send(r);
                }
                Some(LaneMsg::Shutdown(reply)) => {
                    self.replay().await;
                    let r = self.flush_exporter(true).await;
                    let _ = reply.send(r);
                    return;
                }
                None => return,
            }
        }
    }

    fn name(&self) -> String {
        self.exporter.name().to_owned()
    }

    /// When to try the spool again on our own (no new batches needed to notice recovery).
    fn next_replay_at(&self) -> Option<Instant> {
        if self.spool.as_ref().is_none_or(Spool::is_empty) {
            return None;
        }
        Some(match self.breaker.open_until {
            Some(t) => t,
            None => {
                Instant::now()
                    + self
                        .cfg
                        .retry
                        .initial_backoff
                        .max(Duration::from_millis(200))
            }
        })
    }

    async fn flush_exporter(&self, shutdown: bool) -> Result<(), String> {
        let fut = if shutdown {
            self.exporter.shutdown()
        } else {
            self.exporter.force_flush()
        };
        match tokio::time::timeout(
            self.cfg.export_timeout,
            AssertUnwindSafe(fut).catch_unwind(),
        )
        .await
        {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(format!("exporter {}: {e}", self.name())),
            Ok(Err(_)) => Err(format!("exporter {} panicked while flushing", self.name())),
            Err(_) => Err(format!(
                "exporter {} did not flush within {:?}",
                self.name(),
                self.cfg.export_timeout
            )),
        }
    }

    /// Whether a send may be attempted now; moves an open circuit past its cooldown to half-open.
    fn may_send(&mut self) -> bool {
        match self.breaker.state {
            CircuitState::Closed | CircuitState::HalfOpen => true,
            CircuitState::Open => {
                if self.breaker.open_until.is_some_and(|t| Instant::now() >= t) {
                    self.set_state(CircuitState::HalfOpen);
                    true
                } else {
                    false
                }
            }
        }
    }

    fn set_state(&mut self, state: CircuitState) {
        if self.breaker.state == state {
            return;
        }
        let name = self.name();
        self.breaker.state = state;
        self.counters
            .circuit
            .store(state.as_u8(), Ordering::Relaxed);
        let message = match state {
            CircuitState::Open => {
                LaneCounters::add(&self.counters.circuit_opened, 1);
                self.breaker.open_until = Some(Instant::now() + self.cfg.breaker.cooldown);
                format!("exporter {name}: circuit opened after {} failed attempts in a row; batches go to the spool (if configured) and a probe follows in {:?}", self.breaker.failures, self.cfg.breaker.cooldown)
            }
            CircuitState::HalfOpen => {
                format!("exporter {name}: circuit half-open, sending a probe batch")
            }
            CircuitState::Closed => {
                self.breaker.open_until = None;
                format!("exporter {name}: circuit closed, backend reachable again")
            }
        };
        emit(Diagnostic {
            key: "circuit_state",
            message,
            count: 1,
        });
    }

    fn on_success(&mut self) {
        self.breaker.failures = 0;
        self.set_state(CircuitState::Closed);
    }

    fn on_failure(&mut self) {
        LaneCounters::add(&self.counters.failed_attempts, 1);
        self.breaker.failures = self.breaker.failures.saturating_add(1);
        match self.breaker.state {
            // The probe failed: open again for another cooldown.
            CircuitState::HalfOpen => self.set_state(CircuitState::Open),
            CircuitState::Closed if self.breaker.failures >= self.cfg.breaker.failure_threshold => {
                self.set_state(CircuitState::Open)
            }
            _ => {}
        }
    }

    /// One export attempt, bounded by the timeout and isolated from panics.
    async fn attempt(&self, batch: &[ExportItem]) -> Result<(), ExportError> {
        let fut = AssertUnwindSafe(self.exporter.export(batch)).catch_unwind();
        match tokio::time::timeout(self.cfg.export_timeout, fut).await {
            Ok(Ok(r)) => r,
            Ok(Err(payload)) => Err(ExportError::permanent(format!(
                "exporter panicked: {}",
                crate::panic_message(&*payload)
            ))),
            Err(_) => Err(ExportError::transient(format!(
                "export timed out after {:?}",
                self.cfg.export_timeout
            ))),
        }
    }

    /// Sends with retries; stops early when the circuit opens.
    async fn send(&mut self, batch: &[ExportItem]) -> Result<(), ExportError> {
        let policy = self.cfg.retry.clone();
        let mut ceilings = backon::ExponentialBuilder::default()
            .with_min_delay(policy.initial_backoff)
            .with_max_delay(policy.max_backoff)
            .with_factor(2.0)
            .without_max_times()
            .build();
        let start = Instant::now();
        loop {
            if !self.may_send() {
                return Err(ExportError::transient("circuit open"));
            }
            let probe = self.breaker.state == CircuitState::HalfOpen;
            let err = match self.attempt(batch).await {
                Ok(()) => {
                    self.on_success();
                    return Ok(());
                }
                Err(e) => e,
            };
            self.on_failure();
            let ExportError::Transient { retry_after, .. } = &err else {
                return Err(err);
            };
            if probe || self.breaker.state == CircuitState::Open {
                return Err(err);
            }
            let ceiling = ceilings.next().unwrap_or(policy.max_backoff);
            // Full jitter: anywhere between zero and the ceiling.
            let mut delay = ceiling.mul_f64(fastrand::f64());
            if let Some(ra) = retry_after {
                delay = delay.max((*ra).min(policy.max_retry_after));
            }
            if start.elapsed() + delay > policy.max_elapsed {
                return Err(err);
            }
            LaneCounters::add(&self.counters.retries, 1);
            tokio::time::sleep(delay).await;
        }
    }

    async fn deliver(&mut self, batch: Arc<Vec<ExportItem>>) {
        let n = batch.len() as u64;
        // Keep order: while older batches wait in the spool, newer ones queue behind them.
        if self.spool.as_ref().is_some_and(|s| !s.is_empty()) {
            self.replay().await;
        }
        let spool_waiting = self.spool.as_ref().is_some_and(|s| !s.is_empty());
        let result = if spool_waiting {
            Err(ExportError::transient(
                "older batches are still in the spool",
            ))
        } else {
            self.send(&batch).await
        };
        match result {
            Ok(()) => LaneCounters::add(&self.counters.exported, n),
            Err(e) => self.spool_or_drop(&batch, &e),
        }
        LaneCounters::sub(&self.counters.in_flight, n);
    }

    fn spool_or_drop(&mut self, batch: &[ExportItem], error: &ExportError) {
        let n = batch.len() as u64;
        let name = self.name();
        if error.is_retryable() {
            if let Some(spool) = &mut self.spool {
                match spool.push(batch) {
                    Ok(()) => {
                        LaneCounters::add(&self.counters.spooled, n);
                        LaneCounters::add(&self.counters.in_spool, n);
                        return;
                    }
                    Err(e) => {
                        LaneCounters::add(&self.counters.dropped, n);
                        self.drops
                            .hit(n, |c| format!("exporter {name}: dropped {c} item(s): {e}"));
                        return;
                    }
                }
            }
        }
        LaneCounters::add(&self.counters.dropped, n);
        self.drops.hit(n, |c| {
            format!("exporter {name}: dropped {c} item(s) since the last report; last error: {error} (configure a spool directory to keep batches through outages)")
        });
    }

    /// Sends spooled batches, oldest first, while the backend accepts them.
    async fn replay(&mut self) {
        loop {
            let Some(spool) = &self.spool else { return };
            let Some(front) = spool.front() else { return };
            let counted = spool.front_items();
            let (items, bad) = match front {
                Ok(v) => v,
                Err(_) => (Vec::new(), counted),
            };
            if !items.is_empty() {
                if !self.may_send() {
                    return;
                }
                if self.send(&items).await.is_err() {
                    return;
                }
            }
            let delivered = items.len() as u64;
            LaneCounters::add(&self.counters.exported, delivered);
            LaneCounters::add(&self.counters.replayed, delivered);
            LaneCounters::add(&self.counters.dropped, bad);
            LaneCounters::sub(&self.counters.in_spool, counted);
            if let Some(s) = &mut self.spool {
                s.pop_front();
            }
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(t.into()).await;
    }
}

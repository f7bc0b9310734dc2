//! One exporter's delivery lane: timeout, retry with exponential backoff and full jitter,
//! circuit breaker ([`super::breaker`]), and the spool. Each lane runs on a thread of its own
//! ([`inbox`]), so an exporter that hangs, blocks its thread, fails or panics never holds up
//! the others; every call into the exporter is isolated from its panics ([`guard`]).

mod guard;
pub(crate) mod inbox;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use tokio::sync::oneshot;

use self::guard::PanicGuard;
use self::inbox::InboxRx;
use super::breaker::{Breaker, BreakerPolicy, Decision};
use super::spool::Spool;
use super::stats::{CircuitState, LaneCounters};
use crate::diag::{emit, Diagnostic, RateLimited};
use crate::model::ExportItem;
use crate::processor::{ExportError, TracingExporter};

/// How failed exports are retried. Start from `RetryPolicy::default()` and change what you
/// need:
///
/// ```
/// use std::time::Duration;
/// let retry = agent_trace::RetryPolicy::default()
///     .backoff(Duration::from_millis(50), Duration::from_secs(1))
///     .max_elapsed(Duration::from_secs(10));
/// assert_eq!(retry.max_backoff, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
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

impl RetryPolicy {
    /// Sets the first and the largest backoff ceiling.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets how long a batch may be retried before it is given up.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
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

pub(crate) struct Lane {
    pub(crate) exporter: Arc<dyn TracingExporter>,
    pub(crate) counters: Arc<LaneCounters>,
    pub(crate) cfg: LaneConfig,
    pub(crate) spool: Option<Spool>,
    breaker: Breaker,
    drops: RateLimited,
    panics: PanicGuard,
    /// The exporter's name, asked once (`name()` is a call into the exporter too).
    name: String,
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
        let name = exporter.name().to_owned();
        Lane {
            breaker: Breaker::new(cfg.breaker.clone()),
            panics: PanicGuard::new(&name),
            name,
            exporter,
            counters,
            cfg,
            spool,
            drops: RateLimited::new("export_dropped", Duration::from_secs(10)),
        }
    }

    pub(crate) async fn run(mut self, mut rx: InboxRx) {
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
                    self.panics.flush_report();
                    // Release the spool (its directory lock) before answering: once shutdown
                    // returns, the next processor or process may adopt what is left in it.
                    self.spool = None;
                    let _ = reply.send(r);
                    return;
                }
                None => return,
            }
        }
    }

    pub(crate) fn name(&self) -> String {
        self.name.clone()
    }

    /// When to try the spool again on our own (no new batches needed to notice recovery).
    fn next_replay_at(&self) -> Option<Instant> {
        if self.spool.as_ref().is_none_or(Spool::is_empty) {
            return None;
        }
        Some(self.breaker.open_until().unwrap_or_else(|| {
            Instant::now()
                + self
                    .cfg
                    .retry
                    .initial_backoff
                    .max(Duration::from_millis(200))
        }))
    }

    async fn flush_exporter(&self, shutdown: bool) -> Result<(), String> {
        let exporter = &*self.exporter;
        let what = if shutdown { "shutdown" } else { "force_flush" };
        let call = self.panics.call(&self.counters, what, || {
            if shutdown {
                exporter.shutdown()
            } else {
                exporter.force_flush()
            }
        });
        match tokio::time::timeout(self.cfg.export_timeout, call).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(format!("exporter {}: {e}", self.name())),
            Ok(Err(panic)) => Err(format!(
                "exporter {} panicked in {what}(): {panic}",
                self.name()
            )),
            Err(_) => Err(format!(
                "exporter {} did not flush within {:?}",
                self.name(),
                self.cfg.export_timeout
            )),
        }
    }

    /// Sends with retries, as the module's [`next_delay`] says; gives up early when an
    /// attempt fails permanently, when the circuit opens, or when a probe fails.
    ///
    /// The loop is backon's ([`Retryable`]): it supplies the exponential ceilings, the
    /// sleeping and the give-up, and calls us back for what is ours — `when` tells the breaker
    /// about each failed attempt and stops retrying once it opens, `adjust` applies full jitter
    /// and `Retry-After` and enforces `max_elapsed`, `notify` counts the retry. The breaker is
    /// asked once, before the first attempt: later attempts only happen while it stays closed.
    async fn send(&mut self, batch: &[ExportItem]) -> Result<(), ExportError> {
        let decision = self.breaker.allow(Instant::now());
        publish(&self.counters, &self.name, &self.breaker);
        if decision == Decision::Reject {
            return Err(ExportError::transient("circuit open"));
        }
        let probe = decision == Decision::Probe;
        let policy = &self.cfg.retry;
        let (exporter, timeout, name) = (&*self.exporter, self.cfg.export_timeout, &self.name);
        let (counters, breaker, guard) = (&*self.counters, &mut self.breaker, &self.panics);
        let start = Instant::now();
        let result = (|| attempt(exporter, guard, counters, timeout, batch))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(policy.initial_backoff)
                    .with_max_delay(policy.max_backoff)
                    .with_factor(2.0)
                    .without_max_times(),
            )
            .sleep(tokio::time::sleep)
            // Called once per failed attempt, permanent or not.
            .when(|err| {
                LaneCounters::add(&counters.failed_attempts, 1);
                breaker.on_failure(Instant::now());
                publish(counters, name, breaker);
                err.is_retryable() && !probe && breaker.state() == CircuitState::Closed
            })
            .adjust(|err, ceiling| next_delay(policy, start.elapsed(), err, ceiling))
            .notify(|_, _| LaneCounters::add(&counters.retries, 1))
            .await;
        if result.is_ok() {
            self.breaker.on_success();
            publish(&self.counters, &self.name, &self.breaker);
        }
        result
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
        // The last lane done with the batch drops it, handing its generation data boxes
        // back to the threads that start spans (`model::recycle`).
        if let Ok(items) = Arc::try_unwrap(batch) {
            crate::model::give_back(items);
        }
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
                        self.counters
                            .drop_items(n, || format!("the spool refused them: {e}"));
                        self.drops
                            .hit(n, |c| format!("exporter {name}: dropped {c} item(s): {e}"));
                        return;
                    }
                }
            }
        }
        self.counters.drop_items(n, || error.to_string());
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
            if !items.is_empty() && self.send(&items).await.is_err() {
                return;
            }
            let delivered = items.len() as u64;
            LaneCounters::add(&self.counters.exported, delivered);
            LaneCounters::add(&self.counters.replayed, delivered);
            if bad > 0 {
                self.counters
                    .drop_items(bad, || "a spool segment could not be read".to_owned());
            }
            LaneCounters::sub(&self.counters.in_spool, counted);
            if let Some(s) = &mut self.spool {
                s.pop_front();
            }
        }
    }
}

/// One export attempt, bounded by the timeout and isolated from panics: in `export()` itself
/// and in its future. A panic is a permanent failure: the batch is dropped and counted.
async fn attempt(
    exporter: &dyn TracingExporter,
    guard: &PanicGuard,
    counters: &LaneCounters,
    timeout: Duration,
    batch: &[ExportItem],
) -> Result<(), ExportError> {
    let call = guard.call(counters, "export", || exporter.export(batch));
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => Err(ExportError::permanent(format!(
            "exporter panicked: {panic}"
        ))),
        Err(_) => Err(ExportError::transient(format!(
            "export timed out after {timeout:?}"
        ))),
    }
}

/// The wait before the next attempt, or `None` to give the batch up. `ceiling` is backon's
/// exponential ceiling; the wait is anywhere between zero and it (full jitter, which backon's
/// own jitter — between one and two ceilings — is not), at least the server's `Retry-After`
/// up to `max_retry_after`, and the retry must start within `max_elapsed` of the first attempt.
fn next_delay(
    policy: &RetryPolicy,
    elapsed: Duration,
    err: &ExportError,
    ceiling: Option<Duration>,
) -> Option<Duration> {
    let mut delay = ceiling
        .unwrap_or(policy.max_backoff)
        .mul_f64(fastrand::f64());
    if let ExportError::Transient {
        retry_after: Some(ra),
        ..
    } = err
    {
        delay = delay.max((*ra).min(policy.max_retry_after));
    }
    (elapsed + delay <= policy.max_elapsed).then_some(delay)
}

/// Shows the breaker's state in the stats, with a diagnostic when it changed.
fn publish(counters: &LaneCounters, name: &str, breaker: &Breaker) {
    let state = breaker.state();
    if counters.circuit.swap(state.as_u8(), Ordering::Relaxed) == state.as_u8() {
        return;
    }
    let message = match state {
        CircuitState::Open => {
            LaneCounters::add(&counters.circuit_opened, 1);
            format!("exporter {name}: circuit opened after {} failed attempts in a row; batches go to the spool (if configured) and a probe follows in {:?}", breaker.failures(), breaker.cooldown())
        }
        CircuitState::HalfOpen => {
            format!("exporter {name}: circuit half-open, sending a probe batch")
        }
        CircuitState::Closed => format!("exporter {name}: circuit closed, backend reachable again"),
    };
    emit(Diagnostic {
        key: "circuit_state",
        message,
        count: 1,
    });
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(t.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(20),
        }
    }

    fn after(secs: u64) -> ExportError {
        ExportError::Transient {
            message: "429".into(),
            retry_after: Some(Duration::from_secs(secs)),
        }
    }

    #[test]
    fn full_jitter_stays_between_zero_and_the_ceiling() {
        let ceiling = Duration::from_secs(2);
        let err = ExportError::transient("refused");
        let delays: Vec<_> = (0..200)
            .map(|_| next_delay(&policy(), Duration::ZERO, &err, Some(ceiling)).unwrap())
            .collect();
        assert!(delays.iter().all(|d| *d <= ceiling), "{delays:?}");
        // Full jitter, not backon's "one to two ceilings": most waits are below the ceiling.
        assert!(delays.iter().any(|d| *d < ceiling / 2), "{delays:?}");
    }

    #[test]
    fn retry_after_is_a_floor_up_to_its_cap() {
        let p = policy();
        let ceiling = Some(Duration::from_millis(100));
        let d = next_delay(&p, Duration::ZERO, &after(7), ceiling).unwrap();
        assert_eq!(d, Duration::from_secs(7));
        let d = next_delay(&p, Duration::ZERO, &after(3600), ceiling).unwrap();
        assert_eq!(d, p.max_retry_after);
    }

    #[test]
    fn gives_up_when_the_wait_would_pass_max_elapsed() {
        let p = policy();
        let ceiling = Some(Duration::from_millis(100));
        assert_eq!(
            next_delay(&p, Duration::from_secs(25), &after(6), ceiling),
            None
        );
        assert_eq!(
            next_delay(&p, Duration::from_secs(25), &after(5), ceiling),
            Some(Duration::from_secs(5))
        );
        let err = ExportError::transient("refused");
        assert_eq!(next_delay(&p, Duration::from_secs(31), &err, ceiling), None);
    }
}

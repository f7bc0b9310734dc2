//! One exporter's circuit breaker, as a plain state machine: the lane asks it before an export
//! ([`Breaker::allow`]) and tells it the outcome ([`Breaker::on_success`],
//! [`Breaker::on_failure`]). Time is passed in, so every transition is tested without sleeping.
//!
//! ```text
//!   Closed ──(failure_threshold failures in a row)──▶ Open { until }
//!     ▲                                                 │     ▲
//!     │                                   now ≥ until   ▼     │ probe failed
//!     └─────────────── probe succeeded ──────────── HalfOpen ─┘
//! ```

use std::time::{Duration, Instant};

use super::stats::CircuitState;

/// When an exporter's circuit opens and how long it stays open.
///
/// ```
/// let p = agent_trace::BreakerPolicy::new(3, std::time::Duration::from_secs(5));
/// assert_eq!(p.failure_threshold, 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BreakerPolicy {
    /// Consecutive failed export attempts that open the circuit (default 5).
    pub failure_threshold: u32,
    /// How long the circuit stays open before a probe (default 10 s).
    pub cooldown: Duration,
}

impl BreakerPolicy {
    /// Opens after `failure_threshold` consecutive failed attempts, for `cooldown`.
    pub fn new(failure_threshold: u32, cooldown: Duration) -> Self {
        BreakerPolicy {
            failure_threshold,
            cooldown,
        }
    }
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failure_threshold: 5,
            cooldown: Duration::from_secs(10),
        }
    }
}

/// What the breaker allows right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The circuit is closed: send, and retry as the retry policy says.
    Send,
    /// The circuit is half-open: one attempt, whose outcome closes or reopens the circuit.
    Probe,
    /// The circuit is open: do not send.
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open { until: Instant },
    HalfOpen,
}

/// The circuit breaker of one lane.
#[derive(Debug)]
pub(crate) struct Breaker {
    policy: BreakerPolicy,
    state: State,
    /// Failed attempts since the last success.
    failures: u32,
}

impl Breaker {
    pub(crate) fn new(policy: BreakerPolicy) -> Breaker {
        Breaker {
            policy,
            state: State::Closed,
            failures: 0,
        }
    }

    /// The state as the public stats show it.
    pub(crate) fn state(&self) -> CircuitState {
        match self.state {
            State::Closed => CircuitState::Closed,
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen => CircuitState::HalfOpen,
        }
    }

    /// Failed attempts since the last success.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// How long the circuit stays open before a probe.
    pub(crate) fn cooldown(&self) -> Duration {
        self.policy.cooldown
    }

    /// When an open circuit lets a probe through; `None` unless open.
    pub(crate) fn open_until(&self) -> Option<Instant> {
        match self.state {
            State::Open { until } => Some(until),
            State::Closed | State::HalfOpen => None,
        }
    }

    /// Whether an attempt may be made at `now`. An open circuit whose cooldown has passed
    /// becomes half-open here.
    pub(crate) fn allow(&mut self, now: Instant) -> Decision {
        match self.state {
            State::Closed => Decision::Send,
            State::HalfOpen => Decision::Probe,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen;
                Decision::Probe
            }
            State::Open { .. } => Decision::Reject,
        }
    }

    /// An attempt succeeded: the failure count starts over and the circuit closes.
    pub(crate) fn on_success(&mut self) {
        self.failures = 0;
        self.state = State::Closed;
    }

    /// An attempt failed at `now`. A failed probe reopens the circuit for another cooldown; a
    /// closed circuit opens once `failure_threshold` attempts failed in a row.
    pub(crate) fn on_failure(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        let open = match self.state {
            State::HalfOpen => true,
            State::Closed => self.failures >= self.policy.failure_threshold,
            // No attempt is made while open; nothing to change.
            State::Open { .. } => false,
        };
        if open {
            self.state = State::Open {
                until: now + self.policy.cooldown,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(10);

    fn breaker(threshold: u32) -> Breaker {
        Breaker::new(BreakerPolicy {
            failure_threshold: threshold,
            cooldown: COOLDOWN,
        })
    }

    /// A breaker opened at `t0` after `threshold` failures.
    fn opened(threshold: u32, t0: Instant) -> Breaker {
        let mut b = breaker(threshold);
        for _ in 0..threshold {
            assert_eq!(b.allow(t0), Decision::Send);
            b.on_failure(t0);
        }
        assert_eq!(b.state(), CircuitState::Open);
        b
    }

    #[test]
    fn starts_closed_and_sends() {
        let mut b = breaker(3);
        assert_eq!(b.state(), CircuitState::Closed);
        assert_eq!(b.allow(Instant::now()), Decision::Send);
        assert_eq!(b.open_until(), None);
        assert_eq!(b.failures(), 0);
    }

    #[test]
    fn closed_opens_after_threshold_failures_in_a_row() {
        let t0 = Instant::now();
        let mut b = breaker(3);
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(), CircuitState::Closed);
        assert_eq!(b.allow(t0), Decision::Send);
        b.on_failure(t0);
        assert_eq!(b.state(), CircuitState::Open);
        assert_eq!(b.failures(), 3);
        assert_eq!(b.open_until(), Some(t0 + COOLDOWN));
    }

    #[test]
    fn success_resets_the_failure_count() {
        let t0 = Instant::now();
        let mut b = breaker(3);
        b.on_failure(t0);
        b.on_failure(t0);
        b.on_success();
        assert_eq!(b.failures(), 0);
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(), CircuitState::Closed, "the count started over");
        b.on_failure(t0);
        assert_eq!(b.state(), CircuitState::Open);
    }

    #[test]
    fn open_rejects_until_the_cooldown_passes() {
        let t0 = Instant::now();
        let mut b = opened(2, t0);
        assert_eq!(b.allow(t0), Decision::Reject);
        assert_eq!(
            b.allow(t0 + COOLDOWN - Duration::from_millis(1)),
            Decision::Reject
        );
        assert_eq!(b.state(), CircuitState::Open);
    }

    #[test]
    fn open_becomes_half_open_after_the_cooldown() {
        let t0 = Instant::now();
        let mut b = opened(2, t0);
        assert_eq!(b.allow(t0 + COOLDOWN), Decision::Probe);
        assert_eq!(b.state(), CircuitState::HalfOpen);
        assert_eq!(b.open_until(), None);
        // Still half-open until the probe's outcome is known.
        assert_eq!(b.allow(t0 + COOLDOWN), Decision::Probe);
    }

    #[test]
    fn failed_probe_reopens_directly_for_a_new_cooldown() {
        let t0 = Instant::now();
        let mut b = opened(2, t0);
        let t1 = t0 + COOLDOWN + Duration::from_secs(1);
        assert_eq!(b.allow(t1), Decision::Probe);
        b.on_failure(t1);
        // One failure reopens it, although the count is past the threshold anyway.
        assert_eq!(b.state(), CircuitState::Open);
        assert_eq!(b.open_until(), Some(t1 + COOLDOWN));
        assert_eq!(b.allow(t1 + COOLDOWN / 2), Decision::Reject);
        assert_eq!(b.allow(t1 + COOLDOWN), Decision::Probe);
    }

    #[test]
    fn successful_probe_closes_the_circuit() {
        let t0 = Instant::now();
        let mut b = opened(2, t0);
        assert_eq!(b.allow(t0 + COOLDOWN), Decision::Probe);
        b.on_success();
        assert_eq!(b.state(), CircuitState::Closed);
        assert_eq!(b.failures(), 0);
        assert_eq!(b.allow(t0 + COOLDOWN), Decision::Send);
        // Closed again with a fresh count: one failure does not reopen it.
        b.on_failure(t0 + COOLDOWN);
        assert_eq!(b.state(), CircuitState::Closed);
    }

    #[test]
    fn failure_while_open_changes_nothing() {
        let t0 = Instant::now();
        let mut b = opened(1, t0);
        b.on_failure(t0 + Duration::from_secs(5));
        assert_eq!(b.open_until(), Some(t0 + COOLDOWN));
    }

    #[test]
    fn zero_threshold_opens_on_the_first_failure() {
        let t0 = Instant::now();
        let mut b = breaker(0);
        assert_eq!(b.allow(t0), Decision::Send);
        b.on_failure(t0);
        assert_eq!(b.state(), CircuitState::Open);
    }
}

//! Traced retries: [`retry`] and [`retry_when`] run an async operation again after failures,
//! with exponential backoff ([`backon`]'s schedule), as one span for the whole call and a child
//! span per attempt.
//!
//! The spans are custom spans: the call is named after [`Retry::name`] (default `"retry"`) and
//! records `max_attempts`, then `attempts` and the last error; each attempt is named
//! `"<name> attempt"` and records `attempt` (1-based), `max_attempts`, `delay_ms` (the wait
//! before it; 0 for the first) and, when it failed, its error. Spans the operation makes nest
//! under the attempt that made them. Dropping the returned future cancels the call: the attempt
//! in flight and the call span end with the error `"cancelled"`, and no further attempt starts.

use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::{Map, Value};

use crate::model::{CustomSpanData, Name, SpanData, SpanError};
use crate::{current_span, Instrument, Record, Span};

/// How [`retry`] and [`retry_when`] retry: attempts, backoff and jitter.
///
/// The wait before attempt `n + 1` is `initial_delay * multiplier^(n - 1)`, capped at
/// `max_delay`; with jitter on, a random amount up to that wait again is added (backon's
/// jitter), so that many clients failing together do not retry in step.
///
/// ```
/// use std::time::Duration;
/// let policy = agent_trace::Retry::new(3)
///     .initial_delay(Duration::from_millis(200))
///     .multiplier(2.0)
///     .max_delay(Duration::from_secs(2))
///     .jitter(true)
///     .name("call_model");
/// assert_eq!(policy.max_attempts, 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Retry {
    /// Attempts in all, the first included (at least 1; default 3).
    pub max_attempts: u32,
    /// The wait before the second attempt (default 1 s, as the seed's `retry_delay=1.0`).
    pub initial_delay: Duration,
    /// Each later wait is the previous one times this (default 2.0; 1.0 for a fixed delay).
    pub multiplier: f32,
    /// The longest wait (default 30 s).
    pub max_delay: Duration,
    /// Adds a random part to each wait (default on).
    pub jitter: bool,
    /// The name of the call's span (default `"retry"`).
    pub name: Name,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: 3,
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(30),
            jitter: true,
            name: Name::Borrowed("retry"),
        }
    }
}

impl Retry {
    /// The default policy with `max_attempts` attempts in all (0 is taken as 1).
    ///
    /// ```
    /// assert_eq!(agent_trace::Retry::new(0).max_attempts, 1);
    /// ```
    pub fn new(max_attempts: u32) -> Self {
        Retry {
            max_attempts: max_attempts.max(1),
            ..Retry::default()
        }
    }

    /// Sets the wait before the second attempt.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// Sets the factor between successive waits (values below 1.0, or not finite, are taken as
    /// 1.0).
    pub fn multiplier(mut self, m: f32) -> Self {
        self.multiplier = if m.is_finite() { m.max(1.0) } else { 1.0 };
        self
    }

    /// Sets the longest wait.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Turns the random part of each wait on or off.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// Names the call's span (and, with `" attempt"` appended, its attempts' spans).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = name.into();
        self
    }

    fn backoff(&self) -> ExponentialBuilder {
        let b = ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.multiplier.max(1.0))
            .with_max_times(self.max_attempts.max(1) as usize - 1);
        if self.jitter {
            b.with_jitter()
        } else {
            b
        }
    }
}

/// Runs `op` until it succeeds or `policy.max_attempts` attempts have failed; returns its
/// value or the last error. Every error is retried; see [`retry_when`] to choose.
///
/// Needs a Tokio runtime with its timer enabled (the waits are `tokio::time::sleep`).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let calls = AtomicU32::new(0);
/// let policy = agent_trace::Retry::new(3).initial_delay(Duration::from_millis(1));
/// let out = agent_trace::retry(&policy, || async {
///     if calls.fetch_add(1, Ordering::Relaxed) < 2 { Err("busy") } else { Ok(42) }
/// })
/// .await;
/// assert_eq!(out, Ok(42));
/// assert_eq!(calls.load(Ordering::Relaxed), 3);
/// # }
/// ```
pub async fn retry<T, E, F, Fut>(policy: &Retry, op: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    retry_when(policy, op, |_: &E| true).await
}

/// [`retry`], retrying only the errors for which `retryable` returns true; any other error
/// ends the call at once.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let policy = agent_trace::Retry::new(5).initial_delay(Duration::from_millis(1));
/// let mut calls = 0;
/// let out: Result<(), String> = agent_trace::retry_when(
///     &policy,
///     || { calls += 1; async { Err("400 bad request".to_string()) } },
///     |e: &String| !e.starts_with("4"),
/// )
/// .await;
/// assert!(out.is_err());
/// assert_eq!(calls, 1);
/// # }
/// ```
pub async fn retry_when<T, E, F, Fut, P>(policy: &Retry, mut op: F, retryable: P) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
    P: FnMut(&E) -> bool,
{
    let max = policy.max_attempts.max(1);
    let attempts = AtomicU32::new(0);
    // The wait before the next attempt, in nanoseconds, set by backon's `notify`.
    let next_delay = AtomicU64::new(0);
    let attempt_name: Name = format!("{} attempt", policy.name).into();

    let call = custom(policy.name.clone(), &[("max_attempts", max.into())]);
    let run = async {
        let result = (|| {
            let n = attempts.fetch_add(1, Ordering::Relaxed) + 1;
            let delay = Duration::from_nanos(next_delay.swap(0, Ordering::Relaxed));
            let span = custom(
                attempt_name.clone(),
                &[
                    ("attempt", n.into()),
                    ("max_attempts", max.into()),
                    ("delay_ms", (delay.as_millis() as u64).into()),
                ],
            );
            let fut = op();
            async move {
                let r = fut.await;
                if let Err(e) = &r {
                    current_span().set_error(SpanError::new(e.to_string()));
                }
                r
            }
            .in_span(span)
        })
        .retry(policy.backoff())
        .sleep(tokio::time::sleep)
        .when(retryable)
        .notify(|_, d| next_delay.store(d.as_nanos() as u64, Ordering::Relaxed))
        .await;
        let mut span = current_span();
        span.set_attribute("attempts", &attempts.load(Ordering::Relaxed));
        if let Err(e) = &result {
            span.set_error(SpanError::new(e.to_string()));
        }
        result
    };
    run.in_span(call).await
}

/// A custom span with the given data, set before it starts (so processors see it in
/// `on_span_start`).
fn custom(name: Name, data: &[(&str, Value)]) -> Span {
    let data: Map<String, Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Span::new(SpanData::Custom(CustomSpanData { name, data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_clamps_bad_values() {
        let p = Retry::new(0).multiplier(f32::NAN);
        assert_eq!(p.max_attempts, 1);
        assert_eq!(p.multiplier, 1.0);
        assert_eq!(Retry::default().multiplier(0.5).multiplier, 1.0);
    }
}

//! The rules of the tail sampler.

use std::time::Duration;

use super::PriorityRule;

/// The rules of a [`TailSampler`](super::TailSampler). A trace is kept when, in this order:
///
/// 1. a span has an error (`keep_errors`, on by default);
/// 2. a guardrail span tripped (`keep_guardrail_triggered`, on by default);
/// 3. it lasted longer than [`min_duration`](TailPolicy::min_duration);
/// 4. its spans' usage adds up to more than [`min_total_tokens`](TailPolicy::min_total_tokens);
/// 5. otherwise the first [`PriorityRule`] that matches decides, at its ratio;
/// 6. otherwise it is kept at [`ratio`](TailPolicy::ratio) (default 0.1), decided from the
///    trace id (so services with the same ratio agree).
///
/// Memory is bounded by [`max_traces`](TailPolicy::max_traces) (default 1 000) traces and
/// [`max_spans`](TailPolicy::max_spans) (default 10 000) spans held. A trace that starts while
/// `max_traces` are held is decided at once from its metadata (rules 5 and 6); a span that would
/// exceed `max_spans` makes its trace be decided at once on what it has so far (rules 1, 2, 4, 5,
/// 6). Either way the decision is counted in [`TailStats::decided_early`](super::TailStats::decided_early) and the trace's later
/// spans follow it as they end. Spans of a trace this process never saw start (a continued remote
/// trace) are decided one by one: kept if they failed, or by the ratio on the trace id.
///
/// ```
/// use std::time::Duration;
/// use agent_trace::{sampling::{PriorityRule, TailPolicy}, SpanKind};
/// let policy = TailPolicy::new()
///     .min_duration(Duration::from_secs(30))
///     .min_total_tokens(50_000)
///     .rule(PriorityRule::metadata("priority", "high"))
///     .rule(PriorityRule::span(Some(SpanKind::Function), Some("search_*")).keep_ratio(0.1))
///     .ratio(0.05)
///     .max_traces(500)
///     .max_spans(20_000);
/// # let _ = policy;
/// ```
#[derive(Debug, Clone)]
pub struct TailPolicy {
    pub(super) keep_errors: bool,
    pub(super) keep_guardrail_triggered: bool,
    pub(super) min_duration: Option<Duration>,
    pub(super) min_total_tokens: Option<u64>,
    pub(super) rules: Vec<PriorityRule>,
    pub(super) ratio: f64,
    pub(super) max_traces: usize,
    pub(super) max_spans: usize,
}

impl Default for TailPolicy {
    fn default() -> Self {
        TailPolicy {
            keep_errors: true,
            keep_guardrail_triggered: true,
            min_duration: None,
            min_total_tokens: None,
            rules: Vec::new(),
            ratio: 0.1,
            max_traces: 1_000,
            max_spans: 10_000,
        }
    }
}

impl TailPolicy {
    /// The default policy (see [`TailPolicy`]).
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new();
    /// # let _ = p;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a trace with a failed span is always kept (default true).
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new().keep_errors(false);
    /// # let _ = p;
    /// ```
    pub fn keep_errors(mut self, on: bool) -> Self {
        self.keep_errors = on;
        self
    }

    /// Whether a trace with a tripped guardrail is always kept (default true).
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new().keep_guardrail_triggered(false);
    /// # let _ = p;
    /// ```
    pub fn keep_guardrail_triggered(mut self, on: bool) -> Self {
        self.keep_guardrail_triggered = on;
        self
    }

    /// Keeps traces that last longer than `d`.
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new().min_duration(std::time::Duration::from_secs(10));
    /// # let _ = p;
    /// ```
    pub fn min_duration(mut self, d: Duration) -> Self {
        self.min_duration = Some(d);
        self
    }

    /// Keeps traces whose spans used more than `tokens` tokens in all.
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new().min_total_tokens(10_000);
    /// # let _ = p;
    /// ```
    pub fn min_total_tokens(mut self, tokens: u64) -> Self {
        self.min_total_tokens = Some(tokens);
        self
    }

    /// Adds a priority rule (tried in the order added, after the keep-always rules).
    ///
    /// ```
    /// use agent_trace::sampling::{PriorityRule, TailPolicy};
    /// let p = TailPolicy::new().rule(PriorityRule::metadata("priority", "high"));
    /// # let _ = p;
    /// ```
    pub fn rule(mut self, rule: PriorityRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The fraction of the remaining traces kept (default 0.1; clamped to `[0, 1]`).
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new().ratio(1.0);
    /// # let _ = p;
    /// ```
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        self
    }

    /// At most this many traces held at once (at least 1).
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new().max_traces(100);
    /// # let _ = p;
    /// ```
    pub fn max_traces(mut self, n: usize) -> Self {
        self.max_traces = n.max(1);
        self
    }

    /// At most this many spans held at once, over all traces (at least 1).
    ///
    /// ```
    /// let p = agent_trace::sampling::TailPolicy::new().max_spans(5_000);
    /// # let _ = p;
    /// ```
    pub fn max_spans(mut self, n: usize) -> Self {
        self.max_spans = n.max(1);
        self
    }
}

//! Tail sampling: a processor wrapper that decides on whole traces once they end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::{ratio_keeps, TailPolicy};
use crate::id::TraceId;
use crate::model::{SpanData, SpanRecord, TraceRecord};
use crate::processor::{BoxFuture, TraceError, TracingProcessor};

/// Why a trace was kept or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Error,
    Guardrail,
    Duration,
    Tokens,
    Rule(bool),
    Ratio(bool),
}

impl Verdict {
    fn keep(self) -> bool {
        match self {
            Verdict::Rule(k) | Verdict::Ratio(k) => k,
            _ => true,
        }
    }
}

/// Counters of a [`TailSampler`]. Exact at any time:
/// `spans_received = spans_kept + spans_dropped + spans_held`, and every trace decided counts
/// once in `traces_kept` or `traces_dropped` (kept traces once more in exactly one `kept_*`
/// reason). Spans dropped here were decided, not lost: the wrapped processor never saw them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TailStats {
    /// Spans handed to the sampler.
    pub spans_received: u64,
    /// Spans passed on to the wrapped processor.
    pub spans_kept: u64,
    /// Spans dropped by a decision.
    pub spans_dropped: u64,
    /// Spans held now, waiting for their trace's decision.
    pub spans_held: u64,
    /// Traces held now.
    pub traces_held: u64,
    /// Traces kept.
    pub traces_kept: u64,
    /// Traces dropped.
    pub traces_dropped: u64,
    /// Kept because a span failed.
    pub kept_error: u64,
    /// Kept because a guardrail tripped.
    pub kept_guardrail: u64,
    /// Kept because the trace lasted longer than the threshold.
    pub kept_duration: u64,
    /// Kept because the trace used more tokens than the threshold.
    pub kept_tokens: u64,
    /// Kept by a priority rule.
    pub kept_priority: u64,
    /// Kept by the ratio for the rest.
    pub kept_ratio: u64,
    /// Traces decided before they ended because the memory bound was reached (also counted
    /// in `traces_kept` or `traces_dropped`).
    pub decided_early: u64,
    /// Spans of traces this sampler never saw start, decided one by one (also counted in
    /// `spans_kept` or `spans_dropped`).
    pub spans_without_trace: u64,
}

#[derive(Default)]
struct Counters {
    spans_received: AtomicU64,
    spans_kept: AtomicU64,
    spans_dropped: AtomicU64,
    traces_kept: AtomicU64,
    traces_dropped: AtomicU64,
    kept_error: AtomicU64,
    kept_guardrail: AtomicU64,
    kept_duration: AtomicU64,
    kept_tokens: AtomicU64,
    kept_priority: AtomicU64,
    kept_ratio: AtomicU64,
    decided_early: AtomicU64,
    spans_without_trace: AtomicU64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// A trace waiting for its end.
struct Held {
    start: TraceRecord,
    spans: Vec<SpanRecord>,
}

#[derive(Default)]
struct State {
    held: HashMap<TraceId, Held>,
    held_spans: usize,
    /// Traces decided before their end: whether they were kept. Removed at the trace's end;
    /// bounded (see `decided_cap`): past it, spans fall back to the per-span decision.
    decided: HashMap<TraceId, bool>,
}

/// What to hand to the wrapped processor once the lock is released.
enum Forward {
    Nothing,
    Span(SpanRecord),
    Trace(Box<TraceRecord>, Vec<SpanRecord>, Option<TraceRecord>),
}

/// Tail sampling: wraps the processor that would otherwise get the spans (usually a
/// [`BatchProcessor`](crate::BatchProcessor)) and holds each trace's spans until the trace ends,
/// then passes on the whole trace (its start record, its spans, its end record) or nothing,
/// by a [`TailPolicy`]. Add it last to the provider (or alone): processors added before it
/// still see every span.
///
/// ```
/// use agent_trace::sampling::{TailPolicy, TailSampler};
/// use agent_trace::{testing::CollectingProcessor, SpanError, Record, TracerProvider};
///
/// let spans = CollectingProcessor::new();
/// let tail = std::sync::Arc::new(TailSampler::new(spans.clone(), TailPolicy::new().ratio(0.0)));
/// let provider = TracerProvider::builder().with_shared_processor(tail.clone()).build();
/// provider.trace("boring").in_scope(|| agent_trace::custom_span("ok").in_scope(|| {}));
/// provider.trace("failing").in_scope(|| {
///     agent_trace::custom_span("bad").in_scope(|| {
///         agent_trace::current_span().set_error(SpanError::new("boom"));
///     })
/// });
/// assert_eq!(spans.spans().len(), 1); // only the failing trace's span
/// let stats = tail.stats();
/// assert_eq!((stats.traces_kept, stats.traces_dropped, stats.kept_error), (1, 1, 1));
/// ```
pub struct TailSampler<P> {
    inner: P,
    policy: TailPolicy,
    state: Mutex<State>,
    counters: Counters,
}

impl<P> std::fmt::Debug for TailSampler<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailSampler")
            .field("policy", &self.policy)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<P> TailSampler<P> {
    /// Wraps `inner` with `policy`.
    ///
    /// ```
    /// use agent_trace::sampling::{TailPolicy, TailSampler};
    /// let t = TailSampler::new(agent_trace::testing::CollectingProcessor::new(), TailPolicy::new());
    /// # let _ = t;
    /// ```
    pub fn new(inner: P, policy: TailPolicy) -> Self {
        TailSampler {
            inner,
            policy,
            state: Mutex::new(State::default()),
            counters: Counters::default(),
        }
    }

    /// The wrapped processor.
    ///
    /// ```
    /// use agent_trace::sampling::{TailPolicy, TailSampler};
    /// let t = TailSampler::new(agent_trace::testing::CollectingProcessor::new(), TailPolicy::new());
    /// assert!(t.inner().spans().is_empty());
    /// ```
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The counters (see [`TailStats`]).
    ///
    /// ```
    /// use agent_trace::sampling::{TailPolicy, TailSampler};
    /// let t = TailSampler::new(agent_trace::testing::CollectingProcessor::new(), TailPolicy::new());
    /// assert_eq!(t.stats().spans_received, 0);
    /// ```
    pub fn stats(&self) -> TailStats {
        let (spans_held, traces_held) = {
            let s = self.lock();
            (s.held_spans as u64, s.held.len() as u64)
        };
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let c = &self.counters;
        TailStats {
            spans_received: g(&c.spans_received),
            spans_kept: g(&c.spans_kept),
            spans_dropped: g(&c.spans_dropped),
            spans_held,
            traces_held,
            traces_kept: g(&c.traces_kept),
            traces_dropped: g(&c.traces_dropped),
            kept_error: g(&c.kept_error),
            kept_guardrail: g(&c.kept_guardrail),
            kept_duration: g(&c.kept_duration),
            kept_tokens: g(&c.kept_tokens),
            kept_priority: g(&c.kept_priority),
            kept_ratio: g(&c.kept_ratio),
            decided_early: g(&c.decided_early),
            spans_without_trace: g(&c.spans_without_trace),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn decided_cap(&self) -> usize {
        self.policy.max_traces.saturating_mul(16)
    }

    /// The verdict on a trace from what is known. `duration` is `None` before its end.
    fn judge(
        &self,
        trace: &TraceRecord,
        spans: &[SpanRecord],
        duration: Option<Duration>,
    ) -> Verdict {
        let p = &self.policy;
        if p.keep_errors && spans.iter().any(|s| s.error.is_some()) {
            return Verdict::Error;
        }
        if p.keep_guardrail_triggered
            && spans
                .iter()
                .any(|s| matches!(&s.data, SpanData::Guardrail(g) if g.triggered))
        {
            return Verdict::Guardrail;
        }
        if let (Some(min), Some(d)) = (p.min_duration, duration) {
            if d > min {
                return Verdict::Duration;
            }
        }
        if let Some(min) = p.min_total_tokens {
            let total: u64 = spans
                .iter()
                .filter_map(|s| s.data.usage())
                .map(|u| u.total())
                .sum();
            if total > min {
                return Verdict::Tokens;
            }
        }
        let md = trace.metadata.as_ref();
        for r in &p.rules {
            if r.metadata_matches(md)
                && (!r.has_span_condition() || spans.iter().any(|s| r.span_matches(s)))
            {
                return Verdict::Rule(r.decides(trace.id));
            }
        }
        Verdict::Ratio(ratio_keeps(trace.id.to_u128() as u64, p.ratio))
    }

    /// Counts a trace's verdict and its spans' fate.
    fn count(&self, v: Verdict, spans: u64, early: bool) {
        let c = &self.counters;
        if early {
            add(&c.decided_early, 1);
        }
        if !v.keep() {
            add(&c.traces_dropped, 1);
            add(&c.spans_dropped, spans);
            return;
        }
        add(&c.traces_kept, 1);
        add(&c.spans_kept, spans);
        add(
            match v {
                Verdict::Error => &c.kept_error,
                Verdict::Guardrail => &c.kept_guardrail,
                Verdict::Duration => &c.kept_duration,
                Verdict::Tokens => &c.kept_tokens,
                Verdict::Rule(_) => &c.kept_priority,
                Verdict::Ratio(_) => &c.kept_ratio,
            },
            1,
        );
    }

    /// Decides every held trace now (shutdown); returns what to forward.
    fn decide_all(&self) -> Vec<(TraceRecord, Vec<SpanRecord>)> {
        let mut s = self.lock();
        let held: Vec<Held> = s.held.drain().map(|(_, h)| h).collect();
        s.held_spans = 0;
        drop(s);
        let mut out = Vec::new();
        for h in held {
            let v = self.judge(&h.start, &h.spans, None);
            self.count(v, h.spans.len() as u64, true);
            if v.keep() {
                out.push((h.start, h.spans));
            }
        }
        out
    }
}

impl<P: TracingProcessor> TailSampler<P> {
    fn forward(&self, f: Forward) {
        match f {
            Forward::Nothing => {}
            Forward::Span(span) => self.inner.on_span_end_last(&mut Some(span)),
            Forward::Trace(start, spans, end) => {
                self.inner.on_trace_start(&start);
                for span in spans {
                    self.inner.on_span_end_last(&mut Some(span));
                }
                if let Some(end) = end {
                    self.inner.on_trace_end(&end);
                }
            }
        }
    }

    fn take_span(&self, span: SpanRecord) {
        add(&self.counters.spans_received, 1);
        let f = self.place_span(span);
        self.forward(f);
    }

    /// One span whose fate is already known: counted, then passed on or not.
    fn forward_one(&self, span: SpanRecord, keep: bool) -> Forward {
        let c = &self.counters;
        add(
            if keep {
                &c.spans_kept
            } else {
                &c.spans_dropped
            },
            1,
        );
        if keep {
            Forward::Span(span)
        } else {
            Forward::Nothing
        }
    }

    fn place_span(&self, span: SpanRecord) -> Forward {
        let c = &self.counters;
        let mut s = self.lock();
        let id = span.trace_id;
        if let Some(&keep) = s.decided.get(&id) {
            drop(s);
            return self.forward_one(span, keep);
        }
        if !s.held.contains_key(&id) {
            drop(s);
            add(&c.spans_without_trace, 1);
            let keep = (self.policy.keep_errors && span.error.is_some())
                || ratio_keeps(id.to_u128() as u64, self.policy.ratio);
            return self.forward_one(span, keep);
        }
        if s.held_spans < self.policy.max_spans {
            s.held_spans += 1;
            if let Some(h) = s.held.get_mut(&id) {
                h.spans.push(span);
            }
            return Forward::Nothing;
        }
        // Over the span bound: this trace is decided now, on what it has so far.
        let Some(mut h) = s.held.remove(&id) else {
            return Forward::Nothing;
        };
        s.held_spans -= h.spans.len();
        let fits = s.decided.len() < self.decided_cap();
        drop(s);
        h.spans.push(span);
        let v = self.judge(&h.start, &h.spans, None);
        self.count(v, h.spans.len() as u64, true);
        if fits {
            self.lock().decided.insert(id, v.keep());
        }
        if v.keep() {
            Forward::Trace(Box::new(h.start), h.spans, None)
        } else {
            Forward::Nothing
        }
    }
}

impl<P: TracingProcessor> TracingProcessor for TailSampler<P> {
    fn on_trace_start(&self, trace: &TraceRecord) {
        let mut s = self.lock();
        if s.held.len() < self.policy.max_traces {
            s.held.insert(
                trace.id,
                Held {
                    start: trace.clone(),
                    spans: Vec::new(),
                },
            );
            return;
        }
        // Over the trace bound: decided now, from its metadata.
        let v = self.judge(trace, &[], None);
        let fits = s.decided.len() < self.decided_cap();
        if fits {
            s.decided.insert(trace.id, v.keep());
        }
        drop(s);
        self.count(v, 0, true);
        if fits && v.keep() {
            self.inner.on_trace_start(trace);
        }
    }

    fn on_trace_end(&self, trace: &TraceRecord) {
        let mut s = self.lock();
        if let Some(keep) = s.decided.remove(&trace.id) {
            drop(s);
            if keep {
                self.inner.on_trace_end(trace);
            }
            return;
        }
        let Some(h) = s.held.remove(&trace.id) else {
            return; // never seen start: nothing held, nothing to decide
        };
        s.held_spans -= h.spans.len();
        drop(s);
        let duration = match (trace.started_at, trace.ended_at) {
            (Some(a), Some(b)) => Some(b.saturating_duration_since(a)),
            _ => None,
        };
        let v = self.judge(trace, &h.spans, duration);
        self.count(v, h.spans.len() as u64, false);
        if v.keep() {
            self.forward(Forward::Trace(
                Box::new(h.start),
                h.spans,
                Some(trace.clone()),
            ));
        }
    }

    fn on_span_start(&self, _span: &SpanRecord) {}

    fn wants_span_start(&self) -> bool {
        false
    }

    fn on_span_end(&self, span: &SpanRecord) {
        self.take_span(span.clone());
    }

    fn on_span_end_last(&self, slot: &mut Option<SpanRecord>) {
        if let Some(span) = slot.take() {
            self.take_span(span);
        }
    }

    fn force_flush(&self) -> BoxFuture<'_, Result<(), TraceError>> {
        self.inner.force_flush()
    }

    fn force_flush_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        self.inner.force_flush_blocking(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> BoxFuture<'_, Result<(), TraceError>> {
        for (start, spans) in self.decide_all() {
            self.forward(Forward::Trace(Box::new(start), spans, None));
        }
        self.inner.shutdown(timeout)
    }

    fn shutdown_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        for (start, spans) in self.decide_all() {
            self.forward(Forward::Trace(Box::new(start), spans, None));
        }
        self.inner.shutdown_blocking(timeout)
    }

    fn on_provider_drop(&self, timeout: Duration) -> Result<(), TraceError> {
        for (start, spans) in self.decide_all() {
            self.forward(Forward::Trace(Box::new(start), spans, None));
        }
        self.inner.on_provider_drop(timeout)
    }
}

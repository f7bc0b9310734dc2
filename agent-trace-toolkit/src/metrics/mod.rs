//! Span metrics: [`MetricsProcessor`] counts every finished span by kind and name (the model,
//! for generations), with errors, a latency histogram and token usage; [`MetricsSnapshot`] reads
//! them (p50/p95/p99 included); the Prometheus text exposition comes from the
//! `prometheus-client` crate ([`MetricsProcessor::encode_prometheus`], or register the processor
//! in your own registry with [`MetricsProcessor::register`]); [`serve`] answers `GET /metrics`.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `agent_trace_span_duration_seconds` | histogram | `kind`, `name` |
//! | `agent_trace_span_errors_total` | counter | `kind`, `name` |
//! | `agent_trace_tokens_total` | counter | `model`, `direction` (`input`, `output`) |
//! | `agent_trace_metrics_folded_total` | counter | `label` (`name`, `model`) |
//!
//! Label cardinality is bounded: past [`MetricsProcessor::max_names_per_kind`] distinct names
//! of one kind (or [`MetricsProcessor::max_models`] models), further ones are counted under the
//! name `other`, and each span so folded is counted in `agent_trace_metrics_folded_total`.
//!
//! ```
//! use agent_trace::{Record, TracerProvider, Usage};
//! use agent_trace_toolkit::metrics::MetricsProcessor;
//!
//! let metrics = MetricsProcessor::new();
//! let provider = TracerProvider::builder().with_processor(metrics.clone()).build();
//! provider.trace("wf").in_scope(|| {
//!     let mut g = agent_trace::generation_span().with_model("gpt-4o-mini");
//!     g.record_usage(Usage::tokens(12, 5));
//! });
//! let snap = metrics.snapshot();
//! assert_eq!(snap.spans[0].name, "gpt-4o-mini");
//! assert_eq!(snap.tokens[0].input_tokens, 12);
//! assert!(metrics.encode_prometheus().contains("agent_trace_tokens_total{model=\"gpt-4o-mini\",direction=\"input\"} 12"));
//! ```

mod histogram;
mod prometheus;
mod server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use agent_trace::{Name, SpanKind, SpanRecord, TracingProcessor};
use serde::Serialize;

use histogram::Histogram;
pub use prometheus::CONTENT_TYPE;
pub use server::{serve, MetricsServer};

/// The name spans are counted under once their kind has reached the limit of distinct names.
pub const OTHER: &str = "other";

/// Collects span metrics; clone it to keep a handle after installing it on a provider.
///
/// A span end takes one short lock (a hash lookup by name and a few additions); measure it on
/// your machine with `cargo run --release -p agent-trace-toolkit --example metrics_cost`.
#[derive(Clone, Debug)]
pub struct MetricsProcessor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max_names: usize,
    max_models: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Per kind, per name.
    spans: Vec<(SpanKind, HashMap<Name, Series>)>,
    /// Per model: (input, output).
    tokens: HashMap<Name, (u64, u64)>,
    folded_names: u64,
    folded_models: u64,
}

#[derive(Debug, Default, Clone)]
struct Series {
    errors: u64,
    latency: Histogram,
    input_tokens: u64,
    output_tokens: u64,
}

impl Default for MetricsProcessor {
    fn default() -> Self {
        MetricsProcessor::new()
    }
}

impl MetricsProcessor {
    /// A processor with the default limits: 200 names per kind, 100 models.
    pub fn new() -> Self {
        MetricsProcessor::with_limits(200, 100)
    }

    /// A processor keeping at most `max_names_per_kind` names per span kind and `max_models`
    /// models (each at least 1); spans past them are counted under [`OTHER`].
    pub fn with_limits(max_names_per_kind: usize, max_models: usize) -> Self {
        MetricsProcessor {
            inner: Arc::new(Inner {
                max_names: max_names_per_kind.max(1),
                max_models: max_models.max(1),
                state: Mutex::default(),
            }),
        }
    }

    /// The limit of distinct names per span kind.
    pub fn max_names_per_kind(&self) -> usize {
        self.inner.max_names
    }

    /// The limit of distinct models.
    pub fn max_models(&self) -> usize {
        self.inner.max_models
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counts that are still counts.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one finished span (what [`TracingProcessor::on_span_end`] does).
    pub fn record(&self, span: &SpanRecord) {
        let kind = span.data.kind();
        let name = span_name(span);
        let usage = span.data.usage();
        let model = usage.map(|_| span_model(span));
        let duration = span.duration();
        let mut st = self.lock();
        let st = &mut *st;
        let max_names = self.inner.max_names;
        let by_name = match st.spans.iter().position(|(k, _)| *k == kind) {
            Some(i) => &mut st.spans[i].1,
            None => {
                st.spans.push((kind, HashMap::new()));
                &mut st.spans.last_mut().expect("just pushed").1
            }
        };
        let series = match by_name.get_mut(name) {
            Some(s) => s,
            None => {
                let key: Name = if by_name.len() < max_names {
                    Name::Owned(name.to_owned())
                } else {
                    st.folded_names += 1;
                    Name::Borrowed(OTHER)
                };
                by_name.entry(key).or_default()
            }
        };
        series.latency.record(duration);
        if span.error.is_some() {
            series.errors += 1;
        }
        if let (Some(u), Some(model)) = (usage, model) {
            series.input_tokens += u.input_tokens;
            series.output_tokens += u.output_tokens;
            let max_models = self.inner.max_models;
            let slot = match st.tokens.get_mut(model) {
                Some(t) => t,
                None => {
                    let key: Name = if st.tokens.len() < max_models {
                        Name::Owned(model.to_owned())
                    } else {
                        st.folded_models += 1;
                        Name::Borrowed(OTHER)
                    };
                    st.tokens.entry(key).or_default()
                }
            };
            slot.0 += u.input_tokens;
            slot.1 += u.output_tokens;
        }
    }

    /// What has been counted so far, sorted by kind and name.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let st = self.lock();
        let mut spans: Vec<SpanMetrics> = st
            .spans
            .iter()
            .flat_map(|(kind, by_name)| {
                by_name.iter().map(move |(name, s)| SpanMetrics {
                    kind: kind.as_str(),
                    name: name.to_string(),
                    count: s.latency.count,
                    errors: s.errors,
                    total: Duration::from_nanos(
                        u64::try_from(s.latency.sum_ns).unwrap_or(u64::MAX),
                    ),
                    min: Duration::from_nanos(s.latency.min_ns),
                    max: Duration::from_nanos(s.latency.max_ns),
                    p50: s.latency.quantile(0.50),
                    p95: s.latency.quantile(0.95),
                    p99: s.latency.quantile(0.99),
                    input_tokens: s.input_tokens,
                    output_tokens: s.output_tokens,
                })
            })
            .collect();
        spans.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        let mut tokens: Vec<ModelTokens> = st
            .tokens
            .iter()
            .map(|(model, &(i, o))| ModelTokens {
                model: model.to_string(),
                input_tokens: i,
                output_tokens: o,
            })
            .collect();
        tokens.sort_by(|a, b| a.model.cmp(&b.model));
        MetricsSnapshot {
            spans,
            tokens,
            folded_names: st.folded_names,
            folded_models: st.folded_models,
        }
    }

    /// Forgets everything counted so far.
    pub fn reset(&self) {
        *self.lock() = State::default();
    }
}

/// The name a span is counted under: its name, `unnamed` when it has none.
fn span_name(span: &SpanRecord) -> &str {
    match span.data.name() {
        Some(n) if !n.is_empty() => n,
        _ => "unnamed",
    }
}

/// The model a span's tokens are counted under: a generation's model, `unknown` otherwise.
fn span_model(span: &SpanRecord) -> &str {
    match (span.data.kind(), span.data.name()) {
        (SpanKind::Generation, Some(m)) if !m.is_empty() => m,
        _ => "unknown",
    }
}

impl TracingProcessor for MetricsProcessor {
    fn on_span_end(&self, span: &SpanRecord) {
        self.record(span);
    }

    fn wants_span_start(&self) -> bool {
        false
    }
}

/// All metrics at one moment; serializes to JSON (durations in seconds).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Per span kind and name.
    pub spans: Vec<SpanMetrics>,
    /// Tokens per model.
    pub tokens: Vec<ModelTokens>,
    /// Spans counted under [`OTHER`] because their kind had reached the names limit.
    pub folded_names: u64,
    /// Token records counted under [`OTHER`] because the models limit was reached.
    pub folded_models: u64,
}

impl MetricsSnapshot {
    /// The series of one kind and name, if any span of it ended.
    pub fn get(&self, kind: SpanKind, name: &str) -> Option<&SpanMetrics> {
        self.spans
            .iter()
            .find(|s| s.kind == kind.as_str() && s.name == name)
    }
}

/// The metrics of one (kind, name) series.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[non_exhaustive]
pub struct SpanMetrics {
    /// The span kind (`agent`, `function`, `generation`, …).
    pub kind: &'static str,
    /// The span's name (the model, for a generation), or [`OTHER`].
    pub name: String,
    /// Spans ended.
    pub count: u64,
    /// Spans that ended with an error.
    pub errors: u64,
    /// Their summed duration.
    #[serde(serialize_with = "secs")]
    pub total: Duration,
    /// The shortest.
    #[serde(serialize_with = "secs")]
    pub min: Duration,
    /// The longest.
    #[serde(serialize_with = "secs")]
    pub max: Duration,
    /// Median duration (within 12.5%).
    #[serde(serialize_with = "secs")]
    pub p50: Duration,
    /// 95th percentile (within 12.5%).
    #[serde(serialize_with = "secs")]
    pub p95: Duration,
    /// 99th percentile (within 12.5%).
    #[serde(serialize_with = "secs")]
    pub p99: Duration,
    /// Input tokens recorded on these spans.
    pub input_tokens: u64,
    /// Output tokens recorded on these spans.
    pub output_tokens: u64,
}

/// Tokens of one model.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelTokens {
    /// The model (`unknown` for usage on non-generation spans), or [`OTHER`].
    pub model: String,
    /// Input (prompt) tokens.
    pub input_tokens: u64,
    /// Output (completion) tokens.
    pub output_tokens: u64,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_trace::{SpanData, SpanError, Timestamp, TraceId};

    fn span(data: SpanData, ms: u64, error: bool) -> SpanRecord {
        let mut r = SpanRecord::new(TraceId::random(), None, data);
        r.ended_at = Some(Timestamp::from_unix_nanos(
            r.started_at.unix_nanos() + ms * 1_000_000,
        ));
        if error {
            r.error = Some(Box::new(SpanError::new("boom")));
        }
        r
    }

    #[test]
    fn names_past_the_limit_fold_into_other() {
        let m = MetricsProcessor::with_limits(2, 1);
        for name in ["a", "b", "c", "d", "a"] {
            m.record(&span(SpanData::custom(name), 1, false));
        }
        let snap = m.snapshot();
        let names: Vec<_> = snap
            .spans
            .iter()
            .map(|s| (s.name.as_str(), s.count))
            .collect();
        assert_eq!(names, [("a", 2), ("b", 1), ("other", 2)]);
        assert_eq!(snap.folded_names, 2);
    }

    #[test]
    fn errors_and_latency_are_per_series() {
        let m = MetricsProcessor::new();
        m.record(&span(SpanData::custom("x"), 10, true));
        m.record(&span(SpanData::custom("x"), 30, false));
        let snap = m.snapshot();
        let x = snap.get(SpanKind::Custom, "x").unwrap();
        assert_eq!((x.count, x.errors), (2, 1));
        assert_eq!(x.total, Duration::from_millis(40));
        assert_eq!(
            (x.min, x.max),
            (Duration::from_millis(10), Duration::from_millis(30))
        );
    }
}

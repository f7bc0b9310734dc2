//! Statistics over many traces, accumulated one trace at a time (the spans of a trace can be
//! dropped once it is added): latency percentiles, error rates and messages, self time, token
//! usage and cost per model and agent, and the critical paths of the slowest traces.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::analysis::{critical_path, ms, percentile, self_times};
use crate::assemble::Trace;
use crate::parse::Tokens;
use crate::prices::Prices;

/// Most common error messages kept per (kind, name).
const TOP_ERRORS: usize = 3;

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    fn of(mut v: Vec<i64>) -> Latency {
        v.sort_unstable();
        Latency {
            p50_ms: ms(percentile(&v, 50.0)),
            p95_ms: ms(percentile(&v, 95.0)),
            p99_ms: ms(percentile(&v, 99.0)),
            max_ms: ms(v.last().copied().unwrap_or(0)),
        }
    }
}

/// Statistics of one (kind, name).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanStats {
    /// `span_data.type`.
    pub kind: String,
    /// The span's label (agent, function, model…).
    pub name: String,
    /// Number of spans.
    pub count: u64,
    /// Failed spans.
    pub errors: u64,
    /// `errors / count`.
    pub error_rate: f64,
    /// The most common error messages with their counts.
    pub top_errors: Vec<(String, u64)>,
    /// Duration percentiles.
    pub latency: Latency,
    /// Total self time (time not spent in a child), ms.
    pub self_time_ms: f64,
    /// Tokens recorded on these spans.
    pub tokens: Tokens,
}

/// Token usage of one model or agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageStats {
    /// The model or agent (`(none)` when unknown).
    pub name: String,
    /// Spans that recorded usage.
    pub calls: u64,
    /// Failed calls (models only).
    pub errors: u64,
    /// Tokens.
    pub tokens: Tokens,
    /// Cost in dollars, when a price table was given and knows the model(s).
    pub cost: Option<f64>,
    /// Latency of the calls (models only).
    pub latency: Latency,
}

/// A step of a critical path, for output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathStep {
    /// Span id.
    pub span_id: String,
    /// Kind.
    pub kind: String,
    /// Label.
    pub name: String,
    /// Depth in the tree.
    pub depth: u16,
    /// The span's own time on the path, ms.
    pub on_path_ms: f64,
}

/// The critical path of one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracePath {
    /// Trace id.
    pub trace_id: String,
    /// Workflow.
    pub workflow_name: String,
    /// Duration, ms.
    pub duration_ms: f64,
    /// The steps, depth first.
    pub steps: Vec<PathStep>,
}

/// Everything `stats` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Traces read.
    pub traces: u64,
    /// Spans read.
    pub spans: u64,
    /// Failed spans.
    pub errors: u64,
    /// Lines skipped as invalid (see stderr).
    pub skipped: u64,
    /// Duration percentiles of whole traces.
    pub trace_latency: Latency,
    /// Per (kind, name), most self time first.
    pub by_span: Vec<SpanStats>,
    /// Per model, most tokens first.
    pub by_model: Vec<UsageStats>,
    /// Per agent, most tokens first.
    pub by_agent: Vec<UsageStats>,
    /// All tokens.
    pub tokens: Tokens,
    /// Total cost, when a price table was given.
    pub cost: Option<f64>,
    /// Models with usage that the price table does not know.
    pub unpriced_models: Vec<String>,
    /// Critical paths of the slowest traces, slowest first.
    pub critical_paths: Vec<TracePath>,
}

#[derive(Debug, Default)]
struct KeyAcc {
    durations: Vec<i64>,
    errors: u64,
    messages: HashMap<String, u64>,
    self_ns: i64,
    tokens: Tokens,
}

#[derive(Debug, Default)]
struct UseAcc {
    calls: u64,
    errors: u64,
    tokens: Tokens,
    cost: Option<f64>,
    durations: Vec<i64>,
}

/// Accumulates statistics trace by trace.
#[derive(Debug)]
pub struct Accumulator {
    keys: HashMap<(&'static str, String), KeyAcc>,
    models: HashMap<String, UseAcc>,
    agents: HashMap<String, UseAcc>,
    trace_durations: Vec<i64>,
    slowest: Vec<TracePath>,
    keep_paths: usize,
    spans: u64,
    errors: u64,
    prices: Option<Prices>,
}

impl Accumulator {
    /// An accumulator keeping the critical paths of the `keep_paths` slowest traces.
    pub fn new(keep_paths: usize, prices: Option<Prices>) -> Self {
        Accumulator {
            keys: HashMap::new(),
            models: HashMap::new(),
            agents: HashMap::new(),
            trace_durations: Vec::new(),
            slowest: Vec::new(),
            keep_paths,
            spans: 0,
            errors: 0,
            prices,
        }
    }

    /// Adds one trace.
    pub fn add(&mut self, trace: &Trace) {
        self.trace_durations.push(trace.duration());
        let selfs = self_times(trace);
        let agents = trace.agents();
        for (i, s) in trace.spans.iter().enumerate() {
            self.spans += 1;
            let key = self.keys.entry((s.kind, s.name.clone())).or_default();
            key.durations.push(s.duration());
            key.self_ns = key.self_ns.saturating_add(selfs[i]);
            if let Some(e) = &s.error {
                self.errors += 1;
                key.errors += 1;
                *key.messages.entry(e.clone()).or_default() += 1;
            }
            let Some(tokens) = s.tokens else { continue };
            key.tokens.add(tokens);
            let model = s.model.clone().unwrap_or_else(|| "(none)".into());
            let cost = self.prices.as_ref().and_then(|p| p.cost(&model, tokens));
            let m = self.models.entry(model).or_default();
            m.calls += 1;
            m.errors += u64::from(s.error.is_some());
            m.tokens.add(tokens);
            m.durations.push(s.duration());
            m.cost = add_cost(m.cost, cost);
            let a = self
                .agents
                .entry(agents[i].unwrap_or("(none)").to_owned())
                .or_default();
            a.calls += 1;
            a.tokens.add(tokens);
            a.cost = add_cost(a.cost, cost);
        }
        if self.keep_paths > 0 {
            let slowest_kept = self.slowest.last().map_or(f64::MIN, |p| p.duration_ms);
            if self.slowest.len() < self.keep_paths || ms(trace.duration()) > slowest_kept {
                self.slowest.push(path_of(trace));
                self.slowest
                    .sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
                self.slowest.truncate(self.keep_paths);
            }
        }
    }

    /// The statistics; `skipped` is the number of invalid lines.
    pub fn finish(self, skipped: u64) -> Summary {
        let mut by_span: Vec<SpanStats> = self
            .keys
            .into_iter()
            .map(|((kind, name), k)| {
                let count = k.durations.len() as u64;
                let mut top: Vec<(String, u64)> = k.messages.into_iter().collect();
                top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                top.truncate(TOP_ERRORS);
                SpanStats {
                    kind: kind.into(),
                    name,
                    count,
                    errors: k.errors,
                    error_rate: k.errors as f64 / count.max(1) as f64,
                    top_errors: top,
                    latency: Latency::of(k.durations),
                    self_time_ms: ms(k.self_ns),
                    tokens: k.tokens,
                }
            })
            .collect();
        by_span.sort_by(|a, b| {
            b.self_time_ms
                .total_cmp(&a.self_time_ms)
                .then_with(|| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)))
        });
        let usage = |map: HashMap<String, UseAcc>| {
            let mut v: Vec<UsageStats> = map
                .into_iter()
                .map(|(name, u)| UsageStats {
                    name,
                    calls: u.calls,
                    errors: u.errors,
                    tokens: u.tokens,
                    cost: u.cost,
                    latency: Latency::of(u.durations),
                })
                .collect();
            v.sort_by(|a, b| {
                b.tokens
                    .total()
                    .cmp(&a.tokens.total())
                    .then_with(|| a.name.cmp(&b.name))
            });
            v
        };
        let by_model = usage(self.models);
        let by_agent = usage(self.agents);
        let mut tokens = Tokens::default();
        by_model.iter().for_each(|m| tokens.add(m.tokens));
        let unpriced_models: Vec<String> = match &self.prices {
            Some(p) => by_model
                .iter()
                .filter(|m| p.lookup(&m.name).is_none())
                .map(|m| m.name.clone())
                .collect(),
            None => Vec::new(),
        };
        let cost = self
            .prices
            .as_ref()
            .map(|_| by_model.iter().filter_map(|m| m.cost).sum());
        Summary {
            traces: self.trace_durations.len() as u64,
            spans: self.spans,
            errors: self.errors,
            skipped,
            trace_latency: Latency::of(self.trace_durations),
            by_span,
            by_model,
            by_agent,
            tokens,
            cost,
            unpriced_models,
            critical_paths: self.slowest,
        }
    }
}

fn add_cost(total: Option<f64>, cost: Option<f64>) -> Option<f64> {
    match (total, cost) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    }
}

/// The critical path of `trace`, for output.
pub fn path_of(trace: &Trace) -> TracePath {
    TracePath {
        trace_id: trace.id.clone(),
        workflow_name: trace.workflow_name.clone(),
        duration_ms: ms(trace.duration()),
        steps: critical_path(trace)
            .into_iter()
            .map(|st| {
                let s = &trace.spans[st.span];
                PathStep {
                    span_id: s.id.clone(),
                    kind: s.kind.into(),
                    name: s.name.clone(),
                    depth: trace.depth[st.span],
                    on_path_ms: ms(st.on_path),
                }
            })
            .collect(),
    }
}

/// Sorted (kind, name) → stats, for lookups by `diff`.
pub fn index(summary: &Summary) -> BTreeMap<(String, String), &SpanStats> {
    summary
        .by_span
        .iter()
        .map(|s| ((s.kind.clone(), s.name.clone()), s))
        .collect()
}

//! The profiler's report: the seed's metrics per agent and overall, as a table or JSON.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use agent_trace::{SpanId, SpanKind, SpanRecord};
use serde::Serialize;

use super::Run;

/// The seed's profiler metrics for one scope (overall, or one agent).
///
/// A request is, overall, one trace started in the profiled run (or, for a run inside a trace
/// begun outside it, one top-level span it started); per agent, one span of that agent. Its
/// time is the trace's or span's duration; its tokens are the usage recorded on generation and
/// response spans inside it (for an agent: in its whole subtree, nested agents included).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProfileMetrics {
    /// Requests processed.
    pub total_requests: u64,
    /// Requests that ended with an error.
    pub errors: u64,
    /// Tokens used, input and output.
    pub total_tokens: u64,
    /// Summed time of the requests.
    #[serde(serialize_with = "secs")]
    pub total_time: Duration,
    /// Mean time per request.
    #[serde(serialize_with = "secs")]
    pub avg_request_time: Duration,
    /// Fastest request.
    #[serde(serialize_with = "secs")]
    pub min_request_time: Duration,
    /// Slowest request.
    #[serde(serialize_with = "secs")]
    pub max_request_time: Duration,
    /// Mean tokens per request.
    pub avg_tokens: f64,
    /// Fewest tokens in a request.
    pub min_tokens: u64,
    /// Most tokens in a request.
    pub max_tokens: u64,
}

/// One agent's metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AgentProfile {
    /// The agent's name.
    pub name: String,
    /// Its metrics; a request is one span of this agent.
    #[serde(flatten)]
    pub metrics: ProfileMetrics,
}

/// What [`AgentProfiler::profile`](super::AgentProfiler::profile) returns with the output:
/// `Display` prints a table, `serde` gives JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProfileReport {
    /// All requests of the run.
    pub overall: ProfileMetrics,
    /// Per agent, by name.
    pub agents: Vec<AgentProfile>,
    /// From the first request's start to the last one's end.
    #[serde(serialize_with = "secs")]
    pub wall_time: Duration,
    /// Spans the run produced.
    pub spans: usize,
}

impl ProfileReport {
    /// The metrics of the agent named `name`.
    pub fn agent(&self, name: &str) -> Option<&ProfileMetrics> {
        self.agents
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.metrics)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// One request: its time, tokens and whether it failed.
#[derive(Default)]
struct Sample {
    time: Duration,
    tokens: u64,
    error: bool,
}

fn aggregate(samples: &[Sample]) -> ProfileMetrics {
    let n = samples.len() as u64;
    if n == 0 {
        return ProfileMetrics::default();
    }
    let total_time: Duration = samples.iter().map(|s| s.time).sum();
    let total_tokens: u64 = samples.iter().map(|s| s.tokens).sum();
    ProfileMetrics {
        total_requests: n,
        errors: samples.iter().filter(|s| s.error).count() as u64,
        total_tokens,
        total_time,
        avg_request_time: total_time / n as u32,
        min_request_time: samples.iter().map(|s| s.time).min().unwrap_or_default(),
        max_request_time: samples.iter().map(|s| s.time).max().unwrap_or_default(),
        avg_tokens: total_tokens as f64 / n as f64,
        min_tokens: samples.iter().map(|s| s.tokens).min().unwrap_or_default(),
        max_tokens: samples.iter().map(|s| s.tokens).max().unwrap_or_default(),
    }
}

pub(super) fn compute(run: &Run) -> ProfileReport {
    let by_id: HashMap<SpanId, &SpanRecord> = run.spans.iter().map(|s| (s.id, s)).collect();
    // Tokens in each span's subtree, and per trace.
    let mut subtree_tokens: HashMap<SpanId, u64> = HashMap::new();
    let mut trace_tokens: HashMap<_, u64> = HashMap::new();
    for s in &run.spans {
        let Some(tokens) = s.data.usage().map(|u| u.total()) else {
            continue;
        };
        *trace_tokens.entry(s.trace_id).or_default() += tokens;
        let mut at = Some(s);
        let mut hops = 0;
        while let Some(span) = at {
            *subtree_tokens.entry(span.id).or_default() += tokens;
            at = span.parent_id.and_then(|p| by_id.get(&p).copied());
            hops += 1;
            if hops > by_id.len() {
                break; // a parent cycle cannot happen, but never loop on bad input
            }
        }
    }
    let span_sample = |s: &SpanRecord| Sample {
        time: s.duration(),
        tokens: subtree_tokens.get(&s.id).copied().unwrap_or(0),
        error: s.error.is_some(),
    };

    let mut requests: Vec<Sample> = Vec::new();
    let mut first_last: Option<(u64, u64)> = None;
    let mut widen = |start: u64, end: u64| {
        first_last = Some(match first_last {
            None => (start, end),
            Some((a, b)) => (a.min(start), b.max(end)),
        });
    };
    for t in run.traces.values() {
        let (Some(start), Some(end)) = (t.started_at, t.ended_at) else {
            continue; // still running when the profiled future completed
        };
        widen(start.unix_nanos(), end.unix_nanos());
        requests.push(Sample {
            time: end.saturating_duration_since(start),
            tokens: trace_tokens.get(&t.id).copied().unwrap_or(0),
            error: run
                .spans
                .iter()
                .any(|s| s.trace_id == t.id && s.parent_id.is_none() && s.error.is_some()),
        });
    }
    for s in run.spans.iter().filter(|s| run.roots.contains(&s.id)) {
        if let Some(end) = s.ended_at {
            widen(s.started_at.unix_nanos(), end.unix_nanos());
        }
        requests.push(span_sample(s));
    }

    let mut per_agent: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
    for s in run
        .spans
        .iter()
        .filter(|s| s.data.kind() == SpanKind::Agent)
    {
        let name = s.data.name().unwrap_or("unnamed");
        per_agent.entry(name).or_default().push(span_sample(s));
    }
    ProfileReport {
        overall: aggregate(&requests),
        agents: per_agent
            .into_iter()
            .map(|(name, samples)| AgentProfile {
                name: name.to_owned(),
                metrics: aggregate(&samples),
            })
            .collect(),
        wall_time: first_last
            .map(|(a, b)| Duration::from_nanos(b.saturating_sub(a)))
            .unwrap_or_default(),
        spans: run.spans.len(),
    }
}

/// A duration for people: `850.0ms`, `1.234s`, `12µs`.
fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3}s")
    } else if s >= 1e-3 {
        format!("{:.1}ms", s * 1e3)
    } else {
        format!("{}µs", d.as_micros())
    }
}

impl fmt::Display for ProfileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<(String, &ProfileMetrics)> =
            std::iter::once(("overall".to_owned(), &self.overall))
                .chain(
                    self.agents
                        .iter()
                        .map(|a| (format!("agent.{}", a.name), &a.metrics)),
                )
                .collect();
        let width = rows
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(7)
            .max(5);
        writeln!(
            f,
            "{:<width$}  {:>8}  {:>6}  {:>8}  {:>10}  {:>10}  {:>10}  {:>10}  {:>8}  {:>7}  {:>7}",
            "scope",
            "requests",
            "errors",
            "tokens",
            "total",
            "avg",
            "min",
            "max",
            "avg tok",
            "min tok",
            "max tok"
        )?;
        for (name, m) in rows {
            writeln!(
                f,
                "{:<width$}  {:>8}  {:>6}  {:>8}  {:>10}  {:>10}  {:>10}  {:>10}  {:>8.1}  {:>7}  {:>7}",
                name,
                m.total_requests,
                m.errors,
                m.total_tokens,
                human(m.total_time),
                human(m.avg_request_time),
                human(m.min_request_time),
                human(m.max_request_time),
                m.avg_tokens,
                m.min_tokens,
                m.max_tokens
            )?;
        }
        write!(
            f,
            "wall time {} over {} spans",
            human(self.wall_time),
            self.spans
        )
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

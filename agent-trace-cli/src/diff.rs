//! `diff`: a baseline and a candidate set of runs side by side, per (kind, name) and per
//! model, the most significant changes first, with thresholds a CI job can gate on.
//!
//! Tokens and cost are compared **per trace** (the two sets may hold different numbers of
//! runs); latency by percentiles; error rates in percentage points.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::style::{fit, Painter};
use crate::summary::{index, Summary};

/// Limits past which `diff` exits with status 1. Percentages are relative increases
/// (`20` = 20 % slower); error rates are in percentage points.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct Thresholds {
    /// Fail if the p50 latency of whole traces or of any (kind, name) grows by more than PCT
    /// percent.
    #[arg(long, value_name = "PCT")]
    pub max_p50_increase: Option<f64>,
    /// Fail if the p95 latency of whole traces or of any (kind, name) grows by more than PCT
    /// percent.
    #[arg(long, value_name = "PCT")]
    pub max_p95_increase: Option<f64>,
    /// Fail if the p99 latency of whole traces or of any (kind, name) grows by more than PCT
    /// percent.
    #[arg(long, value_name = "PCT")]
    pub max_p99_increase: Option<f64>,
    /// Fail if any (kind, name)'s error rate, or the overall one, grows by more than POINTS
    /// percentage points.
    #[arg(long, value_name = "POINTS")]
    pub max_error_rate_increase: Option<f64>,
    /// Fail if tokens per trace (overall or of any model) grow by more than PCT percent.
    #[arg(long, value_name = "PCT")]
    pub max_tokens_increase: Option<f64>,
    /// Fail if the cost per trace (overall or of any model) grows by more than PCT percent
    /// (needs --prices).
    #[arg(long, value_name = "PCT")]
    pub max_cost_increase: Option<f64>,
    /// Latency and error-rate thresholds apply only to (kind, name)s with at least N spans on
    /// both sides (fewer are too noisy to gate on).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_count: u64,
    /// Latency changes smaller than MS milliseconds never fail a threshold and do not count
    /// as significant (timer noise on microsecond spans).
    #[arg(long, default_value_t = 1.0, value_name = "MS")]
    pub latency_floor_ms: f64,
}

impl Default for Thresholds {
    /// No limits; the same minimum count and latency floor as the command line.
    fn default() -> Self {
        Thresholds {
            max_p50_increase: None,
            max_p95_increase: None,
            max_p99_increase: None,
            max_error_rate_increase: None,
            max_tokens_increase: None,
            max_cost_increase: None,
            min_count: 1,
            latency_floor_ms: 1.0,
        }
    }
}

/// A metric on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    /// Baseline value.
    pub baseline: f64,
    /// Candidate value.
    pub candidate: f64,
}

impl Change {
    fn new(baseline: f64, candidate: f64) -> Change {
        Change {
            baseline,
            candidate,
        }
    }

    /// Relative change in percent (`None` when the baseline is zero and the candidate not;
    /// 0 when both are zero).
    pub fn percent(&self) -> Option<f64> {
        if self.baseline == 0.0 {
            (self.candidate == 0.0).then_some(0.0)
        } else {
            Some(100.0 * (self.candidate - self.baseline) / self.baseline)
        }
    }

    /// Absolute change.
    pub fn delta(&self) -> f64 {
        self.candidate - self.baseline
    }

    fn exceeds(&self, limit: Option<f64>, floor: f64) -> bool {
        limit.is_some_and(|l| self.delta() > floor.max(0.0) && self.percent().is_none_or(|p| p > l))
    }
}

/// One row: a (kind, name), a model, or the whole set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `span:KIND`, `model` or `total`.
    pub scope: String,
    /// The span name or model.
    pub name: String,
    /// Spans (or calls, or traces) on each side.
    pub count: Change,
    /// Latency percentiles, ms.
    pub p50_ms: Change,
    /// 95th percentile, ms.
    pub p95_ms: Change,
    /// 99th percentile, ms.
    pub p99_ms: Change,
    /// Error rate, percent.
    pub error_rate_pct: Change,
    /// Tokens per trace.
    pub tokens_per_trace: Change,
    /// Cost per trace, dollars (when priced).
    pub cost_per_trace: Option<Change>,
    /// How much it changed: the largest relative change of its metrics (error rates count
    /// one point as 10 %); present on one side only counts as most significant.
    pub significance: f64,
}

/// The comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// Rows, threshold violations and then the most significant first.
    pub rows: Vec<Row>,
    /// Threshold violations, for people.
    pub violations: Vec<String>,
}

fn sig(c: &Change, floor: f64) -> f64 {
    if c.delta().abs() <= floor {
        return 0.0;
    }
    match c.percent() {
        Some(p) => p.abs(),
        None => 1e9,
    }
}

/// Compares `a` (baseline) with `b` (candidate).
pub fn compare(a: &Summary, b: &Summary, t: &Thresholds) -> DiffReport {
    let per_trace = |v: f64, s: &Summary| v / s.traces.max(1) as f64;
    let mut rows = Vec::new();
    let mut violations = Vec::new();

    let total = Row {
        scope: "total".into(),
        name: "(all traces)".into(),
        count: Change::new(a.traces as f64, b.traces as f64),
        p50_ms: Change::new(a.trace_latency.p50_ms, b.trace_latency.p50_ms),
        p95_ms: Change::new(a.trace_latency.p95_ms, b.trace_latency.p95_ms),
        p99_ms: Change::new(a.trace_latency.p99_ms, b.trace_latency.p99_ms),
        error_rate_pct: Change::new(
            100.0 * a.errors as f64 / a.spans.max(1) as f64,
            100.0 * b.errors as f64 / b.spans.max(1) as f64,
        ),
        tokens_per_trace: Change::new(
            per_trace(a.tokens.total() as f64, a),
            per_trace(b.tokens.total() as f64, b),
        ),
        cost_per_trace: a
            .cost
            .zip(b.cost)
            .map(|(x, y)| Change::new(per_trace(x, a), per_trace(y, b))),
        significance: 0.0,
    };
    rows.push(total);

    let (ia, ib) = (index(a), index(b));
    let keys: std::collections::BTreeSet<_> = ia.keys().chain(ib.keys()).cloned().collect();
    for key in keys {
        let (sa, sb) = (ia.get(&key), ib.get(&key));
        let get = |f: &dyn Fn(&crate::summary::SpanStats) -> f64| {
            Change::new(sa.map_or(0.0, |s| f(s)), sb.map_or(0.0, |s| f(s)))
        };
        rows.push(Row {
            scope: format!("span:{}", key.0),
            name: key.1.clone(),
            count: get(&|s| s.count as f64),
            p50_ms: get(&|s| s.latency.p50_ms),
            p95_ms: get(&|s| s.latency.p95_ms),
            p99_ms: get(&|s| s.latency.p99_ms),
            error_rate_pct: get(&|s| 100.0 * s.error_rate),
            tokens_per_trace: Change::new(
                sa.map_or(0.0, |s| per_trace(s.tokens.total() as f64, a)),
                sb.map_or(0.0, |s| per_trace(s.tokens.total() as f64, b)),
            ),
            cost_per_trace: None,
            significance: 0.0,
        });
    }

    let ma: BTreeMap<_, _> = a.by_model.iter().map(|m| (m.name.clone(), m)).collect();
    let mb: BTreeMap<_, _> = b.by_model.iter().map(|m| (m.name.clone(), m)).collect();
    let models: std::collections::BTreeSet<_> = ma.keys().chain(mb.keys()).cloned().collect();
    for name in models {
        let (x, y) = (ma.get(&name), mb.get(&name));
        let get = |f: &dyn Fn(&crate::summary::UsageStats) -> f64| {
            Change::new(x.map_or(0.0, |s| f(s)), y.map_or(0.0, |s| f(s)))
        };
        let cost = match (a.cost.is_some(), b.cost.is_some()) {
            (true, true) => Some(Change::new(
                per_trace(x.and_then(|m| m.cost).unwrap_or(0.0), a),
                per_trace(y.and_then(|m| m.cost).unwrap_or(0.0), b),
            )),
            _ => None,
        };
        rows.push(Row {
            scope: "model".into(),
            name,
            count: get(&|s| s.calls as f64),
            p50_ms: get(&|s| s.latency.p50_ms),
            p95_ms: get(&|s| s.latency.p95_ms),
            p99_ms: get(&|s| s.latency.p99_ms),
            error_rate_pct: get(&|s| 100.0 * s.errors as f64 / s.calls.max(1) as f64),
            tokens_per_trace: Change::new(
                x.map_or(0.0, |m| per_trace(m.tokens.total() as f64, a)),
                y.map_or(0.0, |m| per_trace(m.tokens.total() as f64, b)),
            ),
            cost_per_trace: cost,
            significance: 0.0,
        });
    }

    let mut violated = vec![false; rows.len()];
    for (i, r) in rows.iter_mut().enumerate() {
        let one_sided = r.count.baseline == 0.0 || r.count.candidate == 0.0;
        r.significance = if one_sided && r.scope != "total" {
            1e9
        } else {
            [
                sig(&r.p50_ms, t.latency_floor_ms),
                sig(&r.p95_ms, t.latency_floor_ms),
                sig(&r.p99_ms, t.latency_floor_ms),
                r.error_rate_pct.delta().abs() * 10.0,
                sig(&r.tokens_per_trace, 0.0),
                r.cost_per_trace.as_ref().map_or(0.0, |c| sig(c, 0.0)),
            ]
            .into_iter()
            .fold(0.0, f64::max)
        };
        let what = format!("{} {}", r.scope, r.name);
        let mut fail = |metric: &str, c: &Change, unit: &str| {
            let how = match c.percent() {
                Some(p) => format!("{p:+.1}%"),
                None => "new".into(),
            };
            violations.push(format!(
                "{what}: {metric} {how} ({:.3}{unit} → {:.3}{unit})",
                c.baseline, c.candidate
            ));
            violated[i] = true;
        };
        let enough = r.count.baseline >= t.min_count as f64
            && r.count.candidate >= t.min_count as f64
            && r.scope != "model";
        if enough {
            for (metric, c, limit) in [
                ("p50", &r.p50_ms, t.max_p50_increase),
                ("p95", &r.p95_ms, t.max_p95_increase),
                ("p99", &r.p99_ms, t.max_p99_increase),
            ] {
                if c.exceeds(limit, t.latency_floor_ms) {
                    fail(metric, c, "ms");
                }
            }
            if let Some(l) = t.max_error_rate_increase {
                if r.error_rate_pct.delta() > l {
                    fail("error rate", &r.error_rate_pct, "%");
                }
            }
        }
        if r.scope == "total" || r.scope == "model" {
            if r.tokens_per_trace.exceeds(t.max_tokens_increase, 0.0) {
                fail("tokens per trace", &r.tokens_per_trace, "");
            }
            if let Some(c) = &r.cost_per_trace {
                if c.exceeds(t.max_cost_increase, 0.0) {
                    fail("cost per trace", c, "$");
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    // The total first, then violations, then by significance.
    order.sort_by(|&x, &y| {
        (rows[y].scope == "total")
            .cmp(&(rows[x].scope == "total"))
            .then(violated[y].cmp(&violated[x]))
            .then(rows[y].significance.total_cmp(&rows[x].significance))
    });
    let mut slots: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
    let rows = order.into_iter().filter_map(|i| slots[i].take()).collect();
    DiffReport { rows, violations }
}

fn pct(c: &Change) -> String {
    match c.percent() {
        Some(p) if p.abs() < 0.05 => "=".into(),
        Some(p) => format!("{p:+.0}%"),
        None => "new".into(),
    }
}

fn lat(c: &Change) -> String {
    let h = |v: f64| crate::analysis::human((v * 1e6) as i64);
    format!("{}→{} {}", h(c.baseline), h(c.candidate), pct(c))
}

/// The text form, `top` rows.
pub fn render(d: &DiffReport, top: usize, paint: &Painter) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}",
        paint.dim(&format!(
            "{:<16} {:<26} {:>11} {:>24} {:>24} {:>14} {:>18}",
            "SCOPE", "NAME", "COUNT", "P50", "P95", "ERR% (pts)", "TOKENS/TRACE"
        ))
    );
    for r in d.rows.iter().take(top) {
        let count = format!("{}→{}", r.count.baseline, r.count.candidate);
        let err = format!(
            "{:.1}→{:.1}",
            r.error_rate_pct.baseline, r.error_rate_pct.candidate
        );
        let tok = format!(
            "{:.0}→{:.0} {}",
            r.tokens_per_trace.baseline,
            r.tokens_per_trace.candidate,
            pct(&r.tokens_per_trace)
        );
        let _ = write!(
            o,
            "{} {} {:>11} {:>24} {:>24} {:>14} {:>18}",
            fit(&r.scope, 16),
            fit(&r.name, 26),
            count,
            lat(&r.p50_ms),
            lat(&r.p95_ms),
            err,
            tok
        );
        if let Some(c) = &r.cost_per_trace {
            let _ = write!(o, "  ${:.4}→${:.4} {}", c.baseline, c.candidate, pct(c));
        }
        o.push('\n');
    }
    if d.rows.len() > top {
        let _ = writeln!(o, "… {} more rows (--top N)", d.rows.len() - top);
    }
    if d.violations.is_empty() {
        let _ = writeln!(o, "\nno threshold exceeded");
    } else {
        let _ = writeln!(o, "\n{}", paint.error("thresholds exceeded:"));
        for v in &d.violations {
            let _ = writeln!(o, "  {v}");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_in_percent_and_thresholds() {
        let c = Change::new(10.0, 15.0);
        assert_eq!(c.percent(), Some(50.0));
        assert!(c.exceeds(Some(49.0), 0.0));
        assert!(!c.exceeds(Some(50.0), 0.0));
        assert!(!c.exceeds(None, 0.0));
        // Below the absolute floor: noise.
        assert!(!c.exceeds(Some(1.0), 5.0));
        // From nothing: always past a limit; nothing to nothing: no change.
        assert_eq!(Change::new(0.0, 3.0).percent(), None);
        assert!(Change::new(0.0, 3.0).exceeds(Some(1000.0), 0.0));
        assert_eq!(Change::new(0.0, 0.0).percent(), Some(0.0));
        // Decreases never fail.
        assert!(!Change::new(10.0, 1.0).exceeds(Some(0.0), 0.0));
    }
}

//! The arithmetic of a trace: self time, the critical path, percentiles.

use crate::assemble::Trace;

/// One step of a critical path: a span and how much of the trace's duration it accounts for
/// by itself (its time on the path not covered by a child on the path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Index of the span in [`Trace::spans`].
    pub span: usize,
    /// Nanoseconds of the trace's duration spent in this span itself.
    pub on_path: i64,
}

/// Self time of every span: its duration minus the time covered by at least one of its
/// children (children that run in parallel are counted once), clipped to the span.
pub fn self_times(trace: &Trace) -> Vec<i64> {
    let (kids, _) = trace.children();
    trace
        .spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let covered = union_len(
                kids[i]
                    .iter()
                    .map(|&k| (trace.spans[k].start, trace.spans[k].end)),
                s.start,
                s.end,
            );
            s.duration() - covered
        })
        .collect()
}

/// Length of the union of `intervals`, each clipped to `[lo, hi]`.
pub fn union_len(intervals: impl Iterator<Item = (i64, i64)>, lo: i64, hi: i64) -> i64 {
    let mut v: Vec<(i64, i64)> = intervals
        .map(|(a, b)| (a.max(lo), b.min(hi)))
        .filter(|(a, b)| a < b)
        .collect();
    v.sort_unstable();
    let (mut total, mut cur): (i64, Option<(i64, i64)>) = (0, None);
    for (a, b) in v {
        cur = match cur {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += cb - ca;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total + cur.map_or(0, |(a, b)| b - a)
}

/// The critical path of a trace: the chain of spans that determined its end, found by walking
/// back from the end and always descending into the child that finished last before the
/// current point (the approach of Jaeger's critical-path view). Steps are depth first (a span,
/// then its children on the path in time order); time in no top-level span is in no step, so
/// the steps' `on_path` sum to the time the top-level spans on the path cover.
pub fn critical_path(trace: &Trace) -> Vec<Step> {
    let (kids, roots) = trace.children();
    let mut out = Vec::new();
    // The top level acts as the children of a virtual root spanning the trace. Depth first,
    // iteratively: each span's step, then the steps of its chosen children in time order.
    let mut work: Vec<(usize, i64, i64)> = pick_chain(trace, &roots, trace.start, trace.end);
    work.reverse();
    while let Some((i, lo, hi)) = work.pop() {
        let chain = pick_chain(trace, &kids[i], lo, hi);
        let covered: i64 = chain.iter().map(|(_, a, b)| b - a).sum();
        out.push(Step {
            span: i,
            on_path: (hi - lo) - covered,
        });
        work.extend(chain.into_iter().rev());
    }
    out
}

/// Among `children`, the chain that covers `[lo, hi]` walking back from `hi`: each time the
/// child that ends last before the cursor. Returned in time order as (child, from, to).
fn pick_chain(trace: &Trace, children: &[usize], lo: i64, hi: i64) -> Vec<(usize, i64, i64)> {
    let mut by_end: Vec<usize> = children.to_vec();
    by_end.sort_by_key(|&c| std::cmp::Reverse((trace.spans[c].end, trace.spans[c].start)));
    let mut chain = Vec::new();
    let mut cursor = hi;
    for c in by_end {
        let s = &trace.spans[c];
        // Sorted by end, descending: a child starting at or after the cursor can never be
        // chosen later either (the cursor only moves back).
        if s.start >= cursor || s.end <= lo {
            continue;
        }
        let to = s.end.min(cursor);
        let from = s.start.max(lo);
        chain.push((c, from, to));
        cursor = from;
        if cursor <= lo {
            break;
        }
    }
    chain.reverse();
    chain
}

/// The `p`-th percentile (0–100) of sorted values, by nearest rank; 0 for no values.
pub fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Nanoseconds as milliseconds.
pub fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// A duration for people: `850µs`, `12.3ms`, `4.56s`, `2m03s`.
pub fn human(ns: i64) -> String {
    let ns = ns.max(0);
    if ns < 1_000_000 {
        format!("{}µs", ns / 1_000)
    } else if ns < 1_000_000_000 {
        format!("{:.1}ms", ns as f64 / 1e6)
    } else if ns < 60_000_000_000 {
        format!("{:.2}s", ns as f64 / 1e9)
    } else {
        let s = ns / 1_000_000_000;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;

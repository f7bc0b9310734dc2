//! The terminal Gantt chart of `view`: one row per span, indented by depth, with a bar on the
//! trace's time axis.

use std::fmt::Write;

use crate::analysis::human;
use crate::assemble::Trace;
use crate::style::{fit, Painter};

const KIND_W: usize = 12;
const DUR_W: usize = 9;
/// Error messages listed under a chart before only counting them.
const LISTED_ERRORS: usize = 10;

/// A UTC time for people: `2026-11-25 11:44:14.259`.
pub fn clock(ns: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns)) else {
        return ns.to_string();
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Renders one trace as a Gantt chart `width` columns wide.
pub fn render(trace: &Trace, width: usize, paint: &Painter) -> String {
    let mut out = String::new();
    let errors = trace.errors();
    let head = format!(
        "{}  {}{}  {}  {}  {} span{}{}",
        trace.id,
        if trace.workflow_name.is_empty() {
            "(no trace record)"
        } else {
            &trace.workflow_name
        },
        trace
            .group_id
            .as_deref()
            .map(|g| format!("  group {g}"))
            .unwrap_or_default(),
        clock(trace.start),
        human(trace.duration()),
        trace.spans.len(),
        if trace.spans.len() == 1 { "" } else { "s" },
        match errors {
            0 => String::new(),
            1 => "  1 error".into(),
            n => format!("  {n} errors"),
        }
    );
    let _ = writeln!(out, "{}", paint.bold(&head));
    // kind | name (indented) | duration | bar
    let rest = width.saturating_sub(KIND_W + DUR_W + 4);
    let name_w = (rest * 2 / 5).clamp(12, 48);
    let bar_w = rest.saturating_sub(name_w + 2).max(10);
    let axis = format!(
        "0{:>w$}",
        human(trace.duration()),
        w = bar_w.saturating_sub(1)
    );
    let _ = writeln!(
        out,
        "{}",
        paint.dim(&format!(
            "{} {} {:>DUR_W$}  {axis}",
            fit("KIND", KIND_W),
            fit("NAME", name_w),
            "DURATION"
        ))
    );
    let span = (trace.duration()).max(1) as f64;
    for (i, s) in trace.spans.iter().enumerate() {
        let indent = usize::from(trace.depth[i]).min(name_w / 3) * 2;
        let mark = if s.error.is_some() { " ✗" } else { "" };
        let label = format!("{}{}{mark}", " ".repeat(indent), s.name);
        let label = fit(&label, name_w);
        let label = if s.error.is_some() {
            paint.error(&label)
        } else {
            label
        };
        let a = ((s.start - trace.start) as f64 / span * bar_w as f64).floor() as usize;
        let b = ((s.end - trace.start) as f64 / span * bar_w as f64).ceil() as usize;
        let a = a.min(bar_w.saturating_sub(1));
        let b = b.clamp(a, bar_w);
        let bar: String = if b == a {
            "▏".into()
        } else {
            "█".repeat(b - a)
        };
        let bar = if s.error.is_some() {
            paint.error(&bar)
        } else {
            paint.kind(s.kind, &bar)
        };
        let pad = bar_w - a - (b - a).max(1);
        let _ = writeln!(
            out,
            "{} {label} {:>DUR_W$}  {}{bar}{}",
            paint.kind(s.kind, &fit(s.kind, KIND_W)),
            human(s.duration()),
            " ".repeat(a),
            " ".repeat(pad)
        );
    }
    let failed: Vec<_> = trace.spans.iter().filter(|s| s.error.is_some()).collect();
    for s in failed.iter().take(LISTED_ERRORS) {
        let _ = writeln!(
            out,
            "{} {} {} (line {}): {}",
            paint.error("✗"),
            s.kind,
            s.name,
            s.line,
            s.error.as_deref().unwrap_or_default()
        );
    }
    if failed.len() > LISTED_ERRORS {
        let _ = writeln!(out, "  … and {} more", failed.len() - LISTED_ERRORS);
    }
    out
}

/// Whether `query` names `id`: the whole id, or a prefix of it with or without `trace_`.
pub fn matches(id: &str, query: &str) -> bool {
    let bare = id.strip_prefix("trace_").unwrap_or(id);
    let q = query.strip_prefix("trace_").unwrap_or(query);
    !q.is_empty() && bare.starts_with(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_match_by_prefix_with_or_without_the_tag() {
        assert!(matches("trace_abc123", "abc"));
        assert!(matches("trace_abc123", "trace_abc1"));
        assert!(!matches("trace_abc123", "bc"));
        assert!(!matches("trace_abc123", ""));
    }

    #[test]
    fn clock_is_utc_with_milliseconds() {
        assert_eq!(clock(1_764_071_054_259_263_000), "2025-11-25 11:44:14.259");
    }
}

//! The text form of `stats`.

use std::fmt::Write;

use crate::style::{fit, Painter};
use crate::summary::{Summary, UsageStats};

fn ms(v: f64) -> String {
    crate::analysis::human((v * 1e6) as i64)
}

fn cost(c: Option<f64>) -> String {
    c.map_or_else(|| "-".into(), |c| format!("${c:.4}"))
}

/// Renders the statistics, `top` rows per table.
pub fn render(s: &Summary, top: usize, paint: &Painter) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}",
        paint.bold(&format!(
            "{} traces, {} spans, {} errors ({:.1}%), {} skipped lines",
            s.traces,
            s.spans,
            s.errors,
            100.0 * s.errors as f64 / s.spans.max(1) as f64,
            s.skipped
        ))
    );
    let l = &s.trace_latency;
    let _ = writeln!(
        o,
        "trace duration: p50 {}  p95 {}  p99 {}  max {}",
        ms(l.p50_ms),
        ms(l.p95_ms),
        ms(l.p99_ms),
        ms(l.max_ms)
    );
    let _ = write!(
        o,
        "tokens: {} in, {} out, {} total",
        s.tokens.input,
        s.tokens.output,
        s.tokens.total()
    );
    if let Some(c) = s.cost {
        let _ = write!(o, "; cost ${c:.4}");
    }
    o.push('\n');
    if !s.unpriced_models.is_empty() {
        let _ = writeln!(
            o,
            "{}",
            paint.dim(&format!(
                "(no price for: {}; add them to the price table)",
                s.unpriced_models.join(", ")
            ))
        );
    }

    for p in &s.critical_paths {
        let _ = writeln!(
            o,
            "\n{}",
            paint.bold(&format!(
                "Critical path of {} ({}, {})",
                p.trace_id,
                if p.workflow_name.is_empty() {
                    "?"
                } else {
                    &p.workflow_name
                },
                ms(p.duration_ms)
            ))
        );
        for st in &p.steps {
            let share = 100.0 * st.on_path_ms / p.duration_ms.max(f64::MIN_POSITIVE);
            let label = format!("{}{}", "  ".repeat(usize::from(st.depth).min(12)), st.name);
            let _ = writeln!(
                o,
                "  {} {} {:>9} {:>5.1}%",
                paint.kind(&st.kind, &fit(&st.kind, 12)),
                fit(&label, 36),
                ms(st.on_path_ms),
                share
            );
        }
    }

    let _ = writeln!(o, "\n{}", paint.bold("Spans by self time (kind, name)"));
    let _ = writeln!(
        o,
        "{}",
        paint.dim(&format!(
            "  {:<12} {:<28} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7}  TOP ERRORS",
            "KIND", "NAME", "COUNT", "SELF", "P50", "P95", "P99", "ERR%"
        ))
    );
    for r in s.by_span.iter().take(top) {
        let errs = r
            .top_errors
            .iter()
            .map(|(m, n)| format!("{n}× {m}"))
            .collect::<Vec<_>>()
            .join("; ");
        let rate = format!("{:>6.1}%", 100.0 * r.error_rate);
        let _ = writeln!(
            o,
            "  {} {} {:>7} {:>9} {:>9} {:>9} {:>9} {}  {}",
            paint.kind(&r.kind, &fit(&r.kind, 12)),
            fit(&r.name, 28),
            r.count,
            ms(r.self_time_ms),
            ms(r.latency.p50_ms),
            ms(r.latency.p95_ms),
            ms(r.latency.p99_ms),
            if r.errors > 0 {
                paint.error(&rate)
            } else {
                rate
            },
            errs
        );
    }
    if s.by_span.len() > top {
        let _ = writeln!(o, "  … {} more (--top N)", s.by_span.len() - top);
    }
    usage_table(
        &mut o,
        "Token usage by model",
        &s.by_model,
        top,
        paint,
        true,
    );
    usage_table(
        &mut o,
        "Token usage by agent",
        &s.by_agent,
        top,
        paint,
        false,
    );
    o
}

fn usage_table(
    o: &mut String,
    title: &str,
    rows: &[UsageStats],
    top: usize,
    paint: &Painter,
    latency: bool,
) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n{}", paint.bold(title));
    let _ = writeln!(
        o,
        "{}",
        paint.dim(&format!(
            "  {:<28} {:>7} {:>10} {:>10} {:>10} {:>10}{}",
            "NAME",
            "CALLS",
            "INPUT",
            "OUTPUT",
            "TOTAL",
            "COST",
            if latency {
                "       P50       P95  ERRORS"
            } else {
                ""
            }
        ))
    );
    for r in rows.iter().take(top) {
        let _ = write!(
            o,
            "  {} {:>7} {:>10} {:>10} {:>10} {:>10}",
            fit(&r.name, 28),
            r.calls,
            r.tokens.input,
            r.tokens.output,
            r.tokens.total(),
            cost(r.cost)
        );
        if latency {
            let _ = write!(
                o,
                " {:>9} {:>9} {:>7}",
                ms(r.latency.p50_ms),
                ms(r.latency.p95_ms),
                r.errors
            );
        }
        o.push('\n');
    }
}

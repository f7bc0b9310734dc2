//! `report`: one self-contained HTML file — inline CSS, JS and SVG, no network — with a trace
//! list, a zoomable Gantt timeline, a span inspector and the statistics.
//!
//! The page's data is one JSON document in a `<script type="application/json">` element; the
//! script draws the selected trace (the first, or `#trace=ID` in the address) and writes how
//! many span bars it drew to `<body data-rendered-spans="N">` (the browser test checks it).

use serde::Serialize;
use serde_json::Value;

use crate::analysis::{critical_path, self_times};
use crate::assemble::Trace;
use crate::gantt::clock;
use crate::parse::Tokens;
use crate::summary::Summary;

const TEMPLATE: &str = include_str!("template.html");
const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

#[derive(Serialize)]
struct SpanOut<'a> {
    id: &'a str,
    parent: Option<usize>,
    depth: u16,
    kind: &'a str,
    name: &'a str,
    /// Start, µs after the trace's start.
    s: f64,
    /// Duration, µs.
    d: f64,
    /// Self time, µs.
    selft: f64,
    error: Option<&'a str>,
    model: Option<&'a str>,
    tokens: Option<Tokens>,
    line: u64,
    crit: bool,
    raw: Option<&'a Value>,
}

#[derive(Serialize)]
struct TraceOut<'a> {
    id: &'a str,
    workflow: &'a str,
    group: Option<&'a str>,
    start: String,
    dur: f64,
    errors: usize,
    tokens: u64,
    spans: Vec<SpanOut<'a>>,
}

#[derive(Serialize)]
struct Page<'a> {
    generated: String,
    total_traces: usize,
    traces: Vec<TraceOut<'a>>,
    summary: &'a Summary,
}

fn us(ns: i64) -> f64 {
    ns as f64 / 1e3
}

fn trace_out(t: &Trace) -> TraceOut<'_> {
    let selfs = self_times(t);
    let mut on_path = vec![false; t.spans.len()];
    critical_path(t)
        .iter()
        .for_each(|st| on_path[st.span] = true);
    TraceOut {
        id: &t.id,
        workflow: &t.workflow_name,
        group: t.group_id.as_deref(),
        start: clock(t.start),
        dur: us(t.duration()),
        errors: t.errors(),
        tokens: t
            .spans
            .iter()
            .filter_map(|s| s.tokens)
            .map(|u| u.total())
            .sum(),
        spans: t
            .spans
            .iter()
            .enumerate()
            .map(|(i, s)| SpanOut {
                id: &s.id,
                parent: t.parent[i],
                depth: t.depth[i],
                kind: s.kind,
                name: &s.name,
                s: us(s.start - t.start),
                d: us(s.duration()),
                selft: us(selfs[i]),
                error: s.error.as_deref(),
                model: s.model.as_deref(),
                tokens: s.tokens,
                line: s.line,
                crit: on_path[i],
                raw: s.raw.as_ref(),
            })
            .collect(),
    }
}

/// The report with the timelines of `traces` and `summary` (which may cover more traces).
pub fn html(traces: &[Trace], summary: &Summary) -> String {
    let now = time::OffsetDateTime::now_utc();
    let page = Page {
        generated: clock(i64::try_from(now.unix_timestamp_nanos()).unwrap_or(0)),
        total_traces: usize::try_from(summary.traces).unwrap_or(usize::MAX),
        traces: traces.iter().map(trace_out).collect(),
        summary,
    };
    // `<` only occurs inside JSON strings, where `\u003c` means the same: the data can never
    // close its <script> element.
    let data = serde_json::to_string(&page)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c");
    TEMPLATE
        .replace("/*STYLE*/", STYLE)
        .replace("/*SCRIPT*/", SCRIPT)
        .replace("__DATA__", &data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::SpanLine;

    #[test]
    fn the_data_cannot_close_its_script_element() {
        let span = SpanLine {
            id: "span_1".into(),
            trace_id: "trace_1".into(),
            parent_id: None,
            start: 0,
            end: 10,
            kind: "function",
            name: "</script><script>alert(1)</script>".into(),
            model: None,
            tokens: None,
            error: None,
            raw: None,
            line: 1,
        };
        let t = crate::assemble::build(
            None,
            "trace_1",
            vec![span],
            0,
            crate::assemble::Orphans::Skip,
            &mut |_, _| {},
        );
        let s = crate::summary::Accumulator::new(1, None).finish(0);
        let page = html(&[t], &s);
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own");
        assert!(page.contains("\\u003c/script>\\u003cscript>alert(1)"));
        // Nothing is fetched: no external script, style, image or font.
        for fetch in ["src=", "href=", "@import", "url(http", "fetch("] {
            assert!(!page.contains(fetch), "{fetch}");
        }
    }
}

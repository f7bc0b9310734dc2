//! The commands, reading their input and writing to stdout.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::analysis::human;
use crate::assemble::{read_traces, Assembler, Trace};
use crate::diff::{compare, Thresholds};
use crate::gantt::{clock, matches, render};
use crate::input::{expand, read_all, Diagnostics};
use crate::parse::Tokens;
use crate::prices::Prices;
use crate::style::{fit, width, Painter};
use crate::summary::{Accumulator, Summary};
use crate::CliError;

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// `diff`: a threshold was exceeded (exit status 1).
    ThresholdExceeded,
}

fn out(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn load_prices(path: Option<&Path>) -> Result<Option<Prices>, CliError> {
    Ok(path.map(Prices::load).transpose()?)
}

/// One row of `list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceRow {
    /// Trace id.
    pub id: String,
    /// Workflow.
    pub workflow_name: String,
    /// Group.
    pub group_id: Option<String>,
    /// Start, UTC (`YYYY-MM-DD HH:MM:SS.mmm`).
    pub start: String,
    /// Duration, ms.
    pub duration_ms: f64,
    /// Spans.
    pub spans: usize,
    /// Failed spans.
    pub errors: usize,
    /// Tokens.
    pub tokens: Tokens,
    #[serde(skip)]
    start_ns: i64,
}

fn row(t: &Trace) -> TraceRow {
    let mut tokens = Tokens::default();
    t.spans
        .iter()
        .filter_map(|s| s.tokens)
        .for_each(|u| tokens.add(u));
    TraceRow {
        id: t.id.clone(),
        workflow_name: t.workflow_name.clone(),
        group_id: t.group_id.clone(),
        start: clock(t.start),
        duration_ms: crate::analysis::ms(t.duration()),
        spans: t.spans.len(),
        errors: t.errors(),
        tokens,
        start_ns: t.start,
    }
}

/// Streams the input, handing each completed trace to `each` (the spans are then dropped).
fn stream(
    files: &[String],
    quiet: bool,
    keep_raw: bool,
    mut each: impl FnMut(Trace),
) -> Result<Diagnostics, CliError> {
    let sources = expand(files)?;
    let mut diag = Diagnostics::new(quiet);
    let mut asm = Assembler::new(sources.iter().map(|s| s.name()).collect());
    read_all(&sources, keep_raw, &mut diag, |src, rec, diag| {
        if let Some(t) = asm.push(src, rec, diag) {
            each(t);
        }
    })?;
    asm.finish(&mut diag).into_iter().for_each(&mut each);
    diag.summary();
    Ok(diag)
}

/// `list`: one row per trace, by start time.
pub fn list(files: &[String], json: bool, quiet: bool) -> Result<Outcome, CliError> {
    let mut rows = Vec::new();
    stream(files, quiet, false, |t| rows.push(row(&t)))?;
    rows.sort_by_key(|r| r.start_ns);
    if json {
        let mut s = serde_json::to_string_pretty(&rows).map_err(std::io::Error::other)?;
        s.push('\n');
        return out(&s).map(|()| Outcome::Ok);
    }
    let paint = Painter::for_stdout();
    let mut s = paint.bold(&format!(
        "{:<40} {:<24} {:<14} {:<23} {:>9} {:>6} {:>6} {:>9}\n",
        "TRACE", "WORKFLOW", "GROUP", "START (UTC)", "DURATION", "SPANS", "ERRORS", "TOKENS"
    ));
    for r in &rows {
        let errors = format!("{:>6}", r.errors);
        s.push_str(&format!(
            "{:<40} {} {} {:<23} {:>9} {:>6} {} {:>9}\n",
            r.id,
            fit(&r.workflow_name, 24),
            fit(r.group_id.as_deref().unwrap_or("-"), 14),
            r.start,
            human((r.duration_ms * 1e6) as i64),
            r.spans,
            if r.errors > 0 {
                paint.error(&errors)
            } else {
                errors
            },
            r.tokens.total()
        ));
    }
    s.push_str(&format!("{} trace(s)\n", rows.len()));
    out(&s).map(|()| Outcome::Ok)
}

/// `view`: Gantt charts of the traces (or of the one `--trace` names).
pub fn view(
    files: &[String],
    trace: Option<&str>,
    width_flag: Option<usize>,
    quiet: bool,
) -> Result<Outcome, CliError> {
    let sources = expand(files)?;
    let mut diag = Diagnostics::new(quiet);
    let mut traces = read_traces(&sources, false, &mut diag)?;
    diag.summary();
    if let Some(q) = trace {
        traces.retain(|t| matches(&t.id, q));
        if traces.is_empty() {
            return Err(CliError::NoSuchTrace(q.to_owned()));
        }
    }
    if traces.is_empty() {
        return Err(CliError::NoTraces);
    }
    let paint = Painter::for_stdout();
    let w = width(width_flag);
    for (i, t) in traces.iter().enumerate() {
        let sep = if i == 0 { "" } else { "\n" };
        out(&format!("{sep}{}", render(t, w, &paint)))?;
    }
    Ok(Outcome::Ok)
}

/// Statistics of `files` (streamed: each trace's spans are dropped once it is counted).
pub fn summarize(
    files: &[String],
    prices: Option<Prices>,
    paths: usize,
    quiet: bool,
) -> Result<Summary, CliError> {
    let mut acc = Accumulator::new(paths, prices);
    let diag = stream(files, quiet, false, |t| acc.add(&t))?;
    Ok(acc.finish(diag.count() as u64))
}

/// `stats`.
pub fn stats(
    files: &[String],
    json: bool,
    prices: Option<&Path>,
    top: usize,
    paths: usize,
    quiet: bool,
) -> Result<Outcome, CliError> {
    let prices = load_prices(prices)?;
    let summary = summarize(files, prices, paths, quiet)?;
    let text = if json {
        let mut s = serde_json::to_string_pretty(&summary).map_err(std::io::Error::other)?;
        s.push('\n');
        s
    } else {
        crate::stats::render(&summary, top, &Painter::for_stdout())
    };
    out(&text).map(|()| Outcome::Ok)
}

/// `report`: writes the HTML file.
pub fn report(
    files: &[String],
    output: &Path,
    prices: Option<&Path>,
    max_traces: usize,
    quiet: bool,
) -> Result<Outcome, CliError> {
    let prices = load_prices(prices)?;
    // Streamed: the statistics see every trace; only the `max_traces` slowest are kept for
    // the timeline (a min-heap by duration).
    let mut acc = Accumulator::new(5, prices);
    let mut kept: BinaryHeap<Reverse<Slowest>> = BinaryHeap::new();
    let diag = stream(files, quiet, true, |t| {
        acc.add(&t);
        kept.push(Reverse(Slowest(t)));
        if kept.len() > max_traces {
            kept.pop();
        }
    })?;
    let summary = acc.finish(diag.count() as u64);
    let mut traces: Vec<Trace> = kept.into_iter().map(|Reverse(Slowest(t))| t).collect();
    traces.sort_by_key(|t| t.start);
    let html = crate::report::html(&traces, &summary);
    std::fs::write(output, html).map_err(|source| CliError::Write {
        path: output.display().to_string(),
        source,
    })?;
    if !quiet {
        eprintln!(
            "wrote {} ({} traces, {} spans)",
            output.display(),
            summary.traces,
            summary.spans
        );
    }
    Ok(Outcome::Ok)
}

/// A trace ordered by duration (then id, for a total order).
struct Slowest(Trace);

impl PartialEq for Slowest {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Slowest {}

impl PartialOrd for Slowest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Slowest {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0.duration(), &self.0.id).cmp(&(other.0.duration(), &other.0.id))
    }
}

/// `diff`: compares two sets of runs; [`Outcome::ThresholdExceeded`] past a threshold.
pub fn diff(
    baseline: &str,
    candidate: &str,
    json: bool,
    prices: Option<&Path>,
    top: usize,
    thresholds: &Thresholds,
    quiet: bool,
) -> Result<Outcome, CliError> {
    if thresholds.max_cost_increase.is_some() && prices.is_none() {
        return Err(CliError::CostNeedsPrices);
    }
    let prices = load_prices(prices)?;
    let a = summarize(&[baseline.to_owned()], prices.clone(), 0, quiet)?;
    let b = summarize(&[candidate.to_owned()], prices, 0, quiet)?;
    let report = compare(&a, &b, thresholds);
    let text = if json {
        let mut s = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
        s.push('\n');
        s
    } else {
        crate::diff::render(&report, top, &Painter::for_stdout())
    };
    out(&text)?;
    Ok(if report.violations.is_empty() {
        Outcome::Ok
    } else {
        Outcome::ThresholdExceeded
    })
}

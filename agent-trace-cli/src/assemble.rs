//! Grouping span lines into traces and traces into trees.
//!
//! Spans are written when they end, so children come before their parents. A trace is
//! complete — and handed on, so its spans can be dropped — when its trace record carries an
//! end time (our exporter writes the trace line when the trace ends) and no span waits for its
//! parent; other traces (the OpenAI Agents SDK writes its trace line first, without times)
//! complete at the end of the input.

use std::collections::{HashMap, HashSet};

use crate::input::Diagnostics;
use crate::parse::{Record, SpanLine, TraceLine};

/// A trace with its spans in tree order (depth first, siblings by start time).
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// `trace_…` id.
    pub id: String,
    /// The workflow's name (empty when the trace record was not found).
    pub workflow_name: String,
    /// The group, if any.
    pub group_id: Option<String>,
    /// Earliest start (span or trace record), Unix ns.
    pub start: i64,
    /// Latest end, Unix ns.
    pub end: i64,
    /// Spans in tree order.
    pub spans: Vec<SpanLine>,
    /// Depth of each span (0 directly under the trace).
    pub depth: Vec<u16>,
    /// Index of each span's parent in `spans`.
    pub parent: Vec<Option<usize>>,
    /// Index of the source the trace was read from.
    pub source: usize,
}

impl Trace {
    /// Duration in nanoseconds.
    pub fn duration(&self) -> i64 {
        self.end - self.start
    }

    /// Children of each span, and the top-level spans, in start order.
    pub fn children(&self) -> (Vec<Vec<usize>>, Vec<usize>) {
        let mut kids = vec![Vec::new(); self.spans.len()];
        let mut roots = Vec::new();
        for (i, p) in self.parent.iter().enumerate() {
            match p {
                Some(p) => kids[*p].push(i),
                None => roots.push(i),
            }
        }
        (kids, roots)
    }

    /// Number of failed spans.
    pub fn errors(&self) -> usize {
        self.spans.iter().filter(|s| s.error.is_some()).count()
    }

    /// The agent each span runs under: its own name for an agent span, else the nearest agent
    /// ancestor's.
    pub fn agents(&self) -> Vec<Option<&str>> {
        let mut out: Vec<Option<&str>> = Vec::with_capacity(self.spans.len());
        for (i, s) in self.spans.iter().enumerate() {
            let a = if s.kind == "agent" {
                Some(s.name.as_str())
            } else {
                self.parent[i].and_then(|p| out[p])
            };
            out.push(a);
        }
        out
    }
}

/// What to do with a span whose parent is not in its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orphans {
    /// Report it (with its line) and skip it with its descendants.
    Skip,
    /// Show it at the top level without a word (`view --follow`: the parent may still come).
    Adopt,
}

/// Builds the tree of one trace. Spans not reachable from the top level (a missing parent, a
/// cycle) are reported and skipped, or adopted at the top level.
pub fn build(
    info: Option<&TraceLine>,
    id: &str,
    spans: Vec<SpanLine>,
    source: usize,
    orphans: Orphans,
    report: &mut dyn FnMut(&SpanLine, usize),
) -> Trace {
    let index: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s.parent_id.as_deref().map(|p| index.get(p)) {
            None => roots.push(i),
            Some(Some(&p)) if p != i => kids[p].push(i),
            Some(_) => {
                if orphans == Orphans::Adopt {
                    roots.push(i);
                }
            }
        }
    }
    let by_start = |v: &mut Vec<usize>| v.sort_by_key(|&i| (spans[i].start, spans[i].line));
    by_start(&mut roots);
    kids.iter_mut().for_each(by_start);
    // Depth-first, iteratively (a deep chain must not overflow the stack).
    let mut order = Vec::with_capacity(spans.len());
    let mut seen = vec![false; spans.len()];
    let mut stack: Vec<(usize, u16, Option<usize>)> =
        roots.iter().rev().map(|&r| (r, 0, None)).collect();
    while let Some((i, d, parent_pos)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let pos = order.len();
        order.push((i, d, parent_pos));
        stack.extend(
            kids[i]
                .iter()
                .rev()
                .map(|&k| (k, d.saturating_add(1), Some(pos))),
        );
    }
    if order.len() < spans.len() {
        // The unreachable: report those whose parent is missing or themselves, with the
        // number of their descendants; then, once each, any left (they form a cycle).
        let mut reported = seen.clone();
        for (i, s) in spans.iter().enumerate() {
            let detached = s
                .parent_id
                .as_deref()
                .and_then(|p| index.get(p))
                .is_none_or(|&p| p == i);
            if !reported[i] && detached {
                report(s, descendants(&kids, i, &mut reported));
            }
        }
        for (i, s) in spans.iter().enumerate() {
            if !reported[i] {
                report(s, descendants(&kids, i, &mut reported));
            }
        }
    }
    let mut slots: Vec<Option<SpanLine>> = spans.into_iter().map(Some).collect();
    let mut trace = Trace {
        id: id.to_owned(),
        workflow_name: info.map(|t| t.workflow_name.clone()).unwrap_or_default(),
        group_id: info.and_then(|t| t.group_id.clone()),
        start: i64::MAX,
        end: i64::MIN,
        spans: Vec::with_capacity(order.len()),
        depth: Vec::with_capacity(order.len()),
        parent: Vec::with_capacity(order.len()),
        source,
    };
    for (i, d, p) in order {
        if let Some(s) = slots[i].take() {
            trace.start = trace.start.min(s.start);
            trace.end = trace.end.max(s.end);
            trace.spans.push(s);
            trace.depth.push(d);
            trace.parent.push(p);
        }
    }
    if let Some(t) = info.and_then(|t| t.started_at) {
        trace.start = trace.start.min(t);
    }
    if let Some(t) = info.and_then(|t| t.ended_at) {
        trace.end = trace.end.max(t);
    }
    if trace.start > trace.end {
        (trace.start, trace.end) = (0, 0);
    }
    trace
}

/// Marks `i` and its descendants in `done`; returns how many descendants were not yet marked.
fn descendants(kids: &[Vec<usize>], i: usize, done: &mut [bool]) -> usize {
    done[i] = true;
    let mut n = 0;
    let mut stack = kids[i].clone();
    while let Some(k) = stack.pop() {
        if !std::mem::replace(&mut done[k], true) {
            n += 1;
            stack.extend(&kids[k]);
        }
    }
    n
}

#[derive(Debug, Default)]
struct Open {
    info: Option<TraceLine>,
    spans: Vec<SpanLine>,
    ids: HashSet<String>,
    waiting: HashSet<String>,
    source: usize,
    first: u64,
}

impl Open {
    fn complete(&self) -> bool {
        self.info.as_ref().is_some_and(|t| t.ended_at.is_some())
            && self.waiting.is_empty()
            && !self.spans.is_empty()
    }
}

/// Groups records into traces as they stream in.
#[derive(Debug, Default)]
pub struct Assembler {
    open: HashMap<String, Open>,
    closed: HashSet<String>,
    seq: u64,
    names: Vec<String>,
}

impl Assembler {
    /// An assembler for records read from `names` (source names, for messages).
    pub fn new(names: Vec<String>) -> Self {
        Assembler {
            names,
            ..Assembler::default()
        }
    }

    fn name(&self, source: usize) -> &str {
        self.names.get(source).map_or("<input>", String::as_str)
    }

    /// Adds a record; returns the trace it completed, if any.
    pub fn push(&mut self, source: usize, record: Record, diag: &mut Diagnostics) -> Option<Trace> {
        self.seq += 1;
        let seq = self.seq;
        let id = match &record {
            Record::Trace(t) => t.id.clone(),
            Record::Span(s) => s.trace_id.clone(),
        };
        if self.closed.contains(&id) {
            if let Record::Span(s) = &record {
                let name = self.name(source).to_owned();
                diag.warn(
                    &name,
                    s.line,
                    format_args!("span `{}` came after its trace `{id}` ended; skipped", s.id),
                );
            }
            return None;
        }
        let open = self.open.entry(id.clone()).or_insert_with(|| Open {
            source,
            first: seq,
            ..Open::default()
        });
        match record {
            Record::Trace(t) => open.info = Some(t),
            Record::Span(s) => {
                if !open.ids.insert(s.id.clone()) {
                    let name = self.names.get(source).cloned().unwrap_or_default();
                    diag.warn(
                        &name,
                        s.line,
                        format_args!("span `{}` appears twice in trace `{id}`; skipped", s.id),
                    );
                    return None;
                }
                open.waiting.remove(&s.id);
                if let Some(p) = &s.parent_id {
                    if !open.ids.contains(p) {
                        open.waiting.insert(p.clone());
                    }
                }
                open.spans.push(*s);
            }
        }
        if !open.complete() {
            return None;
        }
        let open = self.open.remove(&id)?;
        self.closed.insert(id.clone());
        Some(self.finish_one(&id, open, diag))
    }

    fn finish_one(&self, id: &str, open: Open, diag: &mut Diagnostics) -> Trace {
        let name = self.name(open.source).to_owned();
        let mut report = |s: &SpanLine, below: usize| {
            let parent = s.parent_id.as_deref().unwrap_or("?");
            let tail = match below {
                0 => String::new(),
                n => format!(" with its {n} descendant span(s)"),
            };
            diag.warn(
                &name,
                s.line,
                format_args!(
                    "span `{}` is not connected to trace `{id}` (its parent `{parent}` is missing or in a cycle); skipped{tail}",
                    s.id
                ),
            );
        };
        build(
            open.info.as_ref(),
            id,
            open.spans,
            open.source,
            Orphans::Skip,
            &mut report,
        )
    }

    /// Completes every trace still open (in the order they were first seen). Traces with a
    /// record but no spans are kept (they show as empty).
    pub fn finish(mut self, diag: &mut Diagnostics) -> Vec<Trace> {
        let mut rest: Vec<(String, Open)> = self.open.drain().collect();
        rest.sort_by_key(|(_, o)| o.first);
        rest.into_iter()
            .map(|(id, open)| self.finish_one(&id, open, diag))
            .collect()
    }
}

/// Reads all traces of `sources` into memory, sorted by start time (for commands that need
/// them all: `view`, `report`).
pub fn read_traces(
    sources: &[crate::input::Source],
    keep_raw: bool,
    diag: &mut Diagnostics,
) -> Result<Vec<Trace>, crate::input::InputError> {
    let mut asm = Assembler::new(sources.iter().map(|s| s.name()).collect());
    let mut out = Vec::new();
    crate::input::read_all(sources, keep_raw, diag, |src, rec, diag| {
        out.extend(asm.push(src, rec, diag));
    })?;
    out.extend(asm.finish(diag));
    out.sort_by_key(|t| t.start);
    Ok(out)
}

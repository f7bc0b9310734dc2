//! Pure rendering: span trees, durations, styles. No IO, no state.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use agent_trace::{SpanData, SpanId, SpanRecord, TraceId};

/// Deeper spans are drawn at this depth, so a pathological chain cannot produce lines whose
/// length grows with the number of spans.
const MAX_DEPTH: usize = 32;
/// Error messages longer than this (in characters) are cut with `…`.
const MAX_MESSAGE_CHARS: usize = 200;
/// Names and list entries longer than this are cut with `…`.
const MAX_NAME_CHARS: usize = 120;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub(crate) color: bool,
}

impl Style {
    fn paint(self, out: &mut String, code: &str, text: &str) {
        if self.color {
            out.push_str("\x1b[");
            out.push_str(code);
            out.push('m');
            out.push_str(text);
            out.push_str("\x1b[0m");
        } else {
            out.push_str(text);
        }
    }
    fn bold(self, out: &mut String, text: &str) {
        self.paint(out, "1", text);
    }
    fn dim(self, out: &mut String, text: &str) {
        self.paint(out, "2", text);
    }
    fn red(self, out: &mut String, text: &str) {
        self.paint(out, "31", text);
    }
    fn green(self, out: &mut String, text: &str) {
        self.paint(out, "32", text);
    }
    fn yellow(self, out: &mut String, text: &str) {
        self.paint(out, "33", text);
    }
}

/// How a trace header describes the trace's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TraceStatus {
    /// The trace item arrived: the tree is complete (late spans aside).
    Ended,
    /// Printed at flush/shutdown, the trace has not ended.
    Running,
    /// Printed early because the span buffer was full.
    Early,
}

/// What the header line shows.
pub(crate) struct Header<'a> {
    pub(crate) id: TraceId,
    pub(crate) workflow_name: Option<&'a str>,
    pub(crate) group_id: Option<&'a str>,
    pub(crate) duration: Option<Duration>,
    pub(crate) status: TraceStatus,
}

/// Formats a duration for people: `0ns`, `812µs`, `12.3ms`, `1.20s`, `2m05s`, `1h02m`.
///
/// Rounds to the shown precision and picks the unit after rounding, so `999.96ms` is `1.00s`.
pub(crate) fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    let micros = (nanos + 500) / 1_000;
    if micros < 1_000 {
        return format!("{micros}µs");
    }
    let tenth_ms = (nanos + 50_000) / 100_000;
    if tenth_ms < 10_000 {
        return format!("{}.{}ms", tenth_ms / 10, tenth_ms % 10);
    }
    let centi_s = (nanos + 5_000_000) / 10_000_000;
    if centi_s < 6_000 {
        return format!("{}.{:02}s", centi_s / 100, centi_s % 100);
    }
    let secs = (nanos + 500_000_000) / 1_000_000_000;
    if secs < 3_600 {
        return format!("{}m{:02}s", secs / 60, secs % 60);
    }
    let mins = (secs + 30) / 60;
    format!("{}h{:02}m", mins / 60, mins % 60)
}

/// Makes untrusted text safe for one terminal line: newlines and tabs become spaces, other
/// control characters (including ESC, so no injected escape codes) and the bidirectional
/// formatting characters (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C: they can make a
/// line read differently from what it holds) become `�`; long text is cut.
pub(crate) fn clean(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars + 4));
    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        out.push(match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() || is_bidi_control(c) => '\u{FFFD}',
            c => c,
        });
    }
    out
}

/// The Unicode bidirectional formatting characters (embeddings, overrides, isolates, marks).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Renders a trace header and its span tree.
pub(crate) fn render_trace(
    out: &mut String,
    header: &Header<'_>,
    spans: &[SpanRecord],
    style: Style,
) {
    if let Some(name) = header.workflow_name {
        style.bold(out, &clean(name, MAX_NAME_CHARS));
        out.push_str("  ");
    }
    let _ = write!(out, "{}", header.id);
    if let Some(group) = header.group_id {
        out.push_str("  group ");
        out.push_str(&clean(group, MAX_NAME_CHARS));
    }
    if let Some(d) = header.duration {
        out.push_str("  ");
        style.dim(out, &format_duration(d));
    }
    match header.status {
        TraceStatus::Ended => {}
        TraceStatus::Running => style.yellow(out, "  (trace still running)"),
        TraceStatus::Early => style.yellow(
            out,
            "  (trace still running; printed early, span buffer full)",
        ),
    }
    out.push('\n');
    render_tree(out, spans, style);
}

/// Renders a "late spans" block for spans that arrived after their trace was printed.
pub(crate) fn render_late(
    out: &mut String,
    id: TraceId,
    workflow_name: Option<&str>,
    spans: &[SpanRecord],
    style: Style,
) {
    style.dim(out, "late spans of ");
    let _ = write!(out, "{id}");
    if let Some(name) = workflow_name {
        out.push_str(" (");
        style.bold(out, &clean(name, MAX_NAME_CHARS));
        out.push(')');
    }
    out.push('\n');
    render_tree(out, spans, style);
}

/// The overall time covered by `spans`: earliest start to latest end.
pub(crate) fn span_extent(spans: &[SpanRecord]) -> Option<Duration> {
    let start = spans.iter().map(|s| s.started_at).min()?;
    let end = spans.iter().filter_map(|s| s.ended_at).max()?;
    Some(end.saturating_duration_since(start))
}

/// Renders spans as a tree: children under their parent, sorted by start time; spans whose
/// parent is not among `spans` at the top. Duplicate ids are shown once. Never recurses, never
/// loops on malformed parent links (a parent cycle is broken at its earliest span).
pub(crate) fn render_tree(out: &mut String, spans: &[SpanRecord], style: Style) {
    // Deduplicate by id (at-least-once delivery may repeat a span), keeping the first.
    let mut index: HashMap<SpanId, usize> = HashMap::with_capacity(spans.len());
    let mut nodes: Vec<&SpanRecord> = Vec::with_capacity(spans.len());
    for s in spans {
        if let std::collections::hash_map::Entry::Vacant(e) = index.entry(s.id) {
            e.insert(nodes.len());
            nodes.push(s);
        }
    }
    let n = nodes.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, s) in nodes.iter().enumerate() {
        match s.parent_id.and_then(|p| index.get(&p).copied()) {
            Some(p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let by_start = |a: &usize, b: &usize| {
        nodes[*a]
            .started_at
            .cmp(&nodes[*b].started_at)
            .then(a.cmp(b))
    };
    roots.sort_by(by_start);
    for c in &mut children {
        c.sort_by(by_start);
    }

    // Spans in a parent cycle are reachable from no root: make the earliest of each a root.
    let mut reached = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mark = |from: usize, reached: &mut Vec<bool>, stack: &mut Vec<usize>| {
        reached[from] = true;
        stack.push(from);
        while let Some(i) = stack.pop() {
            for &c in &children[i] {
                if !reached[c] {
                    reached[c] = true;
                    stack.push(c);
                }
            }
        }
    };
    for &r in &roots {
        mark(r, &mut reached, &mut stack);
    }
    let mut rest: Vec<usize> = (0..n).filter(|&i| !reached[i]).collect();
    rest.sort_by(by_start);
    for i in rest {
        if !reached[i] {
            mark(i, &mut reached, &mut stack);
            roots.push(i);
        }
    }

    // Depth-first, iteratively. Each frame: node, the prefix of its line, whether it is last.
    let mut printed = vec![false; n];
    let mut frames: Vec<(usize, String, bool, usize)> = Vec::new();
    for (k, &r) in roots.iter().enumerate().rev() {
        frames.push((r, String::new(), k + 1 == roots.len(), 0));
    }
    while let Some((i, prefix, last, depth)) = frames.pop() {
        if printed[i] {
            continue;
        }
        printed[i] = true;
        out.push_str(&prefix);
        out.push_str(if last { "└─ " } else { "├─ " });
        render_span_line(out, nodes[i], style);
        out.push('\n');
        let kids: Vec<usize> = children[i]
            .iter()
            .copied()
            .filter(|&c| !printed[c])
            .collect();
        let child_prefix = if depth + 1 >= MAX_DEPTH {
            prefix
        } else {
            format!("{prefix}{}", if last { "   " } else { "│  " })
        };
        for (k, &c) in kids.iter().enumerate().rev() {
            frames.push((c, child_prefix.clone(), k + 1 == kids.len(), depth + 1));
        }
    }
}

fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| clean(n, MAX_NAME_CHARS))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One span's line, without the tree prefix: kind, name, duration, details, error.
fn render_span_line(out: &mut String, span: &SpanRecord, style: Style) {
    let kind = span.data.kind().as_str();
    out.push_str(kind);
    match &span.data {
        SpanData::Handoff(h) => {
            out.push(' ');
            let from = h
                .from_agent
                .as_deref()
                .map_or_else(|| "?".to_owned(), |s| clean(s, MAX_NAME_CHARS));
            let to = h
                .to_agent
                .as_deref()
                .map_or_else(|| "?".to_owned(), |s| clean(s, MAX_NAME_CHARS));
            style.bold(out, &format!("{from} → {to}"));
        }
        data => {
            if let Some(name) = data.name().filter(|n| !n.is_empty()) {
                out.push(' ');
                style.bold(out, &clean(name, MAX_NAME_CHARS));
            }
        }
    }
    out.push_str("  ");
    match span.ended_at {
        Some(_) => style.dim(out, &format_duration(span.duration())),
        None => style.dim(out, "running"),
    }
    match &span.data {
        SpanData::Agent(a) => {
            let mut parts = Vec::new();
            if let Some(tools) = a.tools.as_deref().filter(|t| !t.is_empty()) {
                parts.push(format!("tools: {}", join_names(tools.iter().map(|t| &**t))));
            }
            if let Some(handoffs) = a.handoffs.as_deref().filter(|t| !t.is_empty()) {
                parts.push(format!(
                    "handoffs: {}",
                    join_names(handoffs.iter().map(|t| &**t))
                ));
            }
            if !parts.is_empty() {
                out.push_str("  ");
                out.push_str(&parts.join(" · "));
            }
        }
        SpanData::Guardrail(g) => {
            out.push_str("  ");
            if g.triggered {
                style.yellow(out, "triggered");
            } else {
                style.green(out, "passed");
            }
        }
        SpanData::McpTools(m) => {
            if let Some(tools) = m.result.as_deref().filter(|t| !t.is_empty()) {
                out.push_str("  tools: ");
                out.push_str(&join_names(tools.iter().map(String::as_str)));
            }
        }
        data => {
            if let Some(u) = data.usage() {
                let _ = write!(
                    out,
                    "  in {} / out {} tokens",
                    u.input_tokens, u.output_tokens
                );
            }
        }
    }
    if let Some(err) = &span.error {
        out.push_str("  ");
        let msg = if err.message.trim().is_empty() {
            "error"
        } else {
            &err.message
        };
        style.red(out, &format!("✗ {}", clean(msg, MAX_MESSAGE_CHARS)));
    }
    render_links(out, span, style);
}

/// Links shown on a span's line.
const MAX_LINKS_SHOWN: usize = 4;

/// `  ↪ links span_… (in trace_… when another trace), +N more`.
fn render_links(out: &mut String, span: &SpanRecord, style: Style) {
    if span.links.is_empty() {
        return;
    }
    let mut text = String::from("↪ links ");
    for (i, link) in span.links.iter().take(MAX_LINKS_SHOWN).enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "{}", link.span_id);
        if link.trace_id != span.trace_id {
            let _ = write!(text, " in {}", link.trace_id);
        }
    }
    if span.links.len() > MAX_LINKS_SHOWN {
        let _ = write!(text, ", +{} more", span.links.len() - MAX_LINKS_SHOWN);
    }
    out.push_str("  ");
    style.dim(out, &text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_trace::{SpanError, Timestamp};

    fn d(nanos: u64) -> String {
        format_duration(Duration::from_nanos(nanos))
    }

    #[test]
    fn durations_pick_the_unit_after_rounding() {
        assert_eq!(d(0), "0ns");
        assert_eq!(d(999), "999ns");
        assert_eq!(d(812_000), "812µs");
        assert_eq!(d(999_600), "1.0ms");
        assert_eq!(d(12_340_000), "12.3ms");
        assert_eq!(d(999_960_000), "1.00s");
        assert_eq!(d(1_200_000_000), "1.20s");
        assert_eq!(d(125_000_000_000), "2m05s");
        assert_eq!(d(3_720_000_000_000), "1h02m");
        assert!(format_duration(Duration::MAX).ends_with('m'));
    }

    #[test]
    fn clean_neutralises_bidi_controls() {
        let spoof = "invoice\u{202E}fdp.exe\u{2066}x\u{200F}";
        let out = clean(spoof, 100);
        assert!(!out.chars().any(is_bidi_control), "{out:?}");
        assert_eq!(out.matches('\u{FFFD}').count(), 3);
    }

    #[test]
    fn clean_strips_escapes_and_cuts() {
        assert_eq!(clean("a\nb\x1b[31m", 100), "a b\u{FFFD}[31m");
        assert_eq!(clean("abcdef", 3), "abc…");
    }

    fn span(id: u64, parent: Option<u64>, start: u64) -> SpanRecord {
        let mut s = SpanRecord::new(
            TraceId::from_u128(1).unwrap(),
            parent.and_then(SpanId::from_u64),
            SpanData::custom(format!("s{id}")),
        );
        s.id = SpanId::from_u64(id).unwrap();
        s.started_at = Timestamp::from_unix_nanos(start);
        s.ended_at = Some(Timestamp::from_unix_nanos(start + 1_000));
        s
    }

    #[test]
    fn cycles_and_duplicates_print_every_span_once() {
        let spans = vec![
            span(1, Some(2), 10),
            span(2, Some(1), 20),
            span(3, None, 5),
            span(3, None, 5),
        ];
        let mut out = String::new();
        render_tree(&mut out, &spans, Style { color: false });
        assert_eq!(
            out,
            "├─ custom s3  1µs\n└─ custom s1  1µs\n   └─ custom s2  1µs\n"
        );
    }

    #[test]
    fn deep_chains_stop_indenting() {
        let spans: Vec<_> = (1..=100)
            .map(|i| span(i, Some(i - 1).filter(|&p| p > 0), i))
            .collect();
        let mut out = String::new();
        render_tree(&mut out, &spans, Style { color: false });
        assert_eq!(out.lines().count(), 100);
        let widest = out.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest < MAX_DEPTH * 3 + 30, "{widest}");
    }

    #[test]
    fn links_name_their_span_and_other_traces() {
        let mut s = span(1, None, 0);
        s.links.push(agent_trace::SpanLink::new(
            TraceId::from_u128(1).unwrap(),
            SpanId::from_u64(7).unwrap(),
        ));
        s.links.push(agent_trace::SpanLink::new(
            TraceId::from_u128(2).unwrap(),
            SpanId::from_u64(8).unwrap(),
        ));
        let mut out = String::new();
        render_tree(&mut out, &[s], Style { color: false });
        assert_eq!(
            out,
            "└─ custom s1  1µs  ↪ links span_0000000000000007, span_0000000000000008 in \
             trace_00000000000000000000000000000002\n"
        );
    }

    #[test]
    fn errors_are_red_only_with_color() {
        let mut s = span(1, None, 0);
        s.error = Some(Box::new(SpanError::new("cancelled")));
        let mut plain = String::new();
        render_tree(&mut plain, std::slice::from_ref(&s), Style { color: false });
        assert_eq!(plain, "└─ custom s1  1µs  ✗ cancelled\n");
        let mut colored = String::new();
        render_tree(&mut colored, &[s], Style { color: true });
        assert!(colored.contains("\x1b[31m✗ cancelled\x1b[0m"));
    }
}

//! One JSONL line → a trace or a span record, leniently: only what the CLI needs is read, and
//! every way a line can be wrong is a typed [`LineError`], never a panic.
//!
//! The shape is the OpenAI Agents SDK export (also what `agent-trace`'s `JsonlExporter`
//! writes): `{"object": "trace", "id", "workflow_name", "group_id", "metadata"}` (ours adds
//! `started_at`/`ended_at`) and `{"object": "trace.span", "id", "trace_id", "parent_id",
//! "started_at", "ended_at", "span_data": {"type", ...}, "error": {"message", "data"}}`.

use serde::Deserialize;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The span kinds of the export format (`span_data.type`).
pub const KNOWN_KINDS: [&str; 11] = [
    "agent",
    "function",
    "generation",
    "response",
    "handoff",
    "custom",
    "guardrail",
    "transcription",
    "speech",
    "speech_group",
    "mcp_tools",
];

/// Token counts of a model call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tokens {
    /// Prompt tokens.
    pub input: u64,
    /// Completion tokens.
    pub output: u64,
}

impl Tokens {
    /// Input plus output.
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// Adds `other` to these counts.
    pub fn add(&mut self, other: Tokens) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
    }
}

/// A `"object": "trace"` line.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceLine {
    /// `trace_…` id.
    pub id: String,
    /// The workflow's name.
    pub workflow_name: String,
    /// The conversation or session group, if any.
    pub group_id: Option<String>,
    /// Start time in Unix nanoseconds, when the writer recorded it (ours does, the SDK not).
    pub started_at: Option<i64>,
    /// End time in Unix nanoseconds, when recorded.
    pub ended_at: Option<i64>,
}

/// A `"object": "trace.span"` line, reduced to what the CLI shows and analyses.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanLine {
    /// `span_…` id.
    pub id: String,
    /// The trace it belongs to.
    pub trace_id: String,
    /// The parent span, `None` directly under the trace.
    pub parent_id: Option<String>,
    /// Start, Unix nanoseconds.
    pub start: i64,
    /// End, Unix nanoseconds (never before `start`).
    pub end: i64,
    /// `span_data.type`, one of [`KNOWN_KINDS`].
    pub kind: &'static str,
    /// A label for people: the agent, function or guardrail name, the model, `from → to`…
    pub name: String,
    /// The model, for generation, transcription and speech spans.
    pub model: Option<String>,
    /// Token usage, when recorded (generation, response, custom `data.usage`).
    pub tokens: Option<Tokens>,
    /// The error message, if the span failed.
    pub error: Option<String>,
    /// `span_data` and `error` as written, kept only when asked (the HTML report shows them).
    pub raw: Option<Value>,
    /// The 1-based line number it was read from (0 when not read from a file).
    pub line: u64,
}

impl SpanLine {
    /// Duration in nanoseconds.
    pub fn duration(&self) -> i64 {
        self.end - self.start
    }
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A trace record.
    Trace(TraceLine),
    /// A span record.
    Span(Box<SpanLine>),
}

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not JSON, or JSON of the wrong shape (a torn write, another file type).
    #[error("not a trace or span record ({0})")]
    Malformed(String),
    /// `object` is neither `trace` nor `trace.span`.
    #[error("unknown record object `{0}` (expected `trace` or `trace.span`)")]
    UnknownObject(String),
    /// `span_data.type` is not one of the known kinds.
    #[error("unknown span type `{0}`")]
    UnknownSpanType(String),
    /// The span has no `ended_at` (it never finished, or the writer crashed).
    #[error("span `{0}` has no end time (it never finished)")]
    MissingEnd(String),
    /// A timestamp is not RFC 3339.
    #[error("bad timestamp `{0}`")]
    BadTime(String),
    /// The span ends before it starts.
    #[error("span `{0}` ends before it starts")]
    EndBeforeStart(String),
}

#[derive(Deserialize)]
struct Raw {
    object: Option<String>,
    id: Option<String>,
    trace_id: Option<String>,
    parent_id: Option<String>,
    workflow_name: Option<String>,
    group_id: Option<String>,
    started_at: Option<String>,
    ended_at: Option<String>,
    span_data: Option<Map<String, Value>>,
    error: Option<Value>,
}

/// 2200-01-01T00:00:00Z in Unix nanoseconds: the latest time accepted.
const LATEST_NS: i128 = 7_258_118_400_000_000_000;

/// Parses an RFC 3339 timestamp into Unix nanoseconds. Times before 1970 or from 2200 on are
/// refused, so that the difference of any two accepted times fits in an `i64`.
pub fn parse_time(text: &str) -> Result<i64, LineError> {
    let bad = || LineError::BadTime(text.chars().take(40).collect());
    let t = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| bad())?;
    let ns = t.unix_timestamp_nanos();
    if !(0..LATEST_NS).contains(&ns) {
        return Err(bad());
    }
    i64::try_from(ns).map_err(|_| bad())
}

/// Parses one line. `keep_raw` keeps `span_data` and `error` (for the HTML report).
pub fn parse_line(line: &[u8], keep_raw: bool) -> Result<Record, LineError> {
    let raw: Raw = serde_json::from_slice(line).map_err(|e| {
        let mut m = e.to_string();
        m.truncate(80);
        LineError::Malformed(m)
    })?;
    let missing = |what: &str| LineError::Malformed(format!("missing `{what}`"));
    let object = raw.object.as_deref().ok_or_else(|| missing("object"))?;
    match object {
        "trace" => Ok(Record::Trace(TraceLine {
            id: raw.id.ok_or_else(|| missing("id"))?,
            workflow_name: raw.workflow_name.unwrap_or_default(),
            group_id: raw.group_id,
            started_at: raw.started_at.as_deref().map(parse_time).transpose()?,
            ended_at: raw.ended_at.as_deref().map(parse_time).transpose()?,
        })),
        "trace.span" => span(raw, keep_raw).map(|s| Record::Span(Box::new(s))),
        other => Err(LineError::UnknownObject(other.chars().take(40).collect())),
    }
}

fn span(raw: Raw, keep_raw: bool) -> Result<SpanLine, LineError> {
    let missing = |what: &str| LineError::Malformed(format!("missing `{what}`"));
    let id = raw.id.ok_or_else(|| missing("id"))?;
    let trace_id = raw.trace_id.ok_or_else(|| missing("trace_id"))?;
    let data = raw.span_data.ok_or_else(|| missing("span_data"))?;
    let ty = data
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("span_data.type"))?;
    let kind = KNOWN_KINDS
        .iter()
        .copied()
        .find(|k| *k == ty)
        .ok_or_else(|| LineError::UnknownSpanType(ty.chars().take(40).collect()))?;
    let start = parse_time(
        raw.started_at
            .as_deref()
            .ok_or_else(|| missing("started_at"))?,
    )?;
    let end = match raw.ended_at.as_deref() {
        Some(t) => parse_time(t)?,
        None => return Err(LineError::MissingEnd(id)),
    };
    if end < start {
        return Err(LineError::EndBeforeStart(id));
    }
    let str_of = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
    let model = match kind {
        "generation" | "transcription" | "speech" => str_of("model"),
        _ => None,
    };
    let name = match kind {
        "handoff" => format!(
            "{} → {}",
            str_of("from_agent").unwrap_or_else(|| "?".into()),
            str_of("to_agent").unwrap_or_else(|| "?".into())
        ),
        "mcp_tools" => str_of("server").unwrap_or_else(|| "mcp_tools".into()),
        "generation" | "transcription" | "speech" => model.clone().unwrap_or_else(|| kind.into()),
        _ => str_of("name").unwrap_or_else(|| kind.into()),
    };
    let usage = match kind {
        "custom" => data.get("data").and_then(|d| d.get("usage")),
        _ => data.get("usage"),
    };
    let tokens = usage.and_then(tokens_of);
    let error = match &raw.error {
        None | Some(Value::Null) => None,
        Some(e) => Some(
            e.get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| "error".into()),
        ),
    };
    let raw_value = keep_raw.then(|| {
        let mut m = Map::new();
        m.insert("span_data".into(), Value::Object(data.clone()));
        m.insert("error".into(), raw.error.clone().unwrap_or(Value::Null));
        Value::Object(m)
    });
    Ok(SpanLine {
        id,
        trace_id,
        parent_id: raw.parent_id,
        start,
        end,
        kind,
        name,
        model,
        tokens,
        error,
        raw: raw_value,
        line: 0,
    })
}

fn tokens_of(usage: &Value) -> Option<Tokens> {
    let obj = usage.as_object()?;
    let n = |k: &str| obj.get(k).and_then(Value::as_u64);
    let (input, output) = (n("input_tokens"), n("output_tokens"));
    if input.is_none() && output.is_none() {
        // Only a total recorded: count it all as input rather than lose it.
        return n("total_tokens").map(|t| Tokens {
            input: t,
            output: 0,
        });
    }
    Some(Tokens {
        input: input.unwrap_or(0),
        output: output.unwrap_or(0),
    })
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

//! Finished traces and spans, as processors and exporters receive them, and their JSON form.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::span_data::{Name, SpanData};
use crate::clock::Timestamp;
use crate::id::{SpanId, TraceId};

/// An error recorded on a span: `{"message": ..., "data": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpanError {
    /// What went wrong, for people.
    pub message: String,
    /// Details (for a Rust error: `{"debug": "<Debug form>"}`).
    #[serde(default)]
    pub data: Option<Value>,
}

impl SpanError {
    /// An error with a message and no data.
    ///
    /// ```
    /// assert_eq!(agent_trace::SpanError::new("timeout").message, "timeout");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        SpanError {
            message: message.into(),
            data: None,
        }
    }

    /// An error from a Rust error value: its `Display` text as message and its `Debug` form
    /// under `data.debug`.
    ///
    /// ```
    /// let e = std::io::Error::other("disk full");
    /// let se = agent_trace::SpanError::from_error(&e);
    /// assert_eq!(se.message, "disk full");
    /// assert!(se.data.unwrap()["debug"].as_str().unwrap().contains("disk full"));
    /// ```
    pub fn from_error<E: std::fmt::Display + std::fmt::Debug + ?Sized>(error: &E) -> Self {
        SpanError {
            message: error.to_string(),
            data: Some(serde_json::json!({ "debug": format!("{error:?}") })),
        }
    }

    /// Adds data to the error.
    ///
    /// ```
    /// let e = agent_trace::SpanError::new("x").with_data(serde_json::json!({"code": 7}));
    /// assert_eq!(e.data.unwrap()["code"], 7);
    /// ```
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// A link from a span to another span (possibly in another trace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpanLink {
    /// The linked span's trace.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
    /// Free-form attributes of the link.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
}

impl SpanLink {
    /// A link to `span_id` in `trace_id`, with no attributes.
    ///
    /// ```
    /// use agent_trace::{SpanId, SpanLink, TraceId};
    /// let link = SpanLink::new(TraceId::random(), SpanId::random());
    /// assert!(link.attributes.is_empty());
    /// ```
    pub fn new(trace_id: TraceId, span_id: SpanId) -> SpanLink {
        SpanLink {
            trace_id,
            span_id,
            attributes: Map::new(),
        }
    }
}

/// A span, as processors see it: started (in `on_span_start`) or finished (in `on_span_end`).
///
/// Serializes to one `"object": "trace.span"` line of the OpenAI Agents SDK export format when
/// wrapped in [`ExportItem`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpanRecord {
    /// This span's id.
    pub id: SpanId,
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// The parent span, `None` for a span directly under the trace.
    pub parent_id: Option<SpanId>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended; `None` while it runs.
    pub ended_at: Option<Timestamp>,
    /// What it did.
    #[serde(rename = "span_data")]
    pub data: SpanData,
    /// Why it failed, if it did.
    pub error: Option<Box<SpanError>>,
    /// Links to other spans (not part of the OpenAI format; omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<SpanLink>,
}

impl SpanRecord {
    /// How long the span ran (zero while it runs).
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("x"));
    /// r.ended_at = Some(Timestamp::from_unix_nanos(r.started_at.unix_nanos() + 1_000));
    /// assert_eq!(r.duration().as_nanos(), 1_000);
    /// ```
    pub fn duration(&self) -> std::time::Duration {
        self.ended_at
            .map(|e| e.saturating_duration_since(self.started_at))
            .unwrap_or_default()
    }

    /// A record starting now with a fresh id (for processors and tests; instrumented code
    /// gets its records from [`Span`](crate::Span)).
    ///
    /// ```
    /// # use agent_trace::*;
    /// let r = SpanRecord::new(TraceId::random(), None, SpanData::custom("x"));
    /// assert!(r.ended_at.is_none());
    /// ```
    pub fn new(trace_id: TraceId, parent_id: Option<SpanId>, data: SpanData) -> Self {
        SpanRecord {
            id: SpanId::random(),
            trace_id,
            parent_id,
            started_at: Timestamp::now(),
            ended_at: None,
            data,
            error: None,
            links: Vec::new(),
        }
    }
}

/// A trace: one run of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TraceRecord {
    /// The trace's id.
    pub id: TraceId,
    /// The workflow's name.
    pub workflow_name: Name,
    /// Groups traces of one conversation or session.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// When the trace started (not in the OpenAI format; omitted when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// When it ended (not in the OpenAI format; omitted when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
}

impl TraceRecord {
    /// A record with a fresh id, no group, no metadata and no times (for processors, exporters
    /// and tests; instrumented code gets its records from [`trace`](crate::trace())).
    ///
    /// ```
    /// let t = agent_trace::TraceRecord::new("wf");
    /// assert_eq!(t.workflow_name.as_ref(), "wf");
    /// assert!(t.started_at.is_none());
    /// ```
    pub fn new(workflow_name: impl Into<Name>) -> TraceRecord {
        TraceRecord {
            id: TraceId::random(),
            workflow_name: workflow_name.into(),
            group_id: None,
            metadata: None,
            started_at: None,
            ended_at: None,
        }
    }
}

/// One line of an export: a trace or a span, tagged by `object`.
///
/// ```
/// let line = r#"{"object": "trace", "id": "trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff", "workflow_name": "wf", "group_id": null, "metadata": null}"#;
/// let item: agent_trace::ExportItem = serde_json::from_str(line).unwrap();
/// assert!(matches!(item, agent_trace::ExportItem::Trace(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "object")]
pub enum ExportItem {
    /// `"object": "trace"`.
    #[serde(rename = "trace")]
    Trace(TraceRecord),
    /// `"object": "trace.span"`.
    #[serde(rename = "trace.span")]
    Span(SpanRecord),
}

impl ExportItem {
    /// The trace this item belongs to.
    ///
    /// ```
    /// # use agent_trace::*;
    /// let r = SpanRecord::new(TraceId::random(), None, SpanData::custom("x"));
    /// assert_eq!(ExportItem::Span(r.clone()).trace_id(), r.trace_id);
    /// ```
    pub fn trace_id(&self) -> TraceId {
        match self {
            ExportItem::Trace(t) => t.id,
            ExportItem::Span(s) => s.trace_id,
        }
    }

    /// Whether this is a trace record sent when its trace started: `started_at` is set and
    /// `ended_at` is not. (A record with neither, as the OpenAI Agents SDK writes them, is a
    /// complete trace record, not a start.)
    ///
    /// The [`BatchProcessor`](crate::BatchProcessor) hands each trace's record to the exporters
    /// twice: when the trace starts, before any of its spans (so an exporter knows the workflow
    /// name, group id and metadata of every span it gets), and when it ends, with `ended_at`
    /// set. Each exporter keeps what it needs: the JSONL and console exporters write the ended
    /// record, the OpenAI exporter sends the started one (as the OpenAI Agents SDK does), the
    /// OTLP exporter uses both.
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut t = TraceRecord::new("wf");
    /// assert!(!ExportItem::Trace(t.clone()).is_trace_start()); // no times: a whole record
    /// t.started_at = Some(Timestamp::now());
    /// assert!(ExportItem::Trace(t.clone()).is_trace_start());
    /// t.ended_at = Some(Timestamp::now());
    /// assert!(!ExportItem::Trace(t).is_trace_start());
    /// ```
    pub fn is_trace_start(&self) -> bool {
        matches!(self, ExportItem::Trace(t) if t.started_at.is_some() && t.ended_at.is_none())
    }
}

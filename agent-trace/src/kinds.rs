//! Constructors of spans of each kind, under the current span.

use crate::model::*;
use crate::span::Span;

macro_rules! named_constructor {
    ($(#[$doc:meta])* $fn:ident, $variant:ident, $ty:ident) => {
        $(#[$doc])*
        #[inline]
        pub fn $fn(name: impl Into<Name>) -> Span {
            Span::start_with(|| {
                SpanData::$variant($ty {
                    name: name.into(),
                    ..Default::default()
                }.into())
            })
        }
    };
}

named_constructor!(
    /// An agent span under the current span.
    ///
    /// ```
    /// let span = agent_trace::agent_span("triage").with_tools(&["lookup"]);
    /// # drop(span);
    /// ```
    agent_span, Agent, AgentSpanData
);
named_constructor!(
    /// A function (tool call) span under the current span.
    ///
    /// ```
    /// use agent_trace::Record;
    /// let mut span = agent_trace::function_span("lookup_invoice");
    /// span.set_input(&serde_json::json!({"id": 42}));
    /// ```
    function_span, Function, FunctionSpanData
);
named_constructor!(
    /// A custom span under the current span.
    ///
    /// ```
    /// let span = agent_trace::custom_span("fetch-docs");
    /// # drop(span);
    /// ```
    custom_span, Custom, CustomSpanData
);
named_constructor!(
    /// A guardrail span under the current span; record the verdict with `set_output(&bool)`.
    ///
    /// ```
    /// use agent_trace::Record;
    /// let mut span = agent_trace::guardrail_span("no_pii");
    /// span.set_output(&false);
    /// ```
    guardrail_span, Guardrail, GuardrailSpanData
);

/// A generation span under the current span; set the model with
/// [`with_model`](Span::with_model).
///
/// ```
/// let span = agent_trace::generation_span().with_model("gpt-4o-mini");
/// # drop(span);
/// ```
#[inline]
pub fn generation_span() -> Span {
    Span::start_with(|| SpanData::empty(SpanKind::Generation))
}

/// A response span under the current span.
///
/// ```
/// let span = agent_trace::response_span(Some("resp_123".to_string()));
/// # drop(span);
/// ```
#[inline]
pub fn response_span(response_id: Option<String>) -> Span {
    Span::start_with(|| {
        SpanData::Response(Box::new(ResponseSpanData {
            response_id,
            usage: None,
        }))
    })
}

/// A hand-off span under the current span.
///
/// ```
/// let span = agent_trace::handoff_span("triage", "billing");
/// # drop(span);
/// ```
#[inline]
pub fn handoff_span(from_agent: impl Into<Name>, to_agent: impl Into<Name>) -> Span {
    Span::start_with(|| {
        SpanData::Handoff(HandoffSpanData {
            from_agent: Some(from_agent.into()),
            to_agent: Some(to_agent.into()),
        })
    })
}

/// An MCP list-tools span under the current span.
///
/// ```
/// let span = agent_trace::mcp_tools_span("local-mcp");
/// # drop(span);
/// ```
#[inline]
pub fn mcp_tools_span(server: impl Into<Name>) -> Span {
    Span::start_with(|| {
        SpanData::McpTools(Box::new(McpListToolsSpanData {
            server: Some(server.into()),
            result: None,
        }))
    })
}

/// A span of the given kind with empty data (transcription, speech, speech group, …).
///
/// ```
/// let span = agent_trace::span_of_kind(agent_trace::SpanKind::Transcription);
/// # drop(span);
/// ```
#[inline]
pub fn span_of_kind(kind: SpanKind) -> Span {
    Span::start_with(|| SpanData::empty(kind))
}

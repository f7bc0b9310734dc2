//! Span names and kinds: a name is borrowed from the record where it can be, so that the
//! protobuf writer copies it straight into the body.

use agent_trace::SpanData;
use opentelemetry_proto::tonic::trace::v1::span;

/// A span name, borrowed from the record where it can be.
#[derive(Debug)]
pub(crate) enum SpanName<'a> {
    /// The name as is.
    Plain(&'a str),
    /// `"{0} {1}"`.
    Pair(&'static str, &'a str),
    Owned(String),
}

impl SpanName<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            SpanName::Plain(s) => s.len(),
            SpanName::Pair(p, s) => p.len() + 1 + s.len(),
            SpanName::Owned(s) => s.len(),
        }
    }

    /// Appends the name's bytes.
    pub(crate) fn write(&self, buf: &mut Vec<u8>) {
        match self {
            SpanName::Plain(s) => buf.extend_from_slice(s.as_bytes()),
            SpanName::Pair(p, s) => {
                buf.extend_from_slice(p.as_bytes());
                buf.push(b' ');
                buf.extend_from_slice(s.as_bytes());
            }
            SpanName::Owned(s) => buf.extend_from_slice(s.as_bytes()),
        }
    }

    pub(crate) fn into_string(self) -> String {
        match self {
            SpanName::Plain(s) => s.to_owned(),
            SpanName::Pair(p, s) => format!("{p} {s}"),
            SpanName::Owned(s) => s,
        }
    }
}

/// `"{prefix} {model}"`, or the prefix alone.
fn with_model<'a>(prefix: &'static str, model: Option<&'a str>) -> SpanName<'a> {
    model.map_or(SpanName::Plain(prefix), |m| SpanName::Pair(prefix, m))
}

/// The span name and kind.
pub(crate) fn name_kind(data: &SpanData) -> (SpanName<'_>, span::SpanKind) {
    use span::SpanKind::{Client, Internal};
    match data {
        SpanData::Agent(d) => (SpanName::Pair("invoke_agent", &d.name), Internal),
        SpanData::Function(d) => (SpanName::Pair("execute_tool", &d.name), Internal),
        SpanData::Generation(d) => (with_model("chat", d.model.as_deref()), Client),
        SpanData::Response(_) => (SpanName::Plain("response"), Client),
        SpanData::Handoff(d) => {
            let name = match (d.from_agent.as_deref(), d.to_agent.as_deref()) {
                (Some(f), Some(t)) => SpanName::Owned(format!("handoff {f} -> {t}")),
                (None, Some(t)) => SpanName::Pair("handoff ->", t),
                (Some(f), None) => SpanName::Owned(format!("handoff {f} ->")),
                (None, None) => SpanName::Plain("handoff"),
            };
            (name, Internal)
        }
        SpanData::Custom(d) if d.name.is_empty() => (SpanName::Plain("custom"), Internal),
        SpanData::Custom(d) => (SpanName::Plain(&d.name), Internal),
        SpanData::Guardrail(d) => (SpanName::Pair("guardrail", &d.name), Internal),
        SpanData::Transcription(d) => (with_model("transcription", d.model.as_deref()), Client),
        SpanData::Speech(d) => (with_model("speech", d.model.as_deref()), Client),
        SpanData::SpeechGroup(_) => (SpanName::Plain("speech_group"), Internal),
        SpanData::McpTools(d) => (with_model("mcp_tools", d.server.as_deref()), Internal),
        // `SpanData` is non-exhaustive: a kind added later still exports, by its kind name.
        #[allow(unreachable_patterns)]
        other => (
            SpanName::Plain(other.name().unwrap_or(other.kind().as_str())),
            Internal,
        ),
    }
}

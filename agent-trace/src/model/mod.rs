//! The data model: finished traces and spans, typed span data, and how instrumented code
//! records values on a span.

mod apply;
mod record;
mod recycle;
mod span_data;

pub use record::{ExportItem, SpanError, SpanLink, SpanRecord, TraceRecord};
pub(crate) use recycle::give_back;
pub use span_data::{
    AgentSpanData, CustomSpanData, FunctionSpanData, GenerationSpanData, GuardrailSpanData,
    HandoffSpanData, McpListToolsSpanData, Name, NameList, ResponseSpanData, SpanData, SpanKind,
    SpeechGroupSpanData, SpeechSpanData, TranscriptionSpanData, Usage,
};

//! How traces and spans become OTLP spans, following the OpenTelemetry GenAI semantic
//! conventions (see the [module docs](super) for the table).

use std::collections::{HashMap, VecDeque};

use agent_trace::{ExportItem, SpanData, SpanId, SpanRecord, TraceId, TraceRecord, Usage};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span, Status,
};
use serde_json::Value;

use super::attrs::{kv_str, Attrs};
pub(crate) use super::names::name_kind;

/// The instrumentation scope name of every exported span.
pub(crate) const SCOPE_NAME: &str = "agent-trace";

/// How many traces' group ids the exporter keeps (the most recently started ones).
const TRACE_GROUPS: usize = 65_536;

/// The span id of the `invoke_workflow` span that stands for a whole trace.
///
/// Spans may reach the exporter before their trace's end record (which makes the workflow
/// span), so the id has to be derivable from the trace id alone: it is the 128-bit trace id folded to 64 bits
/// (`high ^ low`) and mixed with the SplitMix64 finalizer, or 1 if that gives zero. Spans whose
/// `parent_id` is `None` get it as their parent.
///
/// ```
/// use agent_trace::TraceId;
/// use agent_trace_exporters::otlp::workflow_span_id;
/// let t = TraceId::from_u128(0x1234).unwrap();
/// assert_eq!(workflow_span_id(t), workflow_span_id(t));
/// assert_ne!(workflow_span_id(t), workflow_span_id(TraceId::from_u128(0x1235).unwrap()));
/// ```
pub fn workflow_span_id(trace_id: TraceId) -> SpanId {
    let v = trace_id.to_u128();
    let mut z = ((v >> 64) as u64) ^ (v as u64);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    const ONE: SpanId = match SpanId::from_u64(1) {
        Some(id) => id,
        None => panic!("1 is not zero"),
    };
    SpanId::from_u64(z).unwrap_or(ONE)
}

/// Mapping options fixed at build time.
#[derive(Debug, Clone)]
pub(crate) struct MappingConfig {
    pub(crate) provider_name: Option<String>,
    pub(crate) include_sensitive_data: bool,
    pub(crate) resource: Vec<KeyValue>,
}

/// `trace id → group id` of the traces whose start record this exporter received.
///
/// The batch processor hands every trace's record to the exporters when the trace starts,
/// ahead of its spans, so each span of a trace that started in this process finds its
/// conversation id here. Bounded: the group ids of the last [`TRACE_GROUPS`] started traces
/// (a trace is forgotten 65,536 trace starts after its own, not at its end, so that spans ending
/// after their trace still find it).
#[derive(Debug, Default)]
pub(crate) struct TraceGroups {
    map: HashMap<TraceId, String>,
    order: VecDeque<TraceId>,
}

impl TraceGroups {
    /// The group id of a started trace.
    pub(crate) fn get(&self, trace: &TraceId) -> Option<&String> {
        self.map.get(trace)
    }

    /// Takes the group ids of a batch's trace records, before its spans are mapped (a trace's
    /// start and end records carry the same group id).
    pub(crate) fn start_all(&mut self, batch: &[ExportItem]) {
        for item in batch {
            if let ExportItem::Trace(t) = item {
                self.started(t);
            }
        }
    }

    fn started(&mut self, trace: &TraceRecord) {
        let Some(group) = &trace.group_id else { return };
        if self.map.insert(trace.id, group.clone()).is_none() {
            self.order.push_back(trace.id);
            while self.order.len() > TRACE_GROUPS {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

/// Removes from a span's data what the mapping never exports with these settings: audio
/// always; prompts, completions, tool arguments and results, and speech text unless sensitive
/// data is on. What is left maps to the same OTLP span as the full data.
pub(crate) fn redact(data: &mut SpanData, include_sensitive_data: bool) {
    let keep = include_sensitive_data;
    match data {
        SpanData::Transcription(d) => {
            d.input = None;
            if !keep {
                d.output = None;
            }
        }
        SpanData::Speech(d) => {
            d.output = None;
            if !keep {
                d.input = None;
            }
        }
        SpanData::Function(d) if !keep => {
            d.input = None;
            d.output = None;
        }
        SpanData::Generation(d) if !keep => {
            d.input = None;
            d.output = None;
        }
        SpanData::SpeechGroup(d) if !keep => d.input = None,
        _ => {}
    }
}

/// The instrumentation scope of every span.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: SCOPE_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..InstrumentationScope::default()
    }
}

/// Builds the OTLP request for one batch.
pub(crate) fn build_request(
    batch: &[ExportItem],
    config: &MappingConfig,
    groups: &mut TraceGroups,
) -> ExportTraceServiceRequest {
    groups.start_all(batch);
    let spans = batch
        .iter()
        .filter_map(|item| match item {
            // A trace becomes its workflow span when it ends (then it has a duration).
            ExportItem::Trace(_) if item.is_trace_start() => None,
            ExportItem::Trace(t) => Some(workflow_span(t)),
            ExportItem::Span(s) => Some(map_span(s, config, groups.get(&s.trace_id))),
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: config.resource.clone(),
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

pub(crate) fn workflow_span(trace: &TraceRecord) -> Span {
    let end = trace.ended_at.or(trace.started_at);
    let start = trace.started_at.or(end);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s.unix_nanos(), e.unix_nanos()),
        _ => {
            let now = agent_trace::Timestamp::now().unix_nanos();
            (now, now)
        }
    };
    let mut attrs: Vec<KeyValue> = vec![
        kv_str("gen_ai.operation.name", "invoke_workflow"),
        kv_str("agent_trace.span_kind", "trace"),
        kv_str("agent_trace.workflow_name", trace.workflow_name.as_ref()),
        kv_str("agent_trace.trace_id", trace.id.to_string()),
    ];
    if let Some(group) = &trace.group_id {
        attrs.push(kv_str("gen_ai.conversation.id", group.as_str()));
    }
    if let Some(metadata) = &trace.metadata {
        for (k, v) in metadata {
            attrs.json(&format!("agent_trace.metadata.{k}"), v);
        }
    }
    Span {
        trace_id: trace.id.to_bytes().to_vec(),
        span_id: workflow_span_id(trace.id).to_bytes().to_vec(),
        name: format!("invoke_workflow {}", trace.workflow_name),
        kind: span::SpanKind::Internal as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end.max(start),
        attributes: attrs,
        status: Some(Status::default()),
        ..Span::default()
    }
}

/// The attributes every span gets after its kind's: `agent_trace.span_kind`,
/// `gen_ai.conversation.id`.
pub(crate) fn common_attrs(record: &SpanRecord, conversation: Option<&String>, a: &mut impl Attrs) {
    a.str("agent_trace.span_kind", record.data.kind().as_str());
    if let Some(group) = conversation {
        a.str("gen_ai.conversation.id", group);
    }
}

/// The span's start and end (Unix nanoseconds; an end before the start is the start).
pub(crate) fn times(record: &SpanRecord) -> (u64, u64) {
    let start = record.started_at.unix_nanos();
    let end = record.ended_at.map_or(start, |e| e.unix_nanos()).max(start);
    (start, end)
}

/// The OTLP parent span id: the parent's, or the trace's workflow span for a span at the top.
pub(crate) fn parent(record: &SpanRecord) -> SpanId {
    record
        .parent_id
        .unwrap_or_else(|| workflow_span_id(record.trace_id))
}

pub(crate) fn map_span(
    record: &SpanRecord,
    config: &MappingConfig,
    conversation: Option<&String>,
) -> Span {
    let mut attrs = Vec::with_capacity(16);
    let (name, kind) = name_kind(&record.data);
    attributes(&record.data, config, &mut attrs);
    common_attrs(record, conversation, &mut attrs);
    let (start, end) = times(record);
    let mut events = Vec::new();
    let status = match &record.error {
        None => Status::default(),
        Some(error) => {
            attrs.push(kv_str("error.type", error_type(error.data.as_ref())));
            if let Some(data) = &error.data {
                attrs.json_text("agent_trace.error.data", data);
            }
            events.push(span::Event {
                time_unix_nano: end,
                name: "exception".to_owned(),
                attributes: vec![
                    kv_str("exception.message", error.message.as_str()),
                    kv_str("exception.type", error_type(error.data.as_ref())),
                ],
                ..span::Event::default()
            });
            Status {
                message: error.message.clone(),
                code: status::StatusCode::Error as i32,
            }
        }
    };
    let links = record
        .links
        .iter()
        .map(|l| span::Link {
            trace_id: l.trace_id.to_bytes().to_vec(),
            span_id: l.span_id.to_bytes().to_vec(),
            attributes: {
                let mut a = Vec::with_capacity(l.attributes.len());
                for (k, v) in &l.attributes {
                    a.json(k, v);
                }
                a
            },
            ..span::Link::default()
        })
        .collect();
    Span {
        trace_id: record.trace_id.to_bytes().to_vec(),
        span_id: record.id.to_bytes().to_vec(),
        parent_span_id: parent(record).to_bytes().to_vec(),
        name: name.into_string(),
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes: attrs,
        events,
        links,
        status: Some(status),
        ..Span::default()
    }
}

/// The kind-specific attributes.
pub(crate) fn attributes(data: &SpanData, config: &MappingConfig, a: &mut impl Attrs) {
    let sensitive = config.include_sensitive_data;
    let provider = |a: &mut _| provider_attr(config, a);
    match data {
        SpanData::Agent(d) => {
            a.str("gen_ai.operation.name", "invoke_agent");
            provider(a);
            a.str("gen_ai.agent.name", &d.name);
            if let Some(tools) = &d.tools {
                a.strs("agent_trace.agent.tools", tools.iter().map(|s| s.as_ref()));
            }
            if let Some(handoffs) = &d.handoffs {
                a.strs(
                    "agent_trace.agent.handoffs",
                    handoffs.iter().map(|s| s.as_ref()),
                );
            }
            if let Some(t) = &d.output_type {
                a.str("agent_trace.agent.output_type", t);
            }
        }
        SpanData::Function(d) => {
            a.str("gen_ai.operation.name", "execute_tool");
            a.str("gen_ai.tool.name", &d.name);
            a.str("gen_ai.tool.type", "function");
            if sensitive {
                if let Some(input) = &d.input {
                    a.str("gen_ai.tool.call.arguments", input);
                }
                if let Some(output) = &d.output {
                    a.str("gen_ai.tool.call.result", output);
                }
            }
            if let Some(mcp) = &d.mcp_data {
                a.json_text("agent_trace.function.mcp_data", mcp);
            }
        }
        SpanData::Generation(d) => {
            a.str("gen_ai.operation.name", "chat");
            provider(a);
            if let Some(model) = &d.model {
                a.str("gen_ai.request.model", model);
                a.str("gen_ai.response.model", model);
            }
            if let Some(cfg) = &d.model_config {
                // One pass over the config (usually a few keys), then in the table's order.
                let mut found = [None; MODEL_CONFIG_KEYS.len()];
                for (k, v) in cfg {
                    if let Some(i) = MODEL_CONFIG_KEYS.iter().position(|(key, _)| key == k) {
                        found[i] = Some(v);
                    }
                }
                for ((_, attr), v) in MODEL_CONFIG_KEYS.iter().zip(found) {
                    if let Some(v) = v {
                        a.json(attr, v);
                    }
                }
                a.json_map("agent_trace.generation.model_config", cfg);
            }
            usage_attrs(d.usage.as_ref(), a);
            if sensitive {
                if let Some(input) = &d.input {
                    a.json_text("gen_ai.input.messages", input);
                }
                if let Some(output) = &d.output {
                    a.json_text("gen_ai.output.messages", output);
                }
            }
        }
        SpanData::Response(d) => {
            a.str("gen_ai.operation.name", "chat");
            provider(a);
            if let Some(id) = &d.response_id {
                a.str("gen_ai.response.id", id);
            }
            usage_attrs(d.usage.as_ref(), a);
        }
        SpanData::Handoff(d) => {
            if let Some(f) = &d.from_agent {
                a.str("agent_trace.handoff.from_agent", f);
            }
            if let Some(t) = &d.to_agent {
                a.str("agent_trace.handoff.to_agent", t);
            }
        }
        SpanData::Custom(d) => {
            for (k, v) in &d.data {
                a.json(&format!("agent_trace.custom.{k}"), v);
            }
        }
        SpanData::Guardrail(d) => {
            a.str("agent_trace.guardrail.name", &d.name);
            a.bool("agent_trace.guardrail.triggered", d.triggered);
        }
        SpanData::Transcription(d) => {
            provider(a);
            model_attr(d.model.as_deref(), a);
            if sensitive {
                if let Some(text) = &d.output {
                    a.str("agent_trace.transcription.output", text);
                }
            }
        }
        SpanData::Speech(d) => {
            provider(a);
            model_attr(d.model.as_deref(), a);
            if let Some(first) = &d.first_content_at {
                a.str("agent_trace.speech.first_content_at", first);
            }
            if sensitive {
                if let Some(text) = &d.input {
                    a.str("agent_trace.speech.input", text);
                }
            }
        }
        SpanData::SpeechGroup(d) if sensitive => {
            if let Some(text) = &d.input {
                a.str("agent_trace.speech_group.input", text);
            }
        }
        SpanData::McpTools(d) => {
            if let Some(server) = &d.server {
                a.str("agent_trace.mcp.server", server);
            }
            if let Some(tools) = &d.result {
                a.strs("agent_trace.mcp.tools", tools.iter().map(String::as_str));
            }
        }
        // A speech group without sensitive data, or a kind added later: nothing more.
        _ => {}
    }
}

/// Model-config keys copied to `gen_ai.request.*` attributes.
const MODEL_CONFIG_KEYS: &[(&str, &str)] = &[
    ("temperature", "gen_ai.request.temperature"),
    ("top_p", "gen_ai.request.top_p"),
    ("top_k", "gen_ai.request.top_k"),
    ("max_tokens", "gen_ai.request.max_tokens"),
    ("max_output_tokens", "gen_ai.request.max_tokens"),
    ("frequency_penalty", "gen_ai.request.frequency_penalty"),
    ("presence_penalty", "gen_ai.request.presence_penalty"),
    ("seed", "gen_ai.request.seed"),
];

fn provider_attr(config: &MappingConfig, a: &mut impl Attrs) {
    if let Some(p) = &config.provider_name {
        a.str("gen_ai.provider.name", p);
    }
}

fn model_attr(model: Option<&str>, a: &mut impl Attrs) {
    if let Some(m) = model {
        a.str("gen_ai.request.model", m);
    }
}

fn usage_attrs(usage: Option<&Usage>, a: &mut impl Attrs) {
    let Some(u) = usage else { return };
    a.int("gen_ai.usage.input_tokens", u.input_tokens);
    a.int("gen_ai.usage.output_tokens", u.output_tokens);
    let cached = u
        .details
        .get("input_tokens_details")
        .and_then(|d| d.get("cached_tokens"))
        .and_then(Value::as_u64);
    if let Some(c) = cached {
        a.int("gen_ai.usage.cache_read.input_tokens", c);
    }
}

/// A low-cardinality `error.type`: `data.type` when recorded, else the type name that starts a
/// Rust `Debug` form (`data.debug`), else `_OTHER` as the conventions prescribe.
fn error_type(data: Option<&Value>) -> String {
    if let Some(t) = data.and_then(|d| d.get("type")).and_then(Value::as_str) {
        return t.to_owned();
    }
    let ident: String = data
        .and_then(|d| d.get("debug"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    if ident
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
    {
        ident
    } else {
        "_OTHER".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_span_id_is_never_zero_and_stable() {
        for v in [1u128, u128::MAX, 1 << 64, (1 << 64) | 1] {
            let t = TraceId::from_u128(v).unwrap();
            assert_eq!(workflow_span_id(t), workflow_span_id(t));
            assert_ne!(workflow_span_id(t).to_u64(), 0);
        }
    }

    #[test]
    fn error_types() {
        assert_eq!(error_type(None), "_OTHER");
        assert_eq!(
            error_type(Some(&serde_json::json!({"type": "Timeout"}))),
            "Timeout"
        );
        assert_eq!(
            error_type(Some(
                &serde_json::json!({"debug": "ParseIntError { kind: Empty }"})
            )),
            "ParseIntError"
        );
        assert_eq!(
            error_type(Some(&serde_json::json!({"debug": "\"x\""}))),
            "_OTHER"
        );
    }

    #[test]
    fn trace_groups_are_bounded() {
        let mut c = TraceGroups::default();
        for i in 1..=(TRACE_GROUPS as u128 + 10) {
            c.started(&{
                let mut t = TraceRecord::new("wf");
                t.id = TraceId::from_u128(i).unwrap();
                t.group_id = Some(format!("g{i}"));
                t
            });
        }
        assert_eq!(c.map.len(), TRACE_GROUPS);
        assert!(!c.map.contains_key(&TraceId::from_u128(1).unwrap()));
    }
}

//! Privacy: what a provider records of the content that passes through it, applied before any
//! processor or exporter sees a record.
//!
//! Three stages, set on the [`TracerProviderBuilder`](crate::TracerProviderBuilder):
//!
//! 1. **Sensitive data** ([`include_sensitive_data`](crate::TracerProviderBuilder::include_sensitive_data),
//!    **off by default**). Off, inputs, outputs, messages, tool arguments and results, and
//!    error data are not recorded at all: [`Record::set_input`](crate::Record::set_input),
//!    `set_output` and the captures of `#[traced]` do nothing (the value is not even
//!    serialized), and whatever content a record still carries when its span ends (data built
//!    by hand, [`record_mut`](crate::Record::record_mut)) is removed before the processors get
//!    it. Spans keep their names, timings, kinds, models, usage, custom attributes and error
//!    messages. The environment wins over the code, so an operator can turn content off (or on)
//!    without a rebuild: [`SENSITIVE_DATA_ENV`] (`AGENT_TRACE_INCLUDE_SENSITIVE_DATA`), else the
//!    GenAI semantic conventions' [`GENAI_CAPTURE_ENV`]
//!    (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`); see [`sensitive_data_from_env`].
//! 2. **Redaction** ([`redactor`](crate::TracerProviderBuilder::redactor), off by default):
//!    a [`Redactor`] replaces secrets in every string of a record — span data at any depth of
//!    its JSON values, errors, links, trace metadata and group id.
//! 3. **Truncation** ([`max_field_bytes`](crate::TracerProviderBuilder::max_field_bytes),
//!    default [`DEFAULT_MAX_FIELD_BYTES`], 100 KiB): a longer string is cut at a character
//!    boundary and ends with `…[truncated by agent-trace: N of M bytes cut]`.
//!
//! Exporters have switches of their own (the OTLP exporter's `include_sensitive_data`): they
//! can only leave out more, never bring back what the provider dropped — content reaches an
//! exporter only when the provider records it *and* the exporter sends it.
//!
//! ```
//! use agent_trace::{privacy::Redactor, testing::CollectingProcessor, Record, TracerProvider};
//!
//! let spans = CollectingProcessor::new();
//! let provider = TracerProvider::builder()
//!     .include_sensitive_data(true)
//!     .redactor(Redactor::new())
//!     .with_processor(spans.clone())
//!     .build();
//! # if agent_trace::privacy::sensitive_data_from_env().is_some() { return; }
//! provider.trace("wf").in_scope(|| {
//!     agent_trace::custom_span("call").in_scope(|| {
//!         agent_trace::current_span().set_input("key sk-proj-abcdefghijklmnopqrstuvwx");
//!     });
//! });
//! let json = serde_json::to_string(&spans.spans()[0]).unwrap();
//! assert!(json.contains("[REDACTED:openai_key]") && !json.contains("sk-proj-"));
//! ```

mod redact;

use std::sync::Arc;

use serde_json::Value;

use crate::diag::OnceWarning;
use crate::model::{SpanData, SpanRecord, TraceRecord};

pub use redact::{PrivacyError, Redactor};

/// `AGENT_TRACE_INCLUDE_SENSITIVE_DATA`: `true`/`1`/`yes`/`on` records content, `false`/`0`/
/// `no`/`off` does not; when set, it wins over the code and over [`GENAI_CAPTURE_ENV`].
pub const SENSITIVE_DATA_ENV: &str = "AGENT_TRACE_INCLUDE_SENSITIVE_DATA";

/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, the OpenTelemetry GenAI conventions'
/// switch; read when [`SENSITIVE_DATA_ENV`] is not set, with the same values.
pub const GENAI_CAPTURE_ENV: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/// The default longest string field, in bytes (100 KiB).
pub const DEFAULT_MAX_FIELD_BYTES: usize = 100 * 1024;

static BAD_ENV_VALUE: OnceWarning = OnceWarning::new("sensitive_data_env_invalid");

/// What the environment says about recording content: `Some(on)` when
/// [`SENSITIVE_DATA_ENV`] (first) or [`GENAI_CAPTURE_ENV`] is set, `None` when neither is.
/// Values are read without case or surrounding space; an unrecognized value counts as off
/// (the safe side) and a diagnostic says so once.
///
/// ```
/// let _from_env: Option<bool> = agent_trace::privacy::sensitive_data_from_env();
/// ```
pub fn sensitive_data_from_env() -> Option<bool> {
    [SENSITIVE_DATA_ENV, GENAI_CAPTURE_ENV]
        .iter()
        .find_map(|k| std::env::var(k).ok().map(|v| (*k, v)))
        .map(|(key, value)| match parse_switch(&value) {
            Some(on) => on,
            None => {
                BAD_ENV_VALUE.warn(|| {
                    format!(
                        "{key}={value:?} is not a recognized switch, so content (inputs, outputs, \
                         error data) is NOT recorded; use true/false, 1/0, yes/no or on/off. \
                         (Said once per process.)"
                    )
                });
                false
            }
        })
}

fn parse_switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// A provider's privacy settings, fixed when it is built.
#[derive(Debug, Clone)]
pub(crate) struct Privacy {
    pub(crate) include_sensitive_data: bool,
    pub(crate) redactor: Option<Arc<Redactor>>,
    pub(crate) max_field_bytes: usize,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            include_sensitive_data: false,
            redactor: None,
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
        }
    }
}

impl Privacy {
    /// Cleans a span record in place: content out (when off), secrets redacted, long strings
    /// cut.
    #[inline(always)]
    pub(crate) fn apply_span(&self, span: &mut SpanRecord) {
        // Most spans hold no text: the look is inlined where spans end, the work is not.
        if has_text(span) {
            self.apply_span_text(span);
        }
    }

    #[inline(never)]
    fn apply_span_text(&self, span: &mut SpanRecord) {
        if !self.include_sensitive_data {
            strip_content(span);
        }
        let mut fix = |s: &mut String| {
            self.fix_string(s);
        };
        for_each_span_string(span, &mut fix);
    }

    /// A cleaned copy of a trace record, or `None` when it needs no change.
    #[inline(always)]
    pub(crate) fn apply_trace(&self, trace: &TraceRecord) -> Option<TraceRecord> {
        // Most traces carry neither: the look is inlined, the work is not.
        if trace.metadata.is_none() && trace.group_id.is_none() {
            return None;
        }
        self.apply_trace_text(trace)
    }

    #[inline(never)]
    fn apply_trace_text(&self, trace: &TraceRecord) -> Option<TraceRecord> {
        // Without a redactor only an over-long string can change: look before copying (most
        // traces carry metadata, and this runs at every trace's start and end).
        if self.redactor.is_none() && !self.trace_has_long_string(trace) {
            return None;
        }
        let mut copy = trace.clone();
        let mut changed = false;
        let mut fix = |s: &mut String| changed |= self.fix_string(s);
        if let Some(g) = copy.group_id.as_mut() {
            fix(g);
        }
        if let Some(m) = copy.metadata.as_mut() {
            for v in m.values_mut() {
                redact::for_each_string(v, &mut fix);
            }
        }
        changed.then_some(copy)
    }

    /// A cleaned copy of a started span for `on_span_start` listeners, or `None` when it needs
    /// no change.
    pub(crate) fn apply_span_start(&self, span: &SpanRecord) -> Option<SpanRecord> {
        // A span usually starts with no text to clean: then no copy.
        if !has_text(span) {
            return None;
        }
        let mut copy = span.clone();
        self.apply_span(&mut copy);
        (copy != *span).then_some(copy)
    }

    /// Whether the trace's group id or a string in its metadata is over `max_field_bytes`.
    fn trace_has_long_string(&self, trace: &TraceRecord) -> bool {
        let max = self.max_field_bytes;
        if trace.group_id.as_ref().is_some_and(|g| g.len() > max) {
            return true;
        }
        let mut stack: Vec<&serde_json::Value> =
            trace.metadata.iter().flat_map(|m| m.values()).collect();
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) if s.len() > max => return true,
                serde_json::Value::Array(items) => stack.extend(items),
                serde_json::Value::Object(map) => stack.extend(map.values()),
                _ => {}
            }
        }
        false
    }

    /// Redacts then truncates one string; whether it changed.
    fn fix_string(&self, s: &mut String) -> bool {
        let redacted = self.redactor.as_ref().is_some_and(|r| r.redact_in_place(s));
        redact::truncate_in_place(s, self.max_field_bytes) | redacted
    }
}

/// Removes inputs, outputs, messages, tool arguments and results (and MCP data), audio, and
/// error data; keeps names, timings, models, usage, custom attributes and the error message.
pub(crate) fn strip_content(span: &mut SpanRecord) {
    match &mut span.data {
        SpanData::Function(f) => {
            f.input = None;
            f.output = None;
            f.mcp_data = None;
        }
        SpanData::Generation(g) => {
            g.input = None;
            g.output = None;
        }
        SpanData::Transcription(t) => {
            t.input = None;
            t.output = None;
        }
        SpanData::Speech(s) => {
            s.input = None;
            s.output = None;
        }
        SpanData::SpeechGroup(s) => s.input = None,
        SpanData::Custom(c) => {
            // A look at the few keys first: removing hashes the key when serde_json keeps
            // insertion order (an IndexMap), twice per custom span with any attribute.
            if c.data.keys().any(|k| k == "input" || k == "output") {
                c.data.remove("input");
                c.data.remove("output");
            }
        }
        SpanData::McpTools(m) => m.result = None,
        SpanData::Agent(_)
        | SpanData::Response(_)
        | SpanData::Handoff(_)
        | SpanData::Guardrail(_) => {}
    }
    if let Some(e) = span.error.as_mut() {
        e.data = None;
    }
}

/// Whether a record holds any string the privacy stage may change (the fields
/// [`for_each_span_string`] visits, and the content [`strip_content`] removes).
#[inline(always)]
fn has_text(span: &SpanRecord) -> bool {
    let data = match &span.data {
        SpanData::Function(d) => d.input.is_some() || d.output.is_some() || d.mcp_data.is_some(),
        SpanData::Generation(d) => {
            d.input.is_some() || d.output.is_some() || d.model_config.is_some()
        }
        SpanData::Transcription(d) => {
            d.input.is_some() || d.output.is_some() || d.model_config.is_some()
        }
        SpanData::Speech(d) => d.input.is_some() || d.output.is_some() || d.model_config.is_some(),
        SpanData::SpeechGroup(d) => d.input.is_some(),
        // Of custom attributes only strings can change (redacted, cut), and `input` and
        // `output` go when content is off: other numbers, booleans and nulls need no visit.
        SpanData::Custom(d) => d.data.iter().any(|(k, v)| {
            matches!(v, Value::String(_) | Value::Array(_) | Value::Object(_))
                || k == "input"
                || k == "output"
        }),
        SpanData::Response(d) => d.response_id.is_some(),
        SpanData::McpTools(d) => d.result.is_some(),
        SpanData::Agent(_) | SpanData::Handoff(_) | SpanData::Guardrail(_) => false,
    };
    data || span.error.is_some() || span.links.iter().any(|l| !l.attributes.is_empty())
}

fn opt_string(s: &mut Option<String>, f: &mut impl FnMut(&mut String)) {
    if let Some(s) = s.as_mut() {
        f(s);
    }
}

fn opt_value(v: &mut Option<Value>, f: &mut impl FnMut(&mut String)) {
    if let Some(v) = v.as_mut() {
        redact::for_each_string(v, f);
    }
}

fn opt_map(m: &mut Option<serde_json::Map<String, Value>>, f: &mut impl FnMut(&mut String)) {
    if let Some(m) = m.as_mut() {
        m.values_mut().for_each(|v| redact::for_each_string(v, f));
    }
}

/// Runs `f` on every free-text string of a span record: its data's inputs, outputs, JSON
/// values, model settings and custom data, its error, its links' attributes. (Names and ids
/// are left as they are.)
fn for_each_span_string(span: &mut SpanRecord, f: &mut impl FnMut(&mut String)) {
    match &mut span.data {
        SpanData::Function(d) => {
            opt_string(&mut d.input, f);
            opt_string(&mut d.output, f);
            if let Some(v) = d.mcp_data.as_deref_mut() {
                redact::for_each_string(v, f);
            }
        }
        SpanData::Generation(d) => {
            opt_value(&mut d.input, f);
            opt_value(&mut d.output, f);
            opt_map(&mut d.model_config, f);
        }
        SpanData::Transcription(d) => {
            opt_value(&mut d.input, f);
            opt_string(&mut d.output, f);
            opt_map(&mut d.model_config, f);
        }
        SpanData::Speech(d) => {
            opt_string(&mut d.input, f);
            opt_value(&mut d.output, f);
            opt_map(&mut d.model_config, f);
        }
        SpanData::SpeechGroup(d) => opt_string(&mut d.input, f),
        SpanData::Custom(d) => d
            .data
            .values_mut()
            .for_each(|v| redact::for_each_string(v, f)),
        SpanData::Response(d) => opt_string(&mut d.response_id, f),
        SpanData::McpTools(d) => {
            if let Some(items) = d.result.as_mut() {
                items.iter_mut().for_each(&mut *f);
            }
        }
        SpanData::Agent(_) | SpanData::Handoff(_) | SpanData::Guardrail(_) => {}
    }
    if let Some(e) = span.error.as_mut() {
        f(&mut e.message);
        opt_value(&mut e.data, f);
    }
    for link in &mut span.links {
        link.attributes
            .values_mut()
            .for_each(|v| redact::for_each_string(v, f));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::id::TraceId;
    use crate::model::{SpanError, SpanKind};

    #[test]
    fn switch_values() {
        for on in ["1", "true", " TRUE ", "yes", "On"] {
            assert_eq!(parse_switch(on), Some(true), "{on}");
        }
        for off in ["0", "false", "No", "off", ""] {
            assert_eq!(parse_switch(off), Some(false), "{off}");
        }
        assert_eq!(parse_switch("maybe"), None);
    }

    #[test]
    fn stripping_keeps_names_usage_and_the_error_message() {
        let mut r = SpanRecord::new(
            TraceId::random(),
            None,
            SpanData::empty(SpanKind::Generation),
        );
        r.put_input(json!("prompt"));
        r.put_output(json!("answer"));
        r.put_model("m");
        r.put_usage(crate::Usage::tokens(1, 2));
        r.put_error(SpanError::new("boom").with_data(json!({"secret": 1})));
        strip_content(&mut r);
        let SpanData::Generation(g) = &r.data else {
            unreachable!()
        };
        assert!(g.input.is_none() && g.output.is_none());
        assert_eq!(g.model.as_deref(), Some("m"));
        assert_eq!(g.usage.as_ref().map(crate::Usage::total), Some(3));
        let e = r.error.as_ref().unwrap();
        assert_eq!(e.message, "boom");
        assert!(e.data.is_none());
    }

    #[test]
    fn custom_attributes_without_strings_need_no_visit_unless_input_or_output() {
        let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
        r.put_attribute("rows", json!(3));
        r.put_attribute("hit", json!(true));
        assert!(!has_text(&r), "numbers and booleans cannot change");
        r.put_attribute("input", json!(42));
        assert!(
            has_text(&r),
            "a numeric input still goes when content is off"
        );
        let privacy = Privacy {
            include_sensitive_data: false,
            redactor: None,
            max_field_bytes: 64,
        };
        privacy.apply_span(&mut r);
        let SpanData::Custom(c) = &r.data else {
            unreachable!()
        };
        assert_eq!(c.data.get("input"), None);
        assert_eq!(c.data.get("rows"), Some(&json!(3)));
        let mut s = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
        s.put_attribute("note", json!("x".repeat(100)));
        assert!(has_text(&s), "a string may be cut");
    }

    #[test]
    fn apply_redacts_and_truncates_at_any_depth() {
        let privacy = Privacy {
            include_sensitive_data: true,
            redactor: Some(Arc::new(Redactor::new())),
            max_field_bytes: 64,
        };
        let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
        r.put_attribute(
            "deep",
            json!({"a": [{"b": "token AKIAIOSFODNN7EXAMPLE"}], "long": "x".repeat(100)}),
        );
        privacy.apply_span(&mut r);
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        assert!(text.contains("[REDACTED:aws_access_key]"), "{text}");
        assert!(text.contains("36 of 100 bytes cut"), "{text}");
    }

    #[test]
    fn a_fresh_span_start_needs_no_copy() {
        let privacy = Privacy {
            redactor: Some(Arc::new(Redactor::new())),
            ..Privacy::default()
        };
        for kind in SpanKind::ALL {
            let r = SpanRecord::new(TraceId::random(), None, SpanData::empty(kind));
            assert!(privacy.apply_span_start(&r).is_none(), "{kind:?}");
        }
        let mut with_input = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
        with_input.put_input(json!("x"));
        let cleaned = privacy.apply_span_start(&with_input).unwrap();
        let SpanData::Custom(c) = &cleaned.data else {
            unreachable!()
        };
        assert!(c.data.get("input").is_none());
    }

    #[test]
    fn trace_metadata_is_redacted_in_a_copy() {
        let privacy = Privacy {
            redactor: Some(Arc::new(Redactor::new())),
            ..Privacy::default()
        };
        let mut t = TraceRecord::new("wf");
        assert!(privacy.apply_trace(&t).is_none());
        t.metadata = Some(
            json!({"user": "u1", "k": {"n": ["Bearer abcdefghijklmnop"]}})
                .as_object()
                .cloned()
                .unwrap(),
        );
        let fixed = privacy.apply_trace(&t).unwrap();
        assert_eq!(
            fixed.metadata.unwrap()["k"]["n"][0],
            "[REDACTED:bearer_token]"
        );
        t.metadata = Some(json!({"user": "u1"}).as_object().cloned().unwrap());
        assert!(privacy.apply_trace(&t).is_none());
    }

    #[test]
    fn without_a_redactor_only_long_trace_strings_make_a_copy() {
        let privacy = Privacy {
            max_field_bytes: 8,
            ..Privacy::default()
        };
        let mut t = TraceRecord::new("wf");
        t.metadata = Some(json!({"k": ["short"]}).as_object().cloned().unwrap());
        assert!(privacy.apply_trace(&t).is_none());
        t.metadata = Some(
            json!({"k": ["long enough to cut"]})
                .as_object()
                .cloned()
                .unwrap(),
        );
        let fixed = privacy.apply_trace(&t).unwrap();
        let cut = fixed.metadata.unwrap()["k"][0].as_str().unwrap().to_owned();
        assert!(cut.contains("truncated by agent-trace"), "{cut}");
    }
}

//! Recording values on a span record: what `Span` and `current_span()` methods do, by kind.

use serde_json::{Map, Value};

use super::record::{SpanError, SpanRecord};
use super::span_data::{Name, SpanData, Usage};
use crate::diag::OnceWarning;

/// JSON text of a value; a string stays as it is (Python's `str(result)` for a str).
fn as_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn args_object(args: Vec<(&'static str, Value)>) -> Value {
    Value::Object(args.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Captured arguments serialized as one JSON object, in argument order.
struct OrderedArgs<'a>(&'a [(&'static str, Value)]);

impl serde::Serialize for OrderedArgs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// JSON text of `{"arg": value, …}` with the keys in argument order (a `serde_json::Map`
/// would sort them), as the OpenAI Agents SDK's function input is the arguments object in the
/// order the tool declares them.
fn args_text(args: &[(&'static str, Value)]) -> String {
    serde_json::to_string(&OrderedArgs(args))
        .unwrap_or_else(|e| format!("<unserializable arguments: {e}>"))
}

/// A generation's input or output given as plain text: the OpenAI Agents SDK records messages,
/// `[{"role": …, "content": text}]`.
fn as_messages(role: &'static str, value: Value) -> Value {
    match value {
        Value::String(text) => {
            let mut message = Map::new();
            message.insert("role".to_owned(), Value::from(role));
            message.insert("content".to_owned(), Value::String(text));
            Value::Array(vec![Value::Object(message)])
        }
        other => other,
    }
}

/// Said once per process when token usage is recorded on a kind that has no usage field.
static USAGE_IGNORED: OnceWarning = OnceWarning::new("usage_ignored");

/// The effect of each [`Record`](crate::Record) method on a record, by span kind.
impl SpanRecord {
    /// Records the captured arguments of a `#[traced]` function as the span's input: JSON text
    /// of `{"arg": value, …}` in argument order on a function span, the single argument (or
    /// the object) on a generation, `data.input` on a custom span. Kinds without an input
    /// field ignore it.
    pub(crate) fn set_input_args(&mut self, mut args: Vec<(&'static str, Value)>) {
        match (&mut self.data, args.len()) {
            (SpanData::Generation(_), 1) | (SpanData::Speech(_), 1) => {
                let value = args.pop().map(|(_, v)| v).unwrap_or(Value::Null);
                self.put_input(value);
            }
            (SpanData::Function(d), _) => d.input = Some(args_text(&args)),
            (SpanData::Speech(d), _) => d.input = Some(args_text(&args)),
            (SpanData::SpeechGroup(d), _) => d.input = Some(args_text(&args)),
            _ => self.put_input(args_object(args)),
        }
    }

    /// Records the span's input: JSON text on a function span (a string stays as it is), the
    /// value on a generation (plain text becomes `[{"role": "user", "content": text}]`, the
    /// OpenAI Agents SDK's message list), `data.input` on a custom span. Kinds without an input
    /// field ignore it.
    pub(crate) fn put_input(&mut self, value: Value) {
        match &mut self.data {
            SpanData::Function(d) => d.input = Some(as_text(value)),
            SpanData::Generation(d) => d.input = Some(as_messages("user", value)),
            SpanData::Transcription(d) => d.input = Some(value),
            SpanData::Speech(d) => d.input = Some(as_text(value)),
            SpanData::SpeechGroup(d) => d.input = Some(as_text(value)),
            SpanData::Custom(d) => {
                d.data.insert("input".into(), value);
            }
            _ => {}
        }
    }

    /// Records the span's output: text on a function span (JSON text; `null` records no
    /// output, as the OpenAI Agents SDK does for `None`), messages on a generation (plain text
    /// becomes `[{"role": "assistant", "content": text}]`), the `triggered` flag on a guardrail
    /// (from a boolean, or an object with `triggered` or `tripwire_triggered`), the response id
    /// on a response span (from a string), the tool list on an MCP span, `data.output` on a
    /// custom span.
    pub(crate) fn put_output(&mut self, value: Value) {
        match &mut self.data {
            SpanData::Function(d) => d.output = (!value.is_null()).then(|| as_text(value)),
            SpanData::Generation(d) => d.output = Some(as_messages("assistant", value)),
            SpanData::Transcription(d) => d.output = Some(as_text(value)),
            SpanData::Speech(d) => d.output = Some(value),
            SpanData::Guardrail(d) => {
                let flag = match &value {
                    Value::Bool(b) => Some(*b),
                    Value::Object(o) => o
                        .get("triggered")
                        .or_else(|| o.get("tripwire_triggered"))
                        .and_then(Value::as_bool),
                    _ => None,
                };
                if let Some(b) = flag {
                    d.triggered = b;
                }
            }
            SpanData::Response(d) => {
                if let Value::String(s) = value {
                    d.response_id = Some(s);
                }
            }
            SpanData::McpTools(d) => {
                if let Value::Array(items) = value {
                    d.result = Some(items.into_iter().map(as_text).collect());
                }
            }
            SpanData::Custom(d) => {
                d.data.insert("output".into(), value);
            }
            SpanData::Agent(_) | SpanData::Handoff(_) | SpanData::SpeechGroup(_) => {}
        }
    }

    /// Adds token usage to a generation or response span (`data.usage` on a custom span).
    /// Other kinds have no usage field: the usage is dropped, and the first time in the process
    /// a diagnostic says so (see [`set_diagnostics_hook`](crate::set_diagnostics_hook)).
    pub(crate) fn put_usage(&mut self, usage: Usage) {
        let slot = match &mut self.data {
            SpanData::Generation(d) => &mut d.usage,
            SpanData::Response(d) => &mut d.usage,
            SpanData::Custom(d) => {
                let v = serde_json::to_value(&usage).unwrap_or(Value::Null);
                d.data.insert("usage".into(), v);
                return;
            }
            other => {
                let kind = other.kind().as_str();
                USAGE_IGNORED.warn(|| {
                    format!(
                        "token usage recorded on a `{kind}` span was dropped: only generation and \
                         response spans carry usage (custom spans keep it as data.usage). Record it \
                         on the span of the model call: `#[traced(kind = \"generation\")]` or \
                         `agent_trace::generation_span()`. (Said once per process.)"
                    )
                });
                return;
            }
        };
        match slot {
            Some(existing) => existing.add(&usage),
            None => *slot = Some(usage),
        }
    }

    /// Sets the model of a generation, transcription or speech span.
    pub(crate) fn put_model(&mut self, model: impl Into<Name>) {
        match &mut self.data {
            SpanData::Generation(d) => d.model = Some(model.into()),
            SpanData::Transcription(d) => d.model = Some(model.into()),
            SpanData::Speech(d) => d.model = Some(model.into()),
            _ => {}
        }
    }

    /// Sets one model setting (temperature, …) on a generation, transcription or speech span.
    pub(crate) fn put_model_config(&mut self, key: &str, value: Value) {
        let slot = match &mut self.data {
            SpanData::Generation(d) => &mut d.model_config,
            SpanData::Transcription(d) => &mut d.model_config,
            SpanData::Speech(d) => &mut d.model_config,
            _ => return,
        };
        slot.get_or_insert_with(Map::new)
            .insert(key.to_owned(), value);
    }

    /// Sets a field of a custom span's `data` (other kinds have no free-form data and ignore it).
    pub(crate) fn put_attribute(&mut self, key: &str, value: Value) {
        if let SpanData::Custom(d) = &mut self.data {
            d.data.insert(key.to_owned(), value);
        }
    }

    /// Marks the span failed. A later error replaces an earlier one.
    pub(crate) fn put_error(&mut self, error: SpanError) {
        self.error = Some(Box::new(error));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::id::TraceId;
    use crate::model::SpanKind;

    fn record(kind: SpanKind) -> SpanRecord {
        SpanRecord::new(TraceId::random(), None, SpanData::empty(kind))
    }

    #[test]
    fn function_input_keeps_argument_order() {
        let mut r = record(SpanKind::Function);
        r.set_input_args(vec![
            ("zeta", json!(1)),
            ("alpha", json!("a")),
            ("mid", json!([2, 1])),
        ]);
        let SpanData::Function(f) = &r.data else {
            unreachable!()
        };
        assert_eq!(
            f.input.as_deref(),
            Some(r#"{"zeta":1,"alpha":"a","mid":[2,1]}"#)
        );
        let mut none = record(SpanKind::Function);
        none.set_input_args(Vec::new());
        let SpanData::Function(f) = &none.data else {
            unreachable!()
        };
        assert_eq!(f.input.as_deref(), Some("{}"));
    }

    #[test]
    fn function_output_null_records_no_output() {
        let mut r = record(SpanKind::Function);
        r.put_output(json!("done"));
        r.put_output(Value::Null);
        let SpanData::Function(f) = &r.data else {
            unreachable!()
        };
        assert_eq!(f.output, None);
        r.put_output(json!({"n": 1}));
        let SpanData::Function(f) = &r.data else {
            unreachable!()
        };
        assert_eq!(f.output.as_deref(), Some(r#"{"n":1}"#));
    }

    #[test]
    fn generation_text_becomes_a_message_list() {
        let mut r = record(SpanKind::Generation);
        r.set_input_args(vec![("prompt", json!("hi"))]);
        r.put_output(json!("hello"));
        let SpanData::Generation(g) = &r.data else {
            unreachable!()
        };
        assert_eq!(g.input, Some(json!([{"role": "user", "content": "hi"}])));
        assert_eq!(
            g.output,
            Some(json!([{"role": "assistant", "content": "hello"}]))
        );
        // Messages given as messages stay as they are.
        let messages = json!([{"role": "assistant", "content": "x"}, {"role": "tool"}]);
        r.put_output(messages.clone());
        let SpanData::Generation(g) = &r.data else {
            unreachable!()
        };
        assert_eq!(g.output, Some(messages));
    }

    // The only unit test that records usage on a kind without one: the warning is said once
    // per process.
    #[test]
    fn usage_on_a_kind_without_usage_is_said_once() {
        let seen = crate::diag::captured();
        let mut f = record(SpanKind::Function);
        f.put_usage(Usage::tokens(1, 2));
        f.put_usage(Usage::tokens(1, 2));
        record(SpanKind::Agent).put_usage(Usage::tokens(3, 4));
        assert!(f.data.usage().is_none());
        let said: Vec<_> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.key == "usage_ignored")
            .cloned()
            .collect();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].message.contains("`function` span"), "{said:?}");
        assert!(said[0].message.contains("generation_span()"), "{said:?}");
        // Kinds with usage say nothing.
        let mut g = record(SpanKind::Generation);
        g.put_usage(Usage::tokens(1, 2));
        assert_eq!(g.data.usage().map(Usage::total), Some(3));
    }
}

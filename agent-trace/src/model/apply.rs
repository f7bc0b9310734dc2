//! Recording values on a span record: what `Span` and `current_span()` methods do, by kind.

use serde_json::{Map, Value};

use super::record::{SpanError, SpanRecord};
use super::span_data::{SpanData, Str, Usage};

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

impl SpanRecord {
    /// Records function arguments as the span's input: JSON text of `{"arg": value, …}` on a
    /// function span, the single argument (or the object) on a generation, `data.input` on a
    /// custom span. Kinds without an input field ignore it.
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Function));
    /// r.set_input_args(vec![("id", serde_json::json!(7))]);
    /// let SpanData::Function(f) = &r.data else { unreachable!() };
    /// assert_eq!(f.input.as_deref(), Some(r#"{"id":7}"#));
    /// ```
    pub fn set_input_args(&mut self, mut args: Vec<(&'static str, Value)>) {
        let value = match (&self.data, args.len()) {
            (SpanData::Generation(_), 1) | (SpanData::Speech(_), 1) => {
                args.pop().map(|(_, v)| v).unwrap_or(Value::Null)
            }
            _ => args_object(args),
        };
        self.set_input(value);
    }

    /// Records the span's input (see [`SpanRecord::set_input_args`] for where it goes).
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
    /// r.set_input(serde_json::json!("hi"));
    /// let SpanData::Custom(c) = &r.data else { unreachable!() };
    /// assert_eq!(c.data["input"], "hi");
    /// ```
    pub fn set_input(&mut self, value: Value) {
        match &mut self.data {
            SpanData::Function(d) => d.input = Some(as_text(value)),
            SpanData::Generation(d) => d.input = Some(value),
            SpanData::Transcription(d) => d.input = Some(value),
            SpanData::Speech(d) => d.input = Some(as_text(value)),
            SpanData::SpeechGroup(d) => d.input = Some(as_text(value)),
            SpanData::Custom(d) => {
                d.data.insert("input".into(), value);
            }
            _ => {}
        }
    }

    /// Records the span's output: text on a function span, messages on a generation, the
    /// `triggered` flag on a guardrail (from a boolean, or an object with `triggered` or
    /// `tripwire_triggered`), the response id on a response span (from a string), the tool
    /// list on an MCP span, `data.output` on a custom span.
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Guardrail));
    /// r.set_output(serde_json::json!(true));
    /// let SpanData::Guardrail(g) = &r.data else { unreachable!() };
    /// assert!(g.triggered);
    /// ```
    pub fn set_output(&mut self, value: Value) {
        match &mut self.data {
            SpanData::Function(d) => d.output = Some(as_text(value)),
            SpanData::Generation(d) => d.output = Some(value),
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
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Generation));
    /// r.record_usage(Usage::tokens(12, 5));
    /// r.record_usage(Usage::tokens(1, 1));
    /// assert_eq!(r.data.usage().unwrap().total(), 19);
    /// ```
    pub fn record_usage(&mut self, usage: Usage) {
        let slot = match &mut self.data {
            SpanData::Generation(d) => &mut d.usage,
            SpanData::Response(d) => &mut d.usage,
            SpanData::Custom(d) => {
                let v = serde_json::to_value(&usage).unwrap_or(Value::Null);
                d.data.insert("usage".into(), v);
                return;
            }
            _ => return,
        };
        match slot {
            Some(existing) => existing.add(&usage),
            None => *slot = Some(usage),
        }
    }

    /// Sets the model of a generation, transcription or speech span.
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Generation));
    /// r.set_model("gpt-4o-mini");
    /// assert_eq!(r.data.name(), Some("gpt-4o-mini"));
    /// ```
    pub fn set_model(&mut self, model: impl Into<Str>) {
        match &mut self.data {
            SpanData::Generation(d) => d.model = Some(model.into()),
            SpanData::Transcription(d) => d.model = Some(model.into()),
            SpanData::Speech(d) => d.model = Some(model.into()),
            _ => {}
        }
    }

    /// Sets one model setting (temperature, …) on a generation, transcription or speech span.
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Generation));
    /// r.set_model_config("temperature", serde_json::json!(0.2));
    /// ```
    pub fn set_model_config(&mut self, key: &str, value: Value) {
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
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
    /// r.set_attribute("hit", serde_json::json!(true));
    /// ```
    pub fn set_attribute(&mut self, key: &str, value: Value) {
        if let SpanData::Custom(d) = &mut self.data {
            d.data.insert(key.to_owned(), value);
        }
    }

    /// Marks the span failed. A later error replaces an earlier one.
    ///
    /// ```
    /// # use agent_trace::*;
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
    /// r.set_error(SpanError::new("boom"));
    /// assert_eq!(r.error.unwrap().message, "boom");
    /// ```
    pub fn set_error(&mut self, error: SpanError) {
        self.error = Some(Box::new(error));
    }
}

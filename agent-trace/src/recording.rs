//! [`Record`]: the one vocabulary for recording values on a span.

use serde::Serialize;

use crate::current::CurrentSpan;
use crate::model::{Name, SpanError, SpanRecord, Usage};
use crate::span::{to_value, Span};

/// Recording on a span: the same methods, with the same meaning, on the [`Span`] you hold, on
/// [`CurrentSpan`] (the span of the running code, from [`current_span`](crate::current_span))
/// and on a [`SpanRecord`] (in a processor, or a test).
///
/// Each method does what the span's kind allows and nothing on other kinds (the docs of each
/// say which); on a span that records nothing (outside any trace, tracing off) every method is
/// a no-op. Values are serialized with serde; a value that cannot be serialized is recorded as a
/// marker string, never a panic.
///
/// ```
/// use agent_trace::{current_span, traced, Record, Usage};
///
/// #[traced(kind = "generation", model = "gpt-4o-mini")]
/// async fn call_model(prompt: &str) -> String {
///     let mut span = current_span();
///     span.set_model_config("temperature", &0.2);
///     span.record_usage(Usage::tokens(12, 5));
///     format!("echo: {prompt}")
/// }
/// ```
pub trait Record {
    /// Runs `f` on the span's record; returns `false` (and does not run `f`) when there is no
    /// record to reach here.
    ///
    /// ```
    /// use agent_trace::Record;
    /// let reached = agent_trace::current_span().record_mut(|r| r.links.clear());
    /// assert!(!reached); // no span is running here
    /// ```
    fn record_mut(&mut self, f: impl FnOnce(&mut SpanRecord)) -> bool;

    /// Whether content — inputs, outputs, error data — is recorded here: the provider's
    /// [`include_sensitive_data`](crate::TracerProviderBuilder::include_sensitive_data) on a
    /// [`Span`] or [`CurrentSpan`] (false when it records nothing), always true on a bare
    /// [`SpanRecord`]. When false, [`set_input`](Record::set_input) and
    /// [`set_output`](Record::set_output) do nothing (the value is not even serialized) and
    /// [`set_error`](Record::set_error) keeps the message only. Check it before building an
    /// expensive value to record.
    ///
    /// ```
    /// use agent_trace::Record;
    /// assert!(!agent_trace::current_span().records_content()); // no span is running here
    /// ```
    fn records_content(&self) -> bool {
        true
    }

    /// Records the input: JSON text on a function span (a string stays as it is), messages on a
    /// generation (plain text becomes `[{"role": "user", "content": text}]`, the OpenAI Agents
    /// SDK's message list), the input of transcription, speech and speech-group spans,
    /// `data.input` on a custom span. Other kinds ignore it.
    ///
    /// ```
    /// use agent_trace::{Record, SpanData, SpanRecord, TraceId};
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
    /// r.set_input("hi");
    /// let SpanData::Custom(c) = &r.data else { unreachable!() };
    /// assert_eq!(c.data["input"], "hi");
    /// ```
    fn set_input<T: Serialize + ?Sized>(&mut self, input: &T)
    where
        Self: Sized,
    {
        if self.records_content() {
            self.record_mut(|r| r.put_input(to_value(input)));
        }
    }

    /// Records the output: JSON text on a function span (`null` records no output, as the
    /// OpenAI Agents SDK does for `None`), messages on a generation (plain text becomes
    /// `[{"role": "assistant", "content": text}]`), the `triggered` flag on a guardrail (from a
    /// boolean, or an object with `triggered` or `tripwire_triggered`), the response id on a
    /// response span (from a string), the tool list on an MCP span, `data.output` on a custom
    /// span.
    ///
    /// ```
    /// use agent_trace::{Record, SpanData, SpanKind, SpanRecord, TraceId};
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Guardrail));
    /// r.set_output(&true);
    /// let SpanData::Guardrail(g) = &r.data else { unreachable!() };
    /// assert!(g.triggered);
    /// ```
    fn set_output<T: Serialize + ?Sized>(&mut self, output: &T)
    where
        Self: Sized,
    {
        if self.records_content() {
            self.record_mut(|r| r.put_output(to_value(output)));
        }
    }

    /// Adds token usage to a generation or response span (`data.usage` on a custom span).
    /// Other kinds have no usage: it is dropped, and the first time in the process a
    /// diagnostic says so (see [`set_diagnostics_hook`](crate::set_diagnostics_hook)).
    ///
    /// ```
    /// use agent_trace::{Record, SpanData, SpanKind, SpanRecord, TraceId, Usage};
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Generation));
    /// r.record_usage(Usage::tokens(12, 5));
    /// r.record_usage(Usage::tokens(1, 1));
    /// assert_eq!(r.data.usage().unwrap().total(), 19);
    /// ```
    fn record_usage(&mut self, usage: Usage)
    where
        Self: Sized,
    {
        self.record_mut(|r| r.put_usage(usage));
    }

    /// Sets the model of a generation, transcription or speech span.
    ///
    /// ```
    /// use agent_trace::{Record, SpanData, SpanKind, SpanRecord, TraceId};
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Generation));
    /// r.set_model("gpt-4o-mini");
    /// assert_eq!(r.data.name(), Some("gpt-4o-mini"));
    /// ```
    fn set_model(&mut self, model: impl Into<Name>)
    where
        Self: Sized,
    {
        self.record_mut(|r| r.put_model(model));
    }

    /// Sets one model setting (temperature, max tokens, …) on a generation, transcription or
    /// speech span.
    ///
    /// ```
    /// use agent_trace::{Record, SpanData, SpanKind, SpanRecord, TraceId};
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::empty(SpanKind::Generation));
    /// r.set_model_config("temperature", &0.2);
    /// let SpanData::Generation(g) = &r.data else { unreachable!() };
    /// assert_eq!(g.model_config.as_ref().unwrap()["temperature"], 0.2);
    /// ```
    fn set_model_config<T: Serialize + ?Sized>(&mut self, key: &str, value: &T)
    where
        Self: Sized,
    {
        self.record_mut(|r| r.put_model_config(key, to_value(value)));
    }

    /// Sets a field of a custom span's `data` (other kinds have no free-form data and ignore
    /// it).
    ///
    /// ```
    /// use agent_trace::{Record, SpanData, SpanRecord, TraceId};
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
    /// r.set_attribute("hit", &true);
    /// let SpanData::Custom(c) = &r.data else { unreachable!() };
    /// assert_eq!(c.data["hit"], true);
    /// ```
    fn set_attribute<T: Serialize + ?Sized>(&mut self, key: &str, value: &T)
    where
        Self: Sized,
    {
        self.record_mut(|r| r.put_attribute(key, to_value(value)));
    }

    /// Marks the span failed. A later error replaces an earlier one. Where content is not
    /// recorded (see [`records_content`](Record::records_content)), the error's data is dropped
    /// and its message kept.
    ///
    /// ```
    /// use agent_trace::{Record, SpanData, SpanError, SpanRecord, TraceId};
    /// let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("c"));
    /// r.set_error(SpanError::new("boom"));
    /// assert_eq!(r.error.unwrap().message, "boom");
    /// ```
    fn set_error(&mut self, mut error: SpanError)
    where
        Self: Sized,
    {
        if !self.records_content() {
            error.data = None;
        }
        self.record_mut(|r| r.put_error(error));
    }
}

impl Record for SpanRecord {
    #[inline]
    fn record_mut(&mut self, f: impl FnOnce(&mut SpanRecord)) -> bool {
        f(self);
        true
    }
}

impl Record for Span {
    #[inline]
    fn records_content(&self) -> bool {
        self.provider().is_some_and(|p| p.records_content())
    }

    #[inline]
    fn record_mut(&mut self, f: impl FnOnce(&mut SpanRecord)) -> bool {
        match self.record_slot_mut() {
            Some(r) => {
                f(r);
                true
            }
            None => false,
        }
    }
}

impl Record for CurrentSpan {
    #[inline]
    fn records_content(&self) -> bool {
        crate::context::current_records_content()
    }

    /// Reaches the span whose owner runs on this task (see [`CurrentSpan`]).
    #[inline]
    fn record_mut(&mut self, f: impl FnOnce(&mut SpanRecord)) -> bool {
        crate::context::with_live(|l| match l {
            Some(l) => {
                f(l);
                true
            }
            None => false,
        })
    }
}

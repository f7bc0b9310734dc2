//! [`current_span`]: recording on the running span from nested code.

use serde::Serialize;

use crate::context::{self, peek_active};
use crate::id::{SpanId, TraceId};
use crate::model::{SpanError, SpanRecord, Str, Usage};
use crate::span::to_value;

/// The span of the code that is running, to record on it from nested code.
///
/// It reaches the span whose owner (a `#[traced]` function, an `.in_span()` future, an
/// `.in_scope()` closure) is running on this task. In a task spawned from there, or on a
/// thread given a [`Context`](crate::Context), the parent span belongs to someone else: methods that change
/// a span do nothing there (check [`CurrentSpan::is_recording`]) — start a child span instead.
///
/// ```
/// use agent_trace::{current_span, Usage};
///
/// async fn call_model() -> String {
///     current_span().record_usage(Usage::tokens(12, 5));
///     "hi".to_string()
/// }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CurrentSpan {
    _priv: (),
}

/// The span of the code that is running; see [`CurrentSpan`].
///
/// ```
/// assert!(agent_trace::current_span().id().is_none());
/// ```
#[inline]
pub fn current_span() -> CurrentSpan {
    CurrentSpan { _priv: () }
}

impl CurrentSpan {
    /// The current span's id (also for a parent owned by another task).
    ///
    /// ```
    /// assert!(agent_trace::current_span().id().is_none());
    /// ```
    pub fn id(&self) -> Option<SpanId> {
        peek_active(|a| a.and_then(|a| a.span_id))
    }

    /// The current trace's id.
    ///
    /// ```
    /// assert!(agent_trace::current_span().trace_id().is_none());
    /// ```
    pub fn trace_id(&self) -> Option<TraceId> {
        peek_active(|a| a.map(|a| a.trace_id))
    }

    /// Whether the methods that change the span reach one here.
    ///
    /// ```
    /// assert!(!agent_trace::current_span().is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        context::with_live(|l| l.is_some())
    }

    /// Changes the current span's record; returns `false` if no live span was reachable.
    ///
    /// ```
    /// let reached = agent_trace::current_span().record_mut(|r| r.set_model("gpt-4o"));
    /// assert!(!reached);
    /// ```
    pub fn record_mut(&self, f: impl FnOnce(&mut SpanRecord)) -> bool {
        context::with_live(|l| match l {
            Some(l) => {
                f(l);
                true
            }
            None => false,
        })
    }

    /// Adds token usage to the current generation or response span.
    ///
    /// ```
    /// agent_trace::current_span().record_usage(agent_trace::Usage::tokens(12, 5));
    /// ```
    pub fn record_usage(&self, usage: Usage) {
        self.record_mut(|r| r.record_usage(usage));
    }

    /// Records the current span's output (see [`SpanRecord::set_output`]).
    ///
    /// ```
    /// agent_trace::current_span().set_output(&serde_json::json!([{"role": "assistant", "content": "hi"}]));
    /// ```
    pub fn set_output<T: Serialize + ?Sized>(&self, output: &T) {
        self.record_mut(|r| r.set_output(to_value(output)));
    }

    /// Records the current span's input (see [`SpanRecord::set_input`]).
    ///
    /// ```
    /// agent_trace::current_span().set_input("where is my refund?");
    /// ```
    pub fn set_input<T: Serialize + ?Sized>(&self, input: &T) {
        self.record_mut(|r| r.set_input(to_value(input)));
    }

    /// Sets the current span's model.
    ///
    /// ```
    /// agent_trace::current_span().set_model("gpt-4o-mini");
    /// ```
    pub fn set_model(&self, model: impl Into<Str>) {
        self.record_mut(|r| r.set_model(model));
    }

    /// Sets a field of the current custom span's data.
    ///
    /// ```
    /// agent_trace::current_span().set_attribute("cache_hit", &true);
    /// ```
    pub fn set_attribute<T: Serialize + ?Sized>(&self, key: &str, value: &T) {
        self.record_mut(|r| r.set_attribute(key, to_value(value)));
    }

    /// Marks the current span failed.
    ///
    /// ```
    /// agent_trace::current_span().set_error(agent_trace::SpanError::new("rate limited"));
    /// ```
    pub fn set_error(&self, error: SpanError) {
        self.record_mut(|r| r.set_error(error));
    }
}

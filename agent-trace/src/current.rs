//! [`current_span`]: recording on the running span from nested code.

use crate::context::{self, current_ids};
use crate::id::{SpanId, TraceId};

/// The span of the code that is running, to record on it from nested code.
///
/// It reaches the span whose owner (a `#[traced]` function, an `.in_span()` future, an
/// `.in_scope()` closure) is running on this task. In a task spawned from there, or on a
/// thread given a [`Context`](crate::Context), the parent span belongs to someone else: methods that change
/// a span do nothing there (check [`CurrentSpan::is_recording`]) — start a child span instead.
///
/// Recording goes through [`Record`](crate::Record), the same methods as on a [`Span`](crate::Span).
///
/// ```
/// use agent_trace::{current_span, Record, Usage};
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
        current_ids().and_then(|(_, span)| span)
    }

    /// The current trace's id.
    ///
    /// ```
    /// assert!(agent_trace::current_span().trace_id().is_none());
    /// ```
    pub fn trace_id(&self) -> Option<TraceId> {
        current_ids().map(|(trace, _)| trace)
    }

    /// Whether the methods that change the span reach one here.
    ///
    /// ```
    /// assert!(!agent_trace::current_span().is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        context::with_live(|l| l.is_some())
    }
}

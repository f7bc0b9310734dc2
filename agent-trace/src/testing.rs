//! Helpers for testing instrumented code: a processor that keeps everything it sees.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::model::{SpanRecord, TraceRecord};
use crate::processor::TracingProcessor;

#[derive(Debug, Default)]
struct Seen {
    started: Vec<SpanRecord>,
    spans: Vec<SpanRecord>,
    traces_started: Vec<TraceRecord>,
    traces: Vec<TraceRecord>,
}

/// Keeps every trace and span it is given, in order. Clones share the same store.
///
/// ```
/// use agent_trace::{testing::CollectingProcessor, TracerProvider};
///
/// let seen = CollectingProcessor::new();
/// let provider = TracerProvider::builder().with_processor(seen.clone()).build();
/// provider.trace("wf").in_scope(|| agent_trace::custom_span("a").end());
/// assert_eq!(seen.traces().len(), 1);
/// assert_eq!(seen.spans().len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CollectingProcessor {
    seen: Arc<Mutex<Seen>>,
}

impl CollectingProcessor {
    /// An empty collector.
    ///
    /// ```
    /// assert!(agent_trace::testing::CollectingProcessor::new().spans().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Finished spans, in the order they ended.
    ///
    /// ```
    /// assert!(agent_trace::testing::CollectingProcessor::new().spans().is_empty());
    /// ```
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.lock().spans.clone()
    }

    /// Spans as they were when they started, in the order they started.
    ///
    /// ```
    /// assert!(agent_trace::testing::CollectingProcessor::new().started_spans().is_empty());
    /// ```
    pub fn started_spans(&self) -> Vec<SpanRecord> {
        self.lock().started.clone()
    }

    /// Finished traces, in the order they ended.
    ///
    /// ```
    /// assert!(agent_trace::testing::CollectingProcessor::new().traces().is_empty());
    /// ```
    pub fn traces(&self) -> Vec<TraceRecord> {
        self.lock().traces.clone()
    }

    /// Traces as they were when they started.
    ///
    /// ```
    /// assert!(agent_trace::testing::CollectingProcessor::new().started_traces().is_empty());
    /// ```
    pub fn started_traces(&self) -> Vec<TraceRecord> {
        self.lock().traces_started.clone()
    }

    /// Forgets everything seen so far.
    ///
    /// ```
    /// agent_trace::testing::CollectingProcessor::new().clear();
    /// ```
    pub fn clear(&self) {
        *self.lock() = Seen::default();
    }
}

impl TracingProcessor for CollectingProcessor {
    fn on_trace_start(&self, trace: &TraceRecord) {
        self.lock().traces_started.push(trace.clone());
    }

    fn on_trace_end(&self, trace: &TraceRecord) {
        self.lock().traces.push(trace.clone());
    }

    fn on_span_start(&self, span: &SpanRecord) {
        self.lock().started.push(span.clone());
    }

    fn on_span_end(&self, span: &SpanRecord) {
        self.lock().spans.push(span.clone());
    }

    fn on_span_end_last(&self, slot: &mut Option<SpanRecord>) {
        if let Some(span) = slot.take() {
            self.lock().spans.push(span);
        }
    }
}

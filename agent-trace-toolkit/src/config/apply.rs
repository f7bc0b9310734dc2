//! What `[sampling]` and `[privacy]` do to the export pipeline: a wrapper processor in front of
//! the batch processor that keeps a share of traces (decided from the trace id) and strips
//! content from the spans it passes on. Metrics, logging and the profiler sit beside it and
//! see every span (they record no content).

use std::time::Duration;

use agent_trace::span_data::SpanData;
use agent_trace::{BoxFuture, SpanRecord, TraceError, TraceId, TraceRecord, TracingProcessor};

/// Samples and redacts in front of another processor.
#[derive(Debug)]
pub(crate) struct Gate<P> {
    pub(crate) inner: P,
    /// Keep a trace when the low 64 bits of its id are below this (`u64::MAX`: keep all).
    pub(crate) threshold: u64,
    pub(crate) include_sensitive_data: bool,
}

impl<P> Gate<P> {
    pub(crate) fn new(inner: P, ratio: f64, include_sensitive_data: bool) -> Self {
        let threshold = if ratio >= 1.0 {
            u64::MAX
        } else {
            (ratio.max(0.0) * u64::MAX as f64) as u64
        };
        Gate {
            inner,
            threshold,
            include_sensitive_data,
        }
    }

    fn keeps(&self, id: TraceId) -> bool {
        self.threshold == u64::MAX || (id.to_u128() as u64) < self.threshold
    }
}

/// Removes inputs, outputs, tool arguments and results, and error data.
pub(crate) fn strip(span: &mut SpanRecord) {
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
            c.data.remove("input");
            c.data.remove("output");
        }
        _ => {}
    }
    if let Some(e) = span.error.as_mut() {
        e.data = None;
    }
}

impl<P: TracingProcessor> TracingProcessor for Gate<P> {
    fn on_trace_start(&self, trace: &TraceRecord) {
        if self.keeps(trace.id) {
            self.inner.on_trace_start(trace);
        }
    }

    fn on_trace_end(&self, trace: &TraceRecord) {
        if self.keeps(trace.id) {
            self.inner.on_trace_end(trace);
        }
    }

    fn on_span_start(&self, span: &SpanRecord) {
        if self.keeps(span.trace_id) {
            self.inner.on_span_start(span);
        }
    }

    fn on_span_end(&self, span: &SpanRecord) {
        if !self.keeps(span.trace_id) {
            return;
        }
        if self.include_sensitive_data {
            self.inner.on_span_end(span);
        } else {
            let mut owned = Some(span.clone());
            self.on_span_end_last(&mut owned);
        }
    }

    fn on_span_end_last(&self, slot: &mut Option<SpanRecord>) {
        let Some(span) = slot.as_mut() else {
            return;
        };
        if !self.keeps(span.trace_id) {
            return;
        }
        if !self.include_sensitive_data {
            strip(span);
        }
        self.inner.on_span_end_last(slot);
    }

    fn wants_span_start(&self) -> bool {
        self.inner.wants_span_start()
    }

    fn force_flush(&self) -> BoxFuture<'_, Result<(), TraceError>> {
        self.inner.force_flush()
    }

    fn force_flush_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        self.inner.force_flush_blocking(timeout)
    }

    fn shutdown_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        self.inner.shutdown_blocking(timeout)
    }

    fn on_provider_drop(&self, timeout: Duration) -> Result<(), TraceError> {
        self.inner.on_provider_drop(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> BoxFuture<'_, Result<(), TraceError>> {
        self.inner.shutdown(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_keeps_about_its_share_and_is_deterministic() {
        let g = Gate::new((), 0.25, false);
        let kept = (0..10_000).filter(|_| g.keeps(TraceId::random())).count();
        assert!((2000..3000).contains(&kept), "{kept}");
        let id = TraceId::random();
        assert_eq!(g.keeps(id), g.keeps(id));
        assert!(Gate::new((), 1.0, false).keeps(id));
        assert!(!Gate::new((), 0.0, false).keeps(id));
    }
}

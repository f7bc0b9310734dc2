//! The two extension points: [`TracingProcessor`] sees every trace and span as it starts and
//! ends; [`TracingExporter`] sends finished batches somewhere.

use std::time::Duration;

use crate::model::{ExportItem, SpanRecord, TraceRecord};

/// A boxed, sendable future, as returned by the async methods of the traits here:
/// `Pin<Box<dyn Future<Output = T> + Send + 'a>>`, the same type as `futures::future::BoxFuture`.
pub use futures_util::future::BoxFuture;

/// Why flushing or shutting down did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The operation did not finish in time; items may still be queued.
    #[error("{what} did not finish within {timeout:?}; items still queued are counted in stats() — give it more time or check the exporter")]
    Timeout {
        /// What timed out.
        what: &'static str,
        /// The limit.
        timeout: Duration,
    },
    /// The processor was already shut down.
    #[error("the processor is shut down; create a new provider to trace again")]
    ShutDown,
    /// Items that ended before the flush (or shutdown) were dropped instead of delivered: an
    /// exporter gave them up (permanent error, retries exhausted without a spool, full spool,
    /// panic) or could not keep up (its queue of batches stayed full). Each drop is counted in
    /// `stats()`; the message names each exporter and its last reason. Reported once: the next
    /// flush only reports later drops.
    #[error("{dropped} item(s) were dropped instead of delivered: {message}")]
    Dropped {
        /// How many items were dropped since the last flush, over all exporters.
        dropped: u64,
        /// Which exporters dropped them, and why.
        message: String,
    },
    /// One or more processors or exporters failed; the messages say which and why.
    #[error("{0}")]
    Failed(String),
}

/// Why an export failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A failure that may pass (connection refused, timeout, HTTP 408/429/5xx): retried with
    /// backoff. `retry_after` carries the server's `Retry-After`.
    #[error("temporary export failure: {message}")]
    Transient {
        /// What happened.
        message: String,
        /// How long the server asked us to wait.
        retry_after: Option<Duration>,
    },
    /// A failure that retrying cannot fix (HTTP 4xx other than 408/429, a bad configuration):
    /// the batch is given up and counted.
    #[error("export rejected: {0}")]
    Permanent(String),
}

impl ExportError {
    /// A transient error without `Retry-After`.
    ///
    /// ```
    /// assert!(agent_trace::ExportError::transient("connection refused").is_retryable());
    /// ```
    pub fn transient(message: impl Into<String>) -> Self {
        ExportError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    /// A permanent error.
    ///
    /// ```
    /// assert!(!agent_trace::ExportError::permanent("400 bad request").is_retryable());
    /// ```
    pub fn permanent(message: impl Into<String>) -> Self {
        ExportError::Permanent(message.into())
    }

    /// Classifies an HTTP status: 408, 429 and 5xx except 501 are transient, the rest permanent.
    ///
    /// ```
    /// use agent_trace::ExportError;
    /// assert!(ExportError::from_http_status(503, "x", None).is_retryable());
    /// assert!(!ExportError::from_http_status(501, "x", None).is_retryable());
    /// assert!(!ExportError::from_http_status(400, "x", None).is_retryable());
    /// ```
    pub fn from_http_status(status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let message = format!(
            "HTTP {status}: {}",
            body.chars().take(300).collect::<String>()
        );
        match status {
            408 | 429 => ExportError::Transient {
                message,
                retry_after,
            },
            501 => ExportError::Permanent(message),
            500..=599 => ExportError::Transient {
                message,
                retry_after,
            },
            _ => ExportError::Permanent(message),
        }
    }

    /// Whether trying again can help.
    ///
    /// ```
    /// assert!(agent_trace::ExportError::transient("x").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, ExportError::Transient { .. })
    }
}

/// Sees traces and spans as they start and end.
///
/// The `on_*` methods run on the instrumented code's thread, inside its span calls: they must be
/// cheap and must not block (hand work to a queue, as [`BatchProcessor`](crate::BatchProcessor)
/// does). A processor that panics is isolated: the panic is caught and counted, the other
/// processors and the caller go on.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use agent_trace::{SpanRecord, TracingProcessor};
///
/// #[derive(Default)]
/// struct CountSpans(AtomicU64);
///
/// impl TracingProcessor for CountSpans {
///     fn on_span_end(&self, _span: &SpanRecord) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// ```
pub trait TracingProcessor: Send + Sync + 'static {
    /// A trace started.
    fn on_trace_start(&self, trace: &TraceRecord) {
        let _ = trace;
    }

    /// A trace ended (`ended_at` is set).
    fn on_trace_end(&self, trace: &TraceRecord) {
        let _ = trace;
    }

    /// A span started (`ended_at` is `None`). Only called when
    /// [`wants_span_start`](TracingProcessor::wants_span_start) is true.
    fn on_span_start(&self, span: &SpanRecord) {
        let _ = span;
    }

    /// A span ended.
    fn on_span_end(&self, span: &SpanRecord);

    /// A span ended, and this processor is the last to see it: it may take the record out of
    /// `slot` (`slot.take()`) instead of cloning it — what a queueing processor wants. The
    /// default calls [`on_span_end`](TracingProcessor::on_span_end) with the record in place.
    fn on_span_end_last(&self, slot: &mut Option<SpanRecord>) {
        if let Some(span) = slot.as_ref() {
            self.on_span_end(span);
        }
    }

    /// Whether [`on_span_start`](TracingProcessor::on_span_start) should be called; a processor
    /// that only looks at finished spans returns false and saves a call per span.
    fn wants_span_start(&self) -> bool {
        true
    }

    /// Internal: the built-in [`BatchProcessor`](crate::BatchProcessor), which a provider
    /// whose only processor it is calls directly (no virtual call and no panic guard per span:
    /// it does not panic). Other processors keep the default.
    #[cfg(feature = "pipeline")]
    #[doc(hidden)]
    fn __as_batch_processor(&self) -> Option<&crate::BatchProcessor> {
        None
    }

    /// Exports everything received so far; resolves once it is exported or accounted for.
    fn force_flush(&self) -> BoxFuture<'_, Result<(), TraceError>> {
        Box::pin(async { Ok(()) })
    }

    /// [`force_flush`](TracingProcessor::force_flush) for sync code (drop guards, panic hooks,
    /// sync `main`): blocks the calling thread up to `timeout`, and must not need the caller's
    /// runtime to make progress. The default does nothing (right for processors that buffer
    /// nothing).
    fn force_flush_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        let _ = timeout;
        Ok(())
    }

    /// [`shutdown`](TracingProcessor::shutdown) for sync code; see
    /// [`force_flush_blocking`](TracingProcessor::force_flush_blocking).
    fn shutdown_blocking(&self, timeout: Duration) -> Result<(), TraceError> {
        self.force_flush_blocking(timeout)
    }

    /// The last reference to a provider holding this processor was dropped: by default, shut
    /// down (blocking up to `timeout`). A processor that other providers or code may still use
    /// should only flush here while they do — the [`BatchProcessor`](crate::BatchProcessor)
    /// shuts down only when the dropped provider held its last handle.
    fn on_provider_drop(&self, timeout: Duration) -> Result<(), TraceError> {
        self.shutdown_blocking(timeout)
    }

    /// Flushes and releases resources; later spans are ignored (and counted, where the
    /// processor keeps counts).
    fn shutdown(&self, timeout: Duration) -> BoxFuture<'_, Result<(), TraceError>> {
        let _ = timeout;
        self.force_flush()
    }
}

/// Sends batches of finished traces and spans to a destination.
///
/// Each exporter runs on a thread of the batch processor's own, never on the application's nor
/// on another exporter's: an export may take its time (it is bounded by the processor's export
/// timeout) and even block its thread without holding up the other exporters. Retrying is the
/// processor's job: return [`ExportError::Transient`] for failures worth retrying.
///
/// ```
/// use agent_trace::{BoxFuture, ExportError, ExportItem, TracingExporter};
///
/// struct Discard;
///
/// impl TracingExporter for Discard {
///     fn name(&self) -> &str { "discard" }
///     fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
///         Box::pin(async move { let _ = batch.len(); Ok(()) })
///     }
/// }
/// ```
pub trait TracingExporter: Send + Sync + 'static {
    /// A short name for logs and stats (`"console"`, `"jsonl"`, `"otlp"`).
    fn name(&self) -> &str;

    /// Exports one batch. The same batch may be offered again after a transient error.
    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>>;

    /// Removes from `item` what this exporter never sends (prompts and tool results it is told
    /// to leave out, audio). The batch processor calls it before it writes an item the exporter
    /// could not deliver to its on-disk spool, so the disk never holds more than the wire
    /// would; the item read back is what [`export`](TracingExporter::export) gets on replay.
    /// The default keeps the item as it is.
    fn redact_for_spool(&self, item: &mut ExportItem) {
        let _ = item;
    }

    /// Makes exported data durable (fsync a file, flush a socket).
    fn force_flush(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async { Ok(()) })
    }

    /// Releases resources (connections, files).
    fn shutdown(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        self.force_flush()
    }
}

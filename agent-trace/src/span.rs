//! Live spans: [`Span`], how one starts at the current position, enters its scope and ends.
//! (The kind constructors are in `kinds.rs`, [`current_span`](crate::current_span) in
//! `current.rs`, the recording methods in `recording.rs`.)

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use serde::Serialize;
use serde_json::Value;

use crate::clock::Timestamp;
use crate::context::{current_position, Active, Enter};
use crate::id::{SpanId, TraceId};
use crate::model::*;
use crate::provider::ProviderRef;
use crate::slot::Slot;
use crate::Context;
use crate::Record;

/// A span that is running. It ends when [`end`](Span::end) is called or when it is dropped,
/// and is then handed to the provider's processors.
///
/// A span made when no trace is current (or tracing is off) records nothing and costs
/// almost nothing; every method works on it and does nothing.
///
/// ```
/// use agent_trace::{testing::CollectingProcessor, TracerProvider, Instrument};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let spans = CollectingProcessor::new();
/// let provider = TracerProvider::builder().with_processor(spans.clone()).build();
/// provider.trace("wf").run(async {
///     let span = agent_trace::custom_span("fetch-docs").with_attribute("source", "wiki");
///     async { /* fetch */ }.in_span(span).await;
/// }).await;
/// assert_eq!(spans.spans()[0].data.name(), Some("fetch-docs"));
/// # }
/// ```
#[must_use = "a span ends as soon as it is dropped; pass it to .in_span() or .in_scope()"]
pub struct Span {
    /// The record and provider while the span runs (see [`Slot`]); `None` for a span that
    /// records nothing, or once ended. The record stays in place until the end, when the last
    /// processor moves it out.
    slot: Option<Box<Slot>>,
}

impl std::fmt::Debug for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record() {
            Some(r) => f
                .debug_struct("Span")
                .field("id", &r.id)
                .field("kind", &r.data.kind())
                .finish(),
            None => f.write_str("Span(none)"),
        }
    }
}

impl Span {
    /// A span with `data` under the current span (or at the root of the current trace).
    ///
    /// ```
    /// let span = agent_trace::Span::new(agent_trace::SpanData::custom("x"));
    /// assert!(!span.is_recording()); // no trace is current here
    /// ```
    #[inline]
    pub fn new(data: SpanData) -> Span {
        Span::start_with(|| data)
    }

    /// A span with `data` at the given position instead of the current one.
    ///
    /// ```
    /// let cx = agent_trace::Context::current();
    /// let span = agent_trace::Span::with_parent(cx, agent_trace::SpanData::custom("x"));
    /// # drop(span);
    /// ```
    pub fn with_parent(parent: Context, data: SpanData) -> Span {
        if !crate::provider::is_enabled() {
            return Span::none();
        }
        Span::start_at(parent.active.as_ref(), || data)
    }

    /// A span that records nothing.
    ///
    /// ```
    /// assert!(!agent_trace::Span::none().is_recording());
    /// ```
    #[inline]
    pub const fn none() -> Span {
        Span { slot: None }
    }

    /// The record, while the span records.
    #[inline]
    pub(crate) fn record(&self) -> Option<&SpanRecord> {
        self.slot.as_ref().and_then(|s| s.record.as_ref())
    }

    /// The record, while the span records. Its address stays the same until the span ends.
    #[inline]
    pub(crate) fn record_slot_mut(&mut self) -> Option<&mut SpanRecord> {
        self.slot.as_mut().and_then(|s| s.record.as_mut())
    }

    /// The provider, while the span records.
    #[inline]
    pub(crate) fn provider(&self) -> Option<&ProviderRef> {
        self.slot.as_ref().and_then(|s| s.provider.as_ref())
    }

    /// The two checks that make most spans no-ops (the global switch; no sampled trace
    /// current) are inlined into the caller: such a span costs a load and a thread-local read,
    /// with no call. Recording is out of line.
    #[inline(always)]
    pub(crate) fn start_with(make: impl FnOnce() -> SpanData) -> Span {
        // The global switch first: switched off, no thread-local is touched.
        if !crate::provider::switch_read_on() || !crate::context::current_may_record() {
            return Span::none();
        }
        Span::start_here(make)
    }

    #[inline(never)]
    fn start_here(make: impl FnOnce() -> SpanData) -> Span {
        // Only the position is read inside the thread-local access; the record is built and
        // the processors are called outside it.
        Span::start_recording(current_position(), make)
    }

    #[inline]
    fn start_at(active: Option<&Active>, make: impl FnOnce() -> SpanData) -> Span {
        Span::start_recording(active.and_then(Active::position), make)
    }

    #[inline]
    fn start_recording(
        at: Option<(ProviderRef, TraceId, Option<SpanId>)>,
        make: impl FnOnce() -> SpanData,
    ) -> Span {
        let Some((provider, trace_id, parent_id)) = at else {
            return Span::none();
        };
        if provider.has_span_filter() {
            let data = make();
            // Selective tracing: a dropped span is a no-op span, so its children attach to the
            // position that is current now (the nearest kept ancestor).
            if !provider.keeps_span(&data) {
                return Span::none();
            }
            return Span::filled(provider, trace_id, parent_id, move || data);
        }
        Span::filled(provider, trace_id, parent_id, make)
    }

    /// A recording span whose record is built in its slot (the data too, where no filter
    /// looked at it first), not built and then moved there.
    #[inline(always)]
    fn filled(
        provider: ProviderRef,
        trace_id: TraceId,
        parent_id: Option<SpanId>,
        make: impl FnOnce() -> SpanData,
    ) -> Span {
        let listened = provider.has_start_listeners();
        let mut slot = Slot::take();
        // A struct literal, not `SpanRecord::new`: through the constructor the record is built
        // on the stack and copied into the slot (callgrind: 545 -> 614 instructions a span).
        slot.fill(
            SpanRecord {
                id: SpanId::random(),
                trace_id,
                parent_id,
                started_at: Timestamp::now(),
                ended_at: None,
                data: make(),
                error: None,
                links: Vec::new(),
            },
            provider,
        );
        let span = Span { slot: Some(slot) };
        if listened {
            span.start_listened();
        }
        span
    }

    /// Shows a span whose provider has `on_span_start` listeners to them.
    #[cold]
    #[inline(never)]
    fn start_listened(&self) {
        if let (Some(record), Some(provider)) = (self.record(), self.provider()) {
            provider.span_start(record);
        }
    }

    /// Whether this span records (a trace was current and tracing is on).
    ///
    /// ```
    /// assert!(!agent_trace::custom_span("x").is_recording());
    /// ```
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.slot.is_some()
    }

    /// This span's id.
    ///
    /// ```
    /// assert!(agent_trace::custom_span("x").id().is_none());
    /// ```
    pub fn id(&self) -> Option<SpanId> {
        self.record().map(|r| r.id)
    }

    /// This span's trace.
    ///
    /// ```
    /// assert!(agent_trace::custom_span("x").trace_id().is_none());
    /// ```
    pub fn trace_id(&self) -> Option<TraceId> {
        self.record().map(|r| r.trace_id)
    }

    /// The position under this span, to start children elsewhere (another thread, a callback).
    ///
    /// ```
    /// let span = agent_trace::custom_span("x");
    /// assert!(span.context().span_id().is_none());
    /// ```
    pub fn context(&self) -> Context {
        Context {
            active: self.active(),
        }
    }

    /// The position under this span.
    #[inline]
    pub(crate) fn active(&self) -> Option<Active> {
        match (self.record(), self.provider()) {
            (Some(r), Some(provider)) => Some(Active {
                provider: provider.clone(),
                trace_id: r.trace_id,
                span_id: Some(r.id),
                sampled: true,
            }),
            _ => None,
        }
    }

    /// Sets a field of a custom span's data.
    ///
    /// ```
    /// let span = agent_trace::custom_span("cache").with_attribute("hit", true);
    /// # drop(span);
    /// ```
    pub fn with_attribute<T: Serialize>(mut self, key: &str, value: T) -> Span {
        self.record_mut(|r| r.put_attribute(key, to_value(&value)));
        self
    }

    /// Sets the model (generation, transcription, speech).
    ///
    /// ```
    /// let span = agent_trace::generation_span().with_model("gpt-4o-mini");
    /// # drop(span);
    /// ```
    pub fn with_model(mut self, model: impl Into<Name>) -> Span {
        self.record_mut(|r| r.put_model(model));
        self
    }

    /// Sets an agent span's tools.
    ///
    /// ```
    /// let span = agent_trace::agent_span("triage").with_tools(&["lookup_invoice"]);
    /// # drop(span);
    /// ```
    pub fn with_tools(mut self, tools: &'static [&'static str]) -> Span {
        self.record_mut(|r| {
            if let SpanData::Agent(a) = &mut r.data {
                a.tools = Some(static_list(tools));
            }
        });
        self
    }

    /// Sets an agent span's possible hand-off targets.
    ///
    /// ```
    /// let span = agent_trace::agent_span("triage").with_handoffs(&["billing"]);
    /// # drop(span);
    /// ```
    pub fn with_handoffs(mut self, handoffs: &'static [&'static str]) -> Span {
        self.record_mut(|r| {
            if let SpanData::Agent(a) = &mut r.data {
                a.handoffs = Some(static_list(handoffs));
            }
        });
        self
    }

    /// Links this span to another span.
    ///
    /// ```
    /// use agent_trace::{SpanId, TraceId};
    /// let span = agent_trace::custom_span("x").with_link(TraceId::random(), SpanId::random());
    /// # drop(span);
    /// ```
    pub fn with_link(mut self, trace_id: TraceId, span_id: SpanId) -> Span {
        self.record_mut(|r| {
            r.links.push(SpanLink {
                trace_id,
                span_id,
                attributes: Default::default(),
            })
        });
        self
    }

    /// Runs `f` with this span current, then ends the span. A panic in `f` is recorded as the
    /// span's error and resumed.
    ///
    /// ```
    /// let n = agent_trace::custom_span("sum").in_scope(|| 1 + 2);
    /// assert_eq!(n, 3);
    /// ```
    #[inline]
    pub fn in_scope<R>(self, f: impl FnOnce() -> R) -> R {
        crate::__private::traced_sync(self, f, |_, _| {})
    }

    /// Runs `f` with this span current without ending it.
    pub(crate) fn enter_for<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let active = self.active();
        let Some(record) = self.record_slot_mut() else {
            return f();
        };
        let _enter = Enter::new(active, record as *mut SpanRecord);
        f()
    }

    /// Like [`enter_for`], recording a panic as the span's error before resuming it.
    pub(crate) fn enter_catching<R>(&mut self, f: impl FnOnce() -> R) -> R {
        match catch_unwind(AssertUnwindSafe(|| self.enter_for(f))) {
            Ok(r) => r,
            Err(payload) => {
                self.record_mut(|r| r.put_error(panic_error(&*payload)));
                self.end_now();
                resume_unwind(payload)
            }
        }
    }

    /// Ends the span now.
    ///
    /// ```
    /// agent_trace::custom_span("x").end();
    /// ```
    pub fn end(mut self) {
        self.end_now();
    }

    #[inline]
    pub(crate) fn end_now(&mut self) {
        if let Some(slot) = self.slot.take() {
            Span::end_slot(slot);
        }
    }

    /// Out of line, so a span's drop is a null check where it is dropped.
    #[inline(never)]
    fn end_slot(mut slot: Box<Slot>) {
        if let (Some(record), Some(provider)) = (&mut slot.record, slot.provider.take()) {
            record.ended_at = Some(Timestamp::now());
            // The last processor takes the record out of the slot, without a copy on the way.
            provider.span_end(&mut slot.record);
        }
        Slot::recycle(slot);
    }
}

impl Drop for Span {
    #[inline]
    fn drop(&mut self) {
        self.end_now();
    }
}

fn static_list(items: &'static [&'static str]) -> NameList {
    items
        .iter()
        .map(|s| Name::Borrowed(*s))
        .collect::<Vec<_>>()
        .into()
}

pub(crate) fn panic_error(payload: &(dyn std::any::Any + Send)) -> SpanError {
    SpanError {
        message: format!("panicked: {}", crate::panic_message(payload)),
        data: None,
    }
}

pub(crate) fn to_value<T: Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| Value::String(format!("<unserializable: {e}>")))
}

//! Starting traces: [`trace`], [`TraceBuilder`], and the running [`Trace`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project::{pin_project, pinned_drop};
use serde_json::{Map, Value};

use crate::clock::Timestamp;
use crate::context::Active;
use crate::id::{SpanId, TraceId};
use crate::model::{Name, TraceRecord};
use crate::provider::{global_provider, TracerProvider};
use crate::Context;

/// Starts describing a trace on the global provider.
///
/// Without a global provider, or with tracing off, the trace and everything in it are no-ops.
///
/// ```
/// # async fn triage(_: &str) {}
/// # async fn demo() {
/// agent_trace::trace("customer-support")
///     .group_id("thread-42")
///     .metadata("tier", "gold")
///     .run(async { triage("where is my refund?").await })
///     .await;
/// # }
/// ```
pub fn trace(workflow_name: impl Into<Name>) -> TraceBuilder {
    match global_provider() {
        Some(provider) => provider.trace(workflow_name),
        None => {
            crate::diag::warn_no_global_provider();
            TraceBuilder::with_provider(None, workflow_name.into())
        }
    }
}

impl TracerProvider {
    /// Starts describing a trace on this provider (rather than the global one).
    ///
    /// ```
    /// # async fn demo() {
    /// let p = agent_trace::TracerProvider::builder().build();
    /// p.trace("nightly-report").run(async { /* ... */ }).await;
    /// # }
    /// ```
    pub fn trace(&self, workflow_name: impl Into<Name>) -> TraceBuilder {
        TraceBuilder::with_provider(Some(self.clone()), workflow_name.into())
    }
}

/// Describes a trace before it starts. Made by [`trace`] or [`TracerProvider::trace`].
#[must_use = "a trace starts with .run(), .in_scope() or .start()"]
#[derive(Debug)]
pub struct TraceBuilder {
    provider: Option<TracerProvider>,
    record: TraceRecord,
    parent_sampled: Option<bool>,
}

impl TraceBuilder {
    fn with_provider(provider: Option<TracerProvider>, workflow_name: Name) -> Self {
        TraceBuilder {
            provider,
            record: TraceRecord {
                id: TraceId::random(),
                workflow_name,
                group_id: None,
                metadata: None,
                started_at: None,
                ended_at: None,
            },
            parent_sampled: None,
        }
    }

    /// Groups this trace with others of the same conversation or session.
    ///
    /// ```
    /// let t = agent_trace::trace("wf").group_id("thread-42");
    /// # drop(t);
    /// ```
    pub fn group_id(mut self, group_id: impl Into<String>) -> Self {
        self.record.group_id = Some(group_id.into());
        self
    }

    /// Adds a metadata entry.
    ///
    /// ```
    /// let t = agent_trace::trace("wf").metadata("tier", "gold").metadata("attempt", 2);
    /// # drop(t);
    /// ```
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.record
            .metadata
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// Uses a given trace id (to continue a trace started elsewhere) instead of a random one.
    ///
    /// ```
    /// let id = agent_trace::TraceId::random();
    /// let t = agent_trace::trace("wf").trace_id(id);
    /// # drop(t);
    /// ```
    pub fn trace_id(mut self, id: TraceId) -> Self {
        self.record.id = id;
        self
    }

    /// The remote caller's sampling decision, when this trace continues one (with
    /// [`trace_id`](TraceBuilder::trace_id)): a parent-based sampler (the default) follows it.
    ///
    /// ```
    /// let t = agent_trace::trace("wf").parent_sampled(false);
    /// # drop(t);
    /// ```
    pub fn parent_sampled(mut self, sampled: bool) -> Self {
        self.parent_sampled = Some(sampled);
        self
    }

    /// Starts the trace now. It ends when the returned [`Trace`] is ended or dropped.
    ///
    /// The provider's head sampler decides here whether the trace is recorded; a trace not
    /// sampled reaches no processor, and its spans record nothing.
    ///
    /// ```
    /// let t = agent_trace::trace("wf").start();
    /// t.end();
    /// ```
    pub fn start(self) -> Trace {
        let provider = self.provider.filter(|p| p.is_enabled());
        let Some(provider) = provider else {
            return Trace {
                state: None,
                not_sampled: None,
            };
        };
        let mut record = self.record;
        let params = crate::sampling::SamplingParams {
            trace_id: record.id,
            workflow_name: &record.workflow_name,
            metadata: record.metadata.as_ref(),
            parent_sampled: self.parent_sampled,
        };
        if !provider.inner.head_sample(&params) {
            return Trace {
                state: Some((provider, record)),
                not_sampled: Some(SpanId::random()),
            };
        }
        record.started_at = Some(Timestamp::now());
        provider.inner.trace_start(&record);
        Trace {
            state: Some((provider, record)),
            not_sampled: None,
        }
    }

    /// Runs `fut` as this trace: it is the current trace on every poll of `fut`, and the trace
    /// ends when `fut` completes or is dropped.
    ///
    /// ```
    /// # async fn demo() {
    /// let n = agent_trace::trace("wf").run(async { 1 }).await;
    /// assert_eq!(n, 1);
    /// # }
    /// ```
    pub fn run<F: Future>(self, fut: F) -> TraceFuture<F> {
        TraceFuture {
            fut: Some(fut),
            trace: self.start(),
        }
    }

    /// Runs `f` as this trace.
    ///
    /// ```
    /// let n = agent_trace::trace("wf").in_scope(|| 1);
    /// assert_eq!(n, 1);
    /// ```
    pub fn in_scope<R>(self, f: impl FnOnce() -> R) -> R {
        let t = self.start();
        let r = t.context().run(f);
        t.end();
        r
    }
}

/// A running trace. It ends when [`end`](Trace::end) is called or when it is dropped.
#[derive(Debug)]
pub struct Trace {
    state: Option<(TracerProvider, TraceRecord)>,
    /// Set when the head sampler dropped the trace: a placeholder span id (never recorded) for
    /// its context, so an outgoing `traceparent` can carry the not-sampled decision.
    not_sampled: Option<SpanId>,
}

impl Trace {
    /// The trace's id (`None` when tracing is off; a trace the head sampler dropped keeps its
    /// id, which its outgoing `traceparent` carries with the not-sampled flag).
    ///
    /// ```
    /// let t = agent_trace::trace("wf").start();
    /// let _id = t.id();
    /// ```
    pub fn id(&self) -> Option<TraceId> {
        self.state.as_ref().map(|(_, r)| r.id)
    }

    /// Whether the trace is recorded (tracing on and the head sampler kept it).
    ///
    /// ```
    /// let t = agent_trace::trace("wf").start();
    /// assert!(!t.is_sampled()); // no global provider in this example
    /// ```
    pub fn is_sampled(&self) -> bool {
        self.state.is_some() && self.not_sampled.is_none()
    }

    /// The position at the root of this trace: attach it, or run futures in it with
    /// [`Instrument::in_context`](crate::Instrument::in_context).
    ///
    /// ```
    /// let t = agent_trace::trace("wf").start();
    /// t.context().run(|| { /* spans here belong to t */ });
    /// ```
    pub fn context(&self) -> Context {
        Context {
            active: self.state.as_ref().map(|(p, r)| Active {
                provider: p.inner.clone(),
                trace_id: r.id,
                span_id: self.not_sampled,
                sampled: self.not_sampled.is_none(),
            }),
        }
    }

    /// Ends the trace now.
    ///
    /// ```
    /// agent_trace::trace("wf").start().end();
    /// ```
    pub fn end(mut self) {
        self.end_now();
    }

    fn end_now(&mut self) {
        if let Some((provider, mut record)) = self.state.take() {
            if self.not_sampled.is_some() {
                return;
            }
            record.ended_at = Some(Timestamp::now());
            provider.inner.trace_end(&record);
        }
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        self.end_now();
    }
}

/// A future running as a trace; see [`TraceBuilder::run`].
#[pin_project(PinnedDrop)]
pub struct TraceFuture<F> {
    #[pin]
    fut: Option<F>,
    trace: Trace,
}

impl<F> std::fmt::Debug for TraceFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFuture")
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for TraceFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            panic!("agent_trace::TraceFuture polled after it completed");
        };
        let out = {
            let _g = this.trace.context().attach();
            fut.poll(cx)
        };
        if out.is_ready() {
            this.fut.set(None);
            this.trace.end_now();
        }
        out
    }
}

#[pinned_drop]
impl<F> PinnedDrop for TraceFuture<F> {
    fn drop(self: Pin<&mut Self>) {
        let this = self.project();
        if this.fut.is_some() {
            let _g = this.trace.context().attach();
            let mut fut = this.fut;
            fut.set(None);
        }
    }
}

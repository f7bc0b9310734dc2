//! [`AgentProfiler`]: profiles a future (one agent run, or many requests through the same agent)
//! and reports the seed's metrics — requests, tokens, time per request — per agent and overall,
//! computed from the spans the run produced.
//!
//! The profiler is a [`TracingProcessor`]: install it on the provider once, then wrap the work
//! to measure in [`AgentProfiler::profile`]. What belongs to a run: every trace started while the
//! profiled future is polled (with all its spans, also those of tasks it spawned with
//! `agent_trace::spawn`), and, when the future runs inside a trace that began outside it, every
//! span started while it is polled and their descendants. Runs that overlap on one runtime —
//! concurrent `profile` calls, or a `profile` inside another — each get their own spans (an inner
//! run's spans are not in the outer's).
//!
//! ```
//! use agent_trace::{traced, current_span, Record, TracerProvider, Usage};
//! use agent_trace_toolkit::profiler::AgentProfiler;
//!
//! #[traced(kind = "agent")]
//! async fn triage(q: &str) -> String { model(q).await }
//!
//! #[traced(kind = "generation", model = "gpt-4o-mini")]
//! async fn model(q: &str) -> String {
//!     current_span().record_usage(Usage::tokens(10, 5));
//!     q.to_uppercase()
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let profiler = AgentProfiler::new();
//! let provider = TracerProvider::builder().with_processor(profiler.clone()).build();
//! let (answers, report) = profiler
//!     .profile(async {
//!         let mut out = Vec::new();
//!         for q in ["hi", "there"] {
//!             out.push(provider.trace("chat").run(triage(q)).await);
//!         }
//!         out
//!     })
//!     .await;
//! assert_eq!(answers, ["HI", "THERE"]);
//! assert_eq!(report.overall.total_requests, 2);
//! assert_eq!(report.overall.total_tokens, 30);
//! assert_eq!(report.agent("triage").unwrap().max_tokens, 15);
//! println!("{report}");
//! # }
//! ```

mod report;

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use agent_trace::{SpanId, SpanRecord, TraceId, TraceRecord, TracingProcessor};

pub use report::{AgentProfile, ProfileMetrics, ProfileReport};

thread_local! {
    /// The run whose future is being polled on this thread.
    static CURRENT_RUN: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Profiles futures from the spans they produce; clone it to keep a handle after installing it
/// on a provider. With no profiled run in flight a span costs it one atomic load.
#[derive(Clone, Debug, Default)]
pub struct AgentProfiler {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    active: AtomicUsize,
    next_run: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    runs: HashMap<u64, Run>,
    /// Traces started inside a run.
    traces: HashMap<TraceId, u64>,
    /// Spans started inside a run (or under such a span) in a trace that began outside it.
    spans: HashMap<SpanId, u64>,
}

/// What one run collected.
#[derive(Debug, Default)]
pub(crate) struct Run {
    pub(crate) traces: HashMap<TraceId, TraceRecord>,
    pub(crate) spans: Vec<SpanRecord>,
    /// Spans started directly in the run (not under another span of it), for runs inside a
    /// trace that began outside.
    pub(crate) roots: HashSet<SpanId>,
}

impl AgentProfiler {
    /// A profiler with no run in flight.
    pub fn new() -> Self {
        AgentProfiler::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `fut` and returns its output with a report of the spans it produced. Install the
    /// profiler on the provider the traced code uses first (with no span the report is empty).
    /// Dropping the returned future before it completes forgets the run.
    pub async fn profile<F: Future>(&self, fut: F) -> (F::Output, ProfileReport) {
        let id = self.inner.next_run.fetch_add(1, Ordering::Relaxed);
        self.lock().runs.insert(id, Run::default());
        self.inner.active.fetch_add(1, Ordering::Relaxed);
        let guard = RunGuard { profiler: self, id };
        let mut fut = std::pin::pin!(fut);
        let output = std::future::poll_fn(|cx| {
            let previous = CURRENT_RUN.with(|c| c.replace(Some(id)));
            let r = fut.as_mut().poll(cx);
            CURRENT_RUN.with(|c| c.set(previous));
            match r {
                Poll::Ready(v) => Poll::Ready(v),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        let run = guard.finish();
        (output, report::compute(&run))
    }

    fn current_run(&self) -> Option<u64> {
        if self.inner.active.load(Ordering::Relaxed) == 0 {
            return None;
        }
        CURRENT_RUN.with(Cell::get)
    }
}

/// Removes a run when its future completes or is dropped.
struct RunGuard<'a> {
    profiler: &'a AgentProfiler,
    id: u64,
}

impl RunGuard<'_> {
    fn finish(self) -> Run {
        let run = self.remove();
        std::mem::forget(self);
        run
    }

    fn remove(&self) -> Run {
        let mut st = self.profiler.lock();
        let run = st.runs.remove(&self.id).unwrap_or_default();
        let id = self.id;
        st.traces.retain(|_, r| *r != id);
        st.spans.retain(|_, r| *r != id);
        drop(st);
        self.profiler.inner.active.fetch_sub(1, Ordering::Relaxed);
        run
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.remove();
    }
}

impl TracingProcessor for AgentProfiler {
    fn on_trace_start(&self, trace: &TraceRecord) {
        let Some(run) = self.current_run() else {
            return;
        };
        let mut st = self.lock();
        if let Some(r) = st.runs.get_mut(&run) {
            r.traces.insert(trace.id, trace.clone());
            st.traces.insert(trace.id, run);
        }
    }

    fn on_trace_end(&self, trace: &TraceRecord) {
        if self.inner.active.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut st = self.lock();
        let Some(&run) = st.traces.get(&trace.id) else {
            return;
        };
        if let Some(r) = st.runs.get_mut(&run) {
            r.traces.insert(trace.id, trace.clone());
        }
    }

    fn on_span_start(&self, span: &SpanRecord) {
        if self.inner.active.load(Ordering::Relaxed) == 0 {
            return;
        }
        let here = CURRENT_RUN.with(Cell::get);
        let mut st = self.lock();
        let trace_run = st.traces.get(&span.trace_id).copied();
        let parent_run = span.parent_id.and_then(|p| st.spans.get(&p).copied());
        let (run, root) = match (parent_run, here) {
            // Under a span of a run: that run's, even when polled by another (a spawned task).
            (Some(r), _) => (r, false),
            // Started by a run in a trace that is not that run's own (begun outside it, or by
            // an enclosing run): claimed by the innermost run.
            (None, Some(r)) if trace_run != Some(r) => (r, true),
            _ => return, // no run, or collected with its trace
        };
        if let Some(r) = st.runs.get_mut(&run) {
            if root {
                r.roots.insert(span.id);
            }
            st.spans.insert(span.id, run);
        }
    }

    fn on_span_end(&self, span: &SpanRecord) {
        if self.inner.active.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut st = self.lock();
        let run = st
            .spans
            .get(&span.id)
            .or_else(|| st.traces.get(&span.trace_id))
            .copied();
        if let Some(r) = run.and_then(|run| st.runs.get_mut(&run)) {
            r.spans.push(span.clone());
        }
    }
}

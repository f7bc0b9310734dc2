//! How spans end: completion, cancellation, panic, errors; processor isolation; the off switch.

mod common;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use agent_trace::testing::CollectingProcessor;
use agent_trace::Record;
use agent_trace::{custom_span, Instrument, SpanRecord, TracerProvider, TracingProcessor};
use common::{by_name, collecting};
use futures::FutureExt;

#[tokio::test(flavor = "current_thread")]
async fn dropped_future_ends_its_span_as_cancelled() {
    let (provider, seen) = collecting();
    provider
        .trace("wf")
        .run(async {
            let fut = std::future::pending::<()>().in_span(custom_span("stuck"));
            let mut fut = Box::pin(fut);
            assert!(futures::poll!(&mut fut).is_pending());
            drop(fut);
        })
        .await;
    let spans = by_name(&seen.spans());
    assert_eq!(spans["stuck"].error.as_ref().unwrap().message, "cancelled");
    assert!(spans["stuck"].ended_at.is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn panic_is_recorded_and_resumed() {
    let (provider, seen) = collecting();
    let caught = provider
        .trace("wf")
        .run(async {
            AssertUnwindSafe(
                async {
                    panic!("tool exploded");
                }
                .in_span(custom_span("boom")),
            )
            .catch_unwind()
            .await
        })
        .await;
    assert!(caught.is_err(), "the panic must go on");
    let spans = by_name(&seen.spans());
    let msg = &spans["boom"].error.as_ref().unwrap().message;
    assert!(msg.contains("tool exploded"), "{msg}");
}

#[test]
fn sync_panic_is_recorded_and_resumed() {
    let (provider, seen) = collecting();
    let r = std::panic::catch_unwind(|| {
        provider
            .trace("wf")
            .in_scope(|| custom_span("sync-boom").in_scope(|| panic!("bad input")))
    });
    assert!(r.is_err());
    let spans = by_name(&seen.spans());
    assert!(spans["sync-boom"]
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("bad input"));
    assert_eq!(seen.traces().len(), 1, "the trace ended while unwinding");
}

struct Panicky;
impl TracingProcessor for Panicky {
    fn on_span_end(&self, _: &SpanRecord) {
        panic!("processor bug");
    }
    fn on_trace_start(&self, _: &agent_trace::TraceRecord) {
        panic!("processor bug at start");
    }
}

#[test]
fn a_panicking_processor_does_not_hurt_the_others() {
    let good = CollectingProcessor::new();
    // The panicking one is last, so it also receives the owned record.
    let provider = TracerProvider::builder()
        .with_processor(good.clone())
        .with_processor(Panicky)
        .build();
    let out = provider.trace("wf").in_scope(|| {
        custom_span("a").end();
        custom_span("b").in_scope(|| 7)
    });
    assert_eq!(out, 7);
    assert_eq!(good.spans().len(), 2);
    assert_eq!(good.traces().len(), 1);
    assert_eq!(provider.processor_panics(), 3);
}

#[derive(Clone, Default)]
struct Count(Arc<AtomicU64>);
impl TracingProcessor for Count {
    fn on_span_end(&self, _: &SpanRecord) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn a_disabled_provider_records_nothing_but_code_runs() {
    let count = Count::default();
    let provider = TracerProvider::builder()
        .with_processor(count.clone())
        .disabled()
        .build();
    let v = provider
        .trace("wf")
        .in_scope(|| custom_span("outer").in_scope(|| custom_span("inner").in_scope(|| 41) + 1));
    assert_eq!(v, 42);
    assert_eq!(count.0.load(Ordering::Relaxed), 0);
    provider.set_enabled(true);
    provider.trace("wf").in_scope(|| custom_span("x").end());
    assert_eq!(count.0.load(Ordering::Relaxed), 1);
}

#[test]
fn span_start_reaches_processors_that_want_it() {
    let (provider, seen) = collecting();
    provider.trace("wf").in_scope(|| custom_span("s").end());
    let started = seen.started_spans();
    assert_eq!(started.len(), 1);
    assert!(started[0].ended_at.is_none());
    assert_eq!(seen.started_traces().len(), 1);
    assert!(seen.traces()[0].ended_at.is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn trace_builder_fields_reach_processors() {
    let (provider, seen) = collecting();
    provider
        .trace("customer-support")
        .group_id("thread-42")
        .metadata("tier", "gold")
        .run(async {})
        .await;
    let t = &seen.traces()[0];
    assert_eq!(t.workflow_name, "customer-support");
    assert_eq!(t.group_id.as_deref(), Some("thread-42"));
    assert_eq!(t.metadata.as_ref().unwrap()["tier"], "gold");
}

struct Unserializable;
impl serde::Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("cannot serialize a socket"))
    }
}

#[test]
fn an_unserializable_value_becomes_a_marker_and_the_span_still_goes_out() {
    let (provider, seen) = collecting();
    provider.trace("wf").in_scope(|| {
        let mut span = agent_trace::function_span("tool");
        span.set_input(&Unserializable);
        span.set_output(&42);
        span.end();
    });
    let spans = by_name(&seen.spans());
    let agent_trace::SpanData::Function(f) = &spans["tool"].data else {
        panic!("function span expected")
    };
    assert!(f
        .input
        .as_deref()
        .unwrap()
        .contains("unserializable: cannot serialize a socket"));
    assert_eq!(f.output.as_deref(), Some("42"));
    let line = serde_json::to_string(&agent_trace::ExportItem::Span(spans["tool"].clone()));
    assert!(line.is_ok());
}

//! The current span follows code across .await, spawns, joins, selects and threads.

mod common;

use std::time::Duration;

use agent_trace::Record;
use agent_trace::{custom_span, Context, Instrument, SpanRecord};
use common::{assert_parent, by_name, collecting};
use futures::stream::{FuturesUnordered, StreamExt};

async fn leaf(name: &'static str, delay_ms: u64) {
    async {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    .in_span(custom_span(name))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_concurrent_traces_never_mix() {
    let (provider, seen) = collecting();
    let mut tasks = Vec::new();
    for i in 0..1000u64 {
        tasks.push(tokio::spawn(provider.trace(format!("wf-{i}")).run(
            async move {
                async move {
                    tokio::task::yield_now().await;
                    leaf("a", i % 3).await;
                    let child = agent_trace::spawn(async move {
                        tokio::task::yield_now().await;
                        leaf("spawned", 1).await;
                    });
                    child.await.unwrap();
                    let blocking = agent_trace::spawn_blocking(|| custom_span("blocking").end());
                    blocking.await.unwrap();
                }
                .in_span(custom_span("root"))
                .await;
            },
        )));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let spans = seen.spans();
    let traces = seen.traces();
    assert_eq!(traces.len(), 1000);
    assert_eq!(spans.len(), 4000);
    let mut per_trace: std::collections::HashMap<_, Vec<SpanRecord>> = Default::default();
    for s in spans {
        per_trace.entry(s.trace_id).or_default().push(s);
    }
    assert_eq!(per_trace.len(), 1000);
    for t in &traces {
        let spans = by_name(&per_trace[&t.id]);
        assert_eq!(spans.len(), 4, "trace {}", t.workflow_name);
        assert_parent(&spans, "root", None);
        assert_parent(&spans, "a", Some("root"));
        assert_parent(&spans, "spawned", Some("root"));
        assert_parent(&spans, "blocking", Some("root"));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn join_select_and_futures_unordered_keep_parents() {
    let (provider, seen) = collecting();
    provider
        .trace("wf")
        .run(async {
            async {
                futures::join!(leaf("j1", 3), leaf("j2", 1));
                // The loser never completes, so the outcome does not depend on timing.
                tokio::select! {
                    _ = leaf("s1", 1) => {}
                    _ = std::future::pending::<()>().in_span(custom_span("s2")) => {}
                }
                let mut set = FuturesUnordered::new();
                set.push(leaf("f1", 2));
                set.push(leaf("f2", 1));
                while set.next().await.is_some() {}
            }
            .in_span(custom_span("outer"))
            .await;
        })
        .await;
    let spans = by_name(&seen.spans());
    for name in ["j1", "j2", "s1", "s2", "f1", "f2"] {
        assert_parent(&spans, name, Some("outer"));
    }
    // The select! loser was dropped before completion.
    assert_eq!(spans["s2"].error.as_ref().unwrap().message, "cancelled");
    assert!(spans["s1"].error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tokio_spawn_with_wrapper_and_without() {
    let (provider, seen) = collecting();
    provider
        .trace("wf")
        .run(async {
            async {
                tokio::spawn(leaf("wrapped", 1).in_current_span())
                    .await
                    .unwrap();
                // Without the wrapper the task has no context: its span records nothing.
                tokio::spawn(leaf("unwrapped", 1)).await.unwrap();
            }
            .in_span(custom_span("outer"))
            .await;
        })
        .await;
    let spans = by_name(&seen.spans());
    assert_parent(&spans, "wrapped", Some("outer"));
    assert!(!spans.contains_key("unwrapped"));
}

#[test]
fn plain_threads_with_attach() {
    let (provider, seen) = collecting();
    provider.trace("wf").in_scope(|| {
        custom_span("parent").in_scope(|| {
            let cx = Context::current();
            std::thread::spawn(move || {
                let _g = cx.attach();
                custom_span("child").end();
            })
            .join()
            .unwrap();
        })
    });
    let spans = by_name(&seen.spans());
    assert_parent(&spans, "child", Some("parent"));
}

struct LogOnDrop;
impl Drop for LogOnDrop {
    fn drop(&mut self) {
        // tracing#2541: code run while an instrumented future is dropped sees its span.
        custom_span("in-drop").end();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn code_in_drop_sees_the_span() {
    let (provider, seen) = collecting();
    provider
        .trace("wf")
        .run(async {
            let fut = async {
                let _guard = LogOnDrop;
                std::future::pending::<()>().await;
            }
            .in_span(custom_span("owner"));
            let _ = tokio::time::timeout(Duration::from_millis(5), fut).await;
        })
        .await;
    let spans = by_name(&seen.spans());
    assert_parent(&spans, "in-drop", Some("owner"));
    assert_eq!(spans["owner"].error.as_ref().unwrap().message, "cancelled");
}

#[tokio::test(flavor = "current_thread")]
async fn current_span_reaches_the_running_span_only() {
    let (provider, seen) = collecting();
    provider
        .trace("wf")
        .run(async {
            async {
                assert!(agent_trace::current_span().is_recording());
                agent_trace::current_span().set_attribute("k", &1);
                // A spawned task shares the parent id but cannot change the parent's record.
                agent_trace::spawn(async {
                    assert!(agent_trace::current_span().id().is_some());
                    assert!(!agent_trace::current_span().is_recording());
                })
                .await
                .unwrap();
            }
            .in_span(custom_span("owner"))
            .await;
        })
        .await;
    let spans = by_name(&seen.spans());
    let agent_trace::SpanData::Custom(c) = &spans["owner"].data else {
        panic!("custom span expected")
    };
    assert_eq!(c.data["k"], 1);
}

#[test]
fn no_trace_no_spans_but_code_runs() {
    let (_provider, seen) = collecting();
    let n = custom_span("orphan").in_scope(|| 5);
    assert_eq!(n, 5);
    assert!(seen.spans().is_empty());
    assert!(!agent_trace::current_span().is_recording());
}

#[tokio::test(flavor = "current_thread")]
async fn remote_parent_from_traceparent() {
    let (provider, seen) = collecting();
    let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let cx = Context::from_traceparent(&provider, header).unwrap();
    let outgoing = async {
        leaf("handler", 1).await;
        Context::current().traceparent()
    }
    .in_context(cx)
    .await;
    let spans = by_name(&seen.spans());
    let handler = &spans["handler"];
    assert_eq!(
        handler.trace_id.to_hex(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(handler.parent_id.unwrap().to_hex(), "00f067aa0ba902b7");
    assert_eq!(outgoing.as_deref(), Some(header));
}

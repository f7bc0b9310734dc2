//! Nesting in both directions (`tracing` under agent-trace, agent-trace under `tracing`) across
//! `.await`, `tracing::Instrument` futures, `tokio::spawn` and threads; the root switch.

mod common;

use agent_trace::{custom_span, traced, Context, Instrument as _, SpanKind, SpanRecord};
use agent_trace_tracing::AgentTraceLayer;
use common::{runtime, setup};
use tracing::Instrument as _;

#[traced(kind = "function")]
async fn lookup(id: u64) -> u64 {
    // A `tracing` span inside an agent-trace span.
    tracing::info_span!("db.query", id).in_scope(|| id)
}

fn by_name<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    spans
        .iter()
        .find(|s| s.data.name() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {spans:#?}"))
}

#[test]
fn both_directions_nest_across_awaits_and_instrumented_futures() {
    let s = setup(AgentTraceLayer::new());
    tracing::dispatcher::with_default(&s.dispatch, || {
        runtime().block_on(s.provider.trace("wf").run(async {
            async {
                tokio::task::yield_now().await;
                // agent-trace under tracing, after an await.
                lookup(7).await;
                async {
                    tokio::task::yield_now().await;
                    tracing::info_span!("inner").in_scope(|| {});
                }
                .in_span(custom_span("traced-child"))
                .await;
            }
            .instrument(tracing::info_span!("outer"))
            .await;
        }))
    });
    let spans = s.spans.spans();
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let outer = by_name(&spans, "outer");
    let lookup = by_name(&spans, "lookup");
    let query = by_name(&spans, "db.query");
    let child = by_name(&spans, "traced-child");
    let inner = by_name(&spans, "inner");
    assert_eq!(outer.parent_id, None);
    assert_eq!(lookup.parent_id, Some(outer.id));
    assert_eq!(query.parent_id, Some(lookup.id));
    assert_eq!(child.parent_id, Some(outer.id));
    assert_eq!(inner.parent_id, Some(child.id));
    assert!(spans.iter().all(|r| r.trace_id == outer.trace_id));
}

#[test]
fn spawned_tasks_and_threads_keep_their_parents() {
    let s = setup(AgentTraceLayer::new());
    let dispatch = s.dispatch.clone();
    tracing::dispatcher::with_default(&s.dispatch, || {
        runtime().block_on(s.provider.trace("wf").run(async move {
            let parent = tracing::info_span!("parent");
            // A task spawned with a tracing span: tracing spans made inside nest under it,
            // and so do agent-trace spans.
            tokio::spawn(
                async {
                    tokio::task::yield_now().await;
                    tracing::info_span!("in-task").in_scope(|| {});
                    lookup(1).await;
                }
                .instrument(tracing::info_span!(parent: &parent, "task")),
            )
            .await
            .unwrap();
            // A plain thread that enters a bridged span.
            let on_thread = tracing::info_span!(parent: &parent, "thread-span");
            std::thread::spawn(move || {
                // `move`: the span is dropped while the subscriber is this thread's default (a
                // span closed elsewhere cannot release its parent in the registry).
                tracing::dispatcher::with_default(&dispatch, move || {
                    on_thread.in_scope(|| custom_span("on-thread").in_scope(|| {}));
                })
            })
            .join()
            .unwrap();
            drop(parent);
        }))
    });
    let spans = s.spans.spans();
    let parent = by_name(&spans, "parent");
    let task = by_name(&spans, "task");
    assert_eq!(task.parent_id, Some(parent.id));
    assert_eq!(by_name(&spans, "in-task").parent_id, Some(task.id));
    assert_eq!(by_name(&spans, "lookup").parent_id, Some(task.id));
    let thread_span = by_name(&spans, "thread-span");
    assert_eq!(thread_span.parent_id, Some(parent.id));
    assert_eq!(by_name(&spans, "on-thread").parent_id, Some(thread_span.id));
}

#[test]
fn a_multi_thread_runtime_keeps_parents_across_workers() {
    let s = setup(AgentTraceLayer::new());
    let _default = tracing::dispatcher::set_default(&s.dispatch);
    let dispatch = s.dispatch.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(move || {
            // Each worker gets the test's subscriber for its life.
            std::mem::forget(tracing::dispatcher::set_default(&dispatch));
        })
        .build()
        .unwrap();
    rt.block_on(s.provider.trace("wf").run(async {
        let mut tasks = Vec::new();
        for i in 0..4u64 {
            tasks.push(tokio::spawn(
                async move {
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    lookup(i).await
                }
                .instrument(tracing::info_span!("worker", i)),
            ));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }));
    drop(rt);
    let spans = s.spans.spans();
    let workers: Vec<&SpanRecord> = spans
        .iter()
        .filter(|r| r.data.name() == Some("worker"))
        .collect();
    assert_eq!(workers.len(), 4);
    for w in workers {
        let lookups: Vec<&SpanRecord> = spans
            .iter()
            .filter(|r| r.parent_id == Some(w.id) && r.data.name() == Some("lookup"))
            .collect();
        assert_eq!(lookups.len(), 1, "{spans:#?}");
        let queries = spans
            .iter()
            .filter(|r| r.parent_id == Some(lookups[0].id) && r.data.name() == Some("db.query"))
            .count();
        assert_eq!(queries, 1);
    }
}

#[test]
fn outside_a_trace_nothing_is_recorded_and_nothing_is_current() {
    let s = setup(AgentTraceLayer::new());
    tracing::dispatcher::with_default(&s.dispatch, || {
        tracing::info_span!("invoke_agent", gen_ai.operation.name = "invoke_agent").in_scope(
            || {
                assert!(Context::current().trace_id().is_none());
                tracing::info_span!("chat", gen_ai.operation.name = "chat").in_scope(|| {});
            },
        );
    });
    assert!(s.spans.spans().is_empty());
    assert!(s.spans.traces().is_empty());
}

#[test]
fn the_root_switch_starts_a_trace_for_a_root_genai_span_only() {
    let probe = setup(AgentTraceLayer::new());
    let s = setup(
        AgentTraceLayer::builder()
            .root_traces(true)
            .provider(&probe.provider)
            .build(),
    );
    tracing::dispatcher::with_default(&s.dispatch, || {
        // Not a GenAI span: no trace.
        tracing::info_span!("http.request").in_scope(|| {});
        tracing::info_span!(
            parent: None,
            "invoke_agent",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.agent.name = "solo"
        )
        .in_scope(|| {
            tracing::info_span!(
                "chat",
                gen_ai.operation.name = "chat",
                gen_ai.request.model = "m"
            )
            .in_scope(|| {});
        });
    });
    let traces = probe.spans.traces();
    assert_eq!(traces.len(), 1, "{traces:?}");
    assert_eq!(traces[0].workflow_name, "solo");
    let spans = probe.spans.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let agent = by_name(&spans, "solo");
    assert_eq!(agent.data.kind(), SpanKind::Agent);
    assert_eq!(agent.parent_id, None);
    assert_eq!(by_name(&spans, "m").parent_id, Some(agent.id));
    assert!(spans.iter().all(|r| r.trace_id == traces[0].id));
}

#[test]
fn an_explicit_root_span_inside_a_trace_joins_it() {
    let s = setup(AgentTraceLayer::new());
    s.in_trace(|| {
        custom_span("app").in_scope(|| {
            tracing::info_span!(parent: None, "invoke_agent", gen_ai.operation.name = "invoke_agent", gen_ai.agent.name = "a")
                .in_scope(|| {});
        })
    });
    let spans = s.spans.spans();
    assert_eq!(
        by_name(&spans, "a").parent_id,
        Some(by_name(&spans, "app").id)
    );
}

//! The four systems of the `spans` bench, each set up once on first use, the counters of the
//! spans the benches make, and the per-system helpers the bench groups call.

use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// The four systems, set up once.

pub static AT: LazyLock<AgentTrace> = LazyLock::new(AgentTrace::new);
pub static FASTRACE: LazyLock<std::sync::Arc<Counts>> = LazyLock::new(fastrace_init);
pub static OTEL: LazyLock<Otel> = LazyLock::new(|| {
    Otel::new(opentelemetry_sdk::trace::Sampler::ParentBased(Box::new(
        opentelemetry_sdk::trace::Sampler::AlwaysOn,
    )))
});
pub static OTEL_OFF: LazyLock<Otel> =
    LazyLock::new(|| Otel::new(opentelemetry_sdk::trace::Sampler::AlwaysOff));
pub static TRACING: LazyLock<&'static Otel> = LazyLock::new(tracing_init);

pub static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
});

/// Spans made by the benches, per system (single writer: the bench thread).
pub static MADE_AT: AtomicU64 = AtomicU64::new(0);
pub static MADE_FASTRACE: AtomicU64 = AtomicU64::new(0);
pub static MADE_OTEL: AtomicU64 = AtomicU64::new(0);
pub static MADE_TRACING: AtomicU64 = AtomicU64::new(0);

/// The counting helper of `common`, for the `spans` bench groups that take everything from
/// here (the `settled` bench, which shares this file, counts in its own loop).
#[allow(unused_imports)]
pub use crate::common::made;

pub const INPUT: &str = "where is my refund for invoice 42?";

// ---------------------------------------------------------------------------------------------
// Helpers per system.

pub fn at_nest(depth: u32) {
    if depth == 0 {
        return;
    }
    agent_trace::custom_span("child").in_scope(|| at_nest(depth - 1))
}

#[agent_trace::traced(kind = "custom")]
pub fn at_traced_nest(depth: u32) {
    if depth > 0 {
        at_traced_nest(depth - 1)
    }
}

#[agent_trace::traced]
pub async fn at_leaf() {}

pub fn fr_nest(depth: u32) {
    if depth == 0 {
        return;
    }
    let _s = fastrace::local::LocalSpan::enter_with_local_parent("child");
    fr_nest(depth - 1)
}

#[fastrace::trace]
pub fn fr_traced_nest(depth: u32) {
    if depth > 0 {
        fr_traced_nest(depth - 1)
    }
}

#[fastrace::trace]
pub async fn fr_leaf() {}

pub fn otel_nest(tracer: &opentelemetry_sdk::trace::SdkTracer, depth: u32) {
    use opentelemetry::trace::Tracer as _;
    if depth == 0 {
        return;
    }
    tracer.in_span("child", |_| otel_nest(tracer, depth - 1))
}

pub async fn otel_leaf(tracer: &opentelemetry_sdk::trace::SdkTracer) {
    use opentelemetry::trace::{FutureExt as _, TraceContextExt as _, Tracer as _};
    let cx = opentelemetry::Context::current_with_span(tracer.start("leaf"));
    async {}.with_context(cx).await
}

#[tracing::instrument(skip_all, name = "child")]
pub fn tr_nest(depth: u32) {
    if depth > 0 {
        tr_nest(depth - 1)
    }
}

#[tracing::instrument(skip_all)]
pub async fn tr_leaf() {}

// ---------------------------------------------------------------------------------------------
// One iteration of the scenarios both harnesses time (`benches/spans/*.rs` with divan,
// `benches/settled/rows.rs` settled): 11 spans each, the same work in both.

/// A root future with 10 awaited `#[traced]` async children, in a new trace.
pub fn at_async_root_plus_10() {
    use agent_trace::Instrument as _;
    RT.block_on(AT.provider.trace("bench").run(async {
        async {
            for _ in 0..std::hint::black_box(10) {
                at_leaf().await
            }
        }
        .in_span(agent_trace::custom_span("root"))
        .await
    }));
}

/// A root `Span` with 10 awaited `#[fastrace::trace]` async children.
pub fn fr_async_root_plus_10() {
    use fastrace::future::FutureExt as _;
    RT.block_on(async {
        let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
        async {
            for _ in 0..std::hint::black_box(10) {
                fr_leaf().await
            }
        }
        .in_span(root)
        .await
    });
}

/// A root and 10 generation spans with a model and token usage, in a new trace.
pub fn at_generation_root_plus_10() {
    use agent_trace::Record as _;
    AT.provider.trace("bench").in_scope(|| {
        agent_trace::custom_span("root").in_scope(|| {
            for _ in 0..10 {
                let mut s = agent_trace::generation_span().with_model("gpt-4o-mini");
                s.record_usage(agent_trace::Usage::tokens(
                    std::hint::black_box(12),
                    std::hint::black_box(5),
                ));
            }
        })
    });
}

/// A root and 10 local spans with the model and token counts as properties.
pub fn fr_generation_root_plus_10() {
    use fastrace::local::LocalSpan;
    use std::borrow::Cow;
    let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
    let _g = root.set_local_parent();
    for _ in 0..10 {
        let _s = LocalSpan::enter_with_local_parent("generation").with_properties(|| {
            [
                ("gen_ai.request.model", Cow::Borrowed("gpt-4o-mini")),
                (
                    "gen_ai.usage.input_tokens",
                    Cow::Owned(std::hint::black_box(12u64).to_string()),
                ),
                (
                    "gen_ai.usage.output_tokens",
                    Cow::Owned(std::hint::black_box(5u64).to_string()),
                ),
            ]
        });
    }
}

/// A root span made current with `with_context`, and 10 awaited children.
pub fn otel_async_root_plus_10() {
    use opentelemetry::trace::{FutureExt as _, TraceContextExt as _, Tracer as _};
    let otel = &*OTEL;
    RT.block_on(async {
        let cx = opentelemetry::Context::current_with_span(otel.tracer.start("root"));
        async {
            for _ in 0..std::hint::black_box(10) {
                otel_leaf(&otel.tracer).await
            }
        }
        .with_context(cx)
        .await
    });
}

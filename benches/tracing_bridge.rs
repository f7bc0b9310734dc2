//! The cost of the `tracing` bridge (agent-trace-tracing's `AgentTraceLayer`) against
//! tracing-opentelemetry for the same `tracing` spans, in one run (divan).
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench tracing_bridge
//! AGENT_TRACE_BENCH_QUICK=1 cargo bench -p agent-trace-benches --bench tracing_bridge  # seconds
//! ```
//!
//! Each system is a `tracing_subscriber::Registry` with one layer, installed as the bench
//! thread's default for the bench (outside the timed loop); each exports through its batch
//! pipeline (default settings) into a counting no-op exporter. `registry_only` (no layer) is
//! the floor. Per-span time = median / items.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use common::{quick, AgentTraceCounting, Counts};

use divan::counter::ItemsCount;
use divan::Bencher;
use tracing::field::Empty;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;

fn main() {
    let divan = divan::Divan::from_args();
    let divan = if quick() {
        divan.sample_count(5).sample_size(20)
    } else {
        divan.sample_count(200)
    };
    divan.main();
    report();
}

// ---------------------------------------------------------------------------------------------
// The systems.

/// Spans that reached each exporter.
static EXPORTED_BRIDGE: LazyLock<Arc<Counts>> = LazyLock::new(Arc::default);
static EXPORTED_OTEL: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
struct OtelCounting;

impl opentelemetry_sdk::trace::SpanExporter for OtelCounting {
    fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> impl std::future::Future<Output = opentelemetry_sdk::error::OTelSdkResult> + Send {
        EXPORTED_OTEL.fetch_add(batch.len() as u64, Ordering::Relaxed);
        std::future::ready(Ok(()))
    }
}

/// agent-trace with a batch pipeline, and the bridge layer on a registry.
struct Bridge {
    provider: agent_trace::TracerProvider,
    dispatch: Dispatch,
}

static BRIDGE: LazyLock<Bridge> = LazyLock::new(|| {
    let provider = agent_trace::TracerProvider::builder()
        .with_processor(
            agent_trace::BatchProcessor::builder()
                .with_exporter(AgentTraceCounting(EXPORTED_BRIDGE.clone()))
                .build(),
        )
        .build()
        .leak();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry().with(agent_trace_tracing::AgentTraceLayer::new()),
    );
    Bridge { provider, dispatch }
});

/// opentelemetry_sdk with a batch processor, and tracing-opentelemetry on a registry.
struct Otel {
    provider: opentelemetry_sdk::trace::SdkTracerProvider,
    dispatch: Dispatch,
}

static OTEL: LazyLock<Otel> = LazyLock::new(|| {
    use opentelemetry::trace::TracerProvider as _;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(
            opentelemetry_sdk::trace::BatchSpanProcessor::builder(OtelCounting).build(),
        )
        .build();
    let tracer = provider.tracer("bench");
    let dispatch = Dispatch::new(
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer)),
    );
    Otel { provider, dispatch }
});

static REGISTRY_ONLY: LazyLock<Dispatch> =
    LazyLock::new(|| Dispatch::new(tracing_subscriber::registry()));

/// Spans the benches made inside a trace, per system.
static MADE_BRIDGE: AtomicU64 = AtomicU64::new(0);
static MADE_OTEL: AtomicU64 = AtomicU64::new(0);

fn made(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

fn report() {
    let b = &*BRIDGE;
    let _ = b
        .provider
        .force_flush_blocking(std::time::Duration::from_secs(60));
    let _ = OTEL.provider.force_flush();
    println!();
    println!("delivery (spans made inside a trace vs spans that reached the exporter; the");
    println!(
        "tracing-opentelemetry exporter also gets its open root spans and the no-trace spans):"
    );
    for (name, made, exported) in [
        ("agent-trace bridge", &MADE_BRIDGE, &EXPORTED_BRIDGE.spans),
        ("tracing-opentelemetry", &MADE_OTEL, &EXPORTED_OTEL),
    ] {
        println!(
            "{name:<24} made {:>12} exported {:>12}",
            made.load(Ordering::Relaxed),
            exported.load(Ordering::Relaxed)
        );
    }
    // Nothing lost or unaccounted on our side (also in quick mode, as CI runs it).
    let made = MADE_BRIDGE.load(Ordering::Relaxed);
    assert_eq!(
        EXPORTED_BRIDGE.spans(),
        made,
        "bridge spans made inside a trace vs exported"
    );
}

// ---------------------------------------------------------------------------------------------
// The spans: the same `tracing` code for every system.

/// Ten plain spans with one field each.
fn ten_plain_spans() {
    for i in 0..10u64 {
        tracing::info_span!("db.query", i).in_scope(|| black_box(i));
    }
}

/// A model call as rig records it: a `chat` span opened with the operation, model and usage
/// recorded after the call.
fn chat_span() {
    let span = tracing::info_span!(
        "chat",
        gen_ai.operation.name = "chat",
        gen_ai.request.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
    );
    span.in_scope(|| {
        span.record("gen_ai.request.model", "gpt-4o-mini");
        span.record("gen_ai.usage.input_tokens", black_box(42u64));
        span.record("gen_ai.usage.output_tokens", black_box(11u64));
    });
}

/// Runs `f` per iteration inside one open trace (agent-trace) or open root span (otel), with
/// the system's subscriber as the thread's default.
fn in_open_trace_bridge(b: Bencher, items: u32, f: fn()) {
    let sys = &*BRIDGE;
    let _default = tracing::dispatcher::set_default(&sys.dispatch);
    let trace = sys.provider.trace("bench").start();
    let _cx = trace.context().attach();
    b.counter(ItemsCount::new(items)).bench_local(|| {
        f();
        made(&MADE_BRIDGE, items as u64);
    });
}

fn in_open_trace_otel(b: Bencher, items: u32, f: fn()) {
    let sys = &*OTEL;
    let _default = tracing::dispatcher::set_default(&sys.dispatch);
    let root = tracing::info_span!("root");
    let _root = root.enter();
    b.counter(ItemsCount::new(items)).bench_local(|| {
        f();
        made(&MADE_OTEL, items as u64);
    });
}

/// Ten plain `tracing` spans per iteration, inside a trace.
mod plain_spans_in_a_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace_bridge(b: Bencher) {
        in_open_trace_bridge(b, 10, ten_plain_spans);
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        in_open_trace_otel(b, 10, ten_plain_spans);
    }

    #[divan::bench]
    fn registry_only(b: Bencher) {
        let _default = tracing::dispatcher::set_default(&REGISTRY_ONLY);
        b.counter(ItemsCount::new(10u32))
            .bench_local(ten_plain_spans);
    }
}

/// One GenAI `chat` span per iteration with three fields recorded after it opened (typed as a
/// generation by the bridge), inside a trace.
mod genai_chat_in_a_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace_bridge(b: Bencher) {
        in_open_trace_bridge(b, 1, chat_span);
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        in_open_trace_otel(b, 1, chat_span);
    }

    #[divan::bench]
    fn registry_only(b: Bencher) {
        let _default = tracing::dispatcher::set_default(&REGISTRY_ONLY);
        b.bench_local(chat_span);
    }
}

/// Ten plain `tracing` spans per iteration with no trace current (bridge: root switch off, so
/// nothing is recorded; tracing-opentelemetry starts a new trace per span).
mod plain_spans_no_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace_bridge(b: Bencher) {
        let _default = tracing::dispatcher::set_default(&BRIDGE.dispatch);
        b.counter(ItemsCount::new(10u32))
            .bench_local(ten_plain_spans);
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        let _default = tracing::dispatcher::set_default(&OTEL.dispatch);
        b.counter(ItemsCount::new(10u32))
            .bench_local(ten_plain_spans);
    }

    #[divan::bench]
    fn registry_only(b: Bencher) {
        let _default = tracing::dispatcher::set_default(&REGISTRY_ONLY);
        b.counter(ItemsCount::new(10u32))
            .bench_local(ten_plain_spans);
    }
}

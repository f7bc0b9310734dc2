//! The cost of the `tracing` bridge (agent-trace-tracing's `AgentTraceLayer`) against
//! tracing-opentelemetry for the same `tracing` spans, in one run.
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench tracing_bridge
//! AGENT_TRACE_BENCH_QUICK=1 cargo bench -p agent-trace-benches --bench tracing_bridge  # seconds
//! ```
//!
//! Each system is a `tracing_subscriber::Registry` with one layer, installed as the bench
//! thread's default (outside the timed code); each exports through its batch pipeline (default
//! settings) into a counting no-op exporter (`common`). Both pipelines are flushed before every
//! sample, so neither export thread is still working on the previous sample's spans while the
//! next one is timed. tracing-opentelemetry runs with its default layer settings (location,
//! thread and busy/idle attributes), as an application adding it gets it.
//!
//! Two outputs:
//! - the divan rows (per-span time = time / items);
//! - a comparison table printed after them: per scenario, the systems' samples alternate
//!   (so a busy machine slows both alike), and the table gives the median and fastest
//!   per-span time and their ratio to the scenario's reference (tracing-opentelemetry inside a
//!   trace; a registry with a no-op layer outside any trace, which is what adding any layer
//!   costs). It is skipped when a divan filter is given.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use common::{made, quick, AgentTraceCounting, Counts, OtelCounting, FLUSH_TIMEOUT};

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
    // With a filter (one row, e.g. under a profiler) or `--list`, the rows only.
    let filtered = std::env::args()
        .skip(1)
        .any(|a| a == "--list" || !a.starts_with('-'));
    if !filtered {
        compare();
    }
    report();
}

// ---------------------------------------------------------------------------------------------
// The systems.

/// agent-trace with a batch pipeline, and the bridge layer on a registry.
struct Bridge {
    provider: agent_trace::TracerProvider,
    counts: Arc<Counts>,
    dispatch: Dispatch,
}

static BRIDGE: LazyLock<Bridge> = LazyLock::new(|| {
    let counts = Arc::new(Counts::default());
    let provider = agent_trace::TracerProvider::builder()
        .with_processor(
            agent_trace::BatchProcessor::builder()
                .with_exporter(AgentTraceCounting(counts.clone()))
                .build(),
        )
        .build()
        .leak();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry().with(agent_trace_tracing::AgentTraceLayer::new()),
    );
    Bridge {
        provider,
        counts,
        dispatch,
    }
});

/// opentelemetry_sdk with a batch processor, and tracing-opentelemetry on a registry.
struct Otel {
    provider: opentelemetry_sdk::trace::SdkTracerProvider,
    counts: Arc<Counts>,
    dispatch: Dispatch,
}

static OTEL: LazyLock<Otel> = LazyLock::new(|| {
    use opentelemetry::trace::TracerProvider as _;
    let counts = Arc::new(Counts::default());
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(
            opentelemetry_sdk::trace::BatchSpanProcessor::builder(OtelCounting(counts.clone()))
                .build(),
        )
        .build();
    let tracer = provider.tracer("bench");
    let dispatch = Dispatch::new(
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer)),
    );
    Otel {
        provider,
        counts,
        dispatch,
    }
});

/// The floor: a registry alone.
static REGISTRY_ONLY: LazyLock<Dispatch> =
    LazyLock::new(|| Dispatch::new(tracing_subscriber::registry()));

/// What adding any layer costs: a registry with a layer that does nothing.
static NOOP_LAYER: LazyLock<Dispatch> = LazyLock::new(|| {
    Dispatch::new(tracing_subscriber::registry().with(tracing_subscriber::layer::Identity::new()))
});

/// Flushes both export pipelines: neither export thread is busy when a sample starts.
fn settle() {
    let _ = BRIDGE.provider.force_flush_blocking(FLUSH_TIMEOUT);
    let _ = OTEL.provider.force_flush();
}

/// Spans the benches made inside a trace, per system.
static MADE_BRIDGE: AtomicU64 = AtomicU64::new(0);
static MADE_OTEL: AtomicU64 = AtomicU64::new(0);

fn report() {
    settle();
    println!();
    println!("delivery (spans made inside a trace vs spans that reached the exporter; the");
    println!(
        "tracing-opentelemetry exporter also gets its open root spans and the no-trace spans):"
    );
    for (name, made, exported) in [
        ("agent-trace bridge", &MADE_BRIDGE, BRIDGE.counts.spans()),
        ("tracing-opentelemetry", &MADE_OTEL, OTEL.counts.spans()),
    ] {
        println!(
            "{name:<24} made {:>12} exported {:>12}",
            made.load(Ordering::Relaxed),
            exported
        );
    }
    // Nothing lost or unaccounted on our side (also in quick mode, as CI runs it).
    let made = MADE_BRIDGE.load(Ordering::Relaxed);
    assert_eq!(
        BRIDGE.counts.spans(),
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

/// Where a system's spans go: inside an open agent-trace trace (bridge), under an open root
/// span (tracing-opentelemetry), or nowhere in particular.
#[derive(Clone, Copy, PartialEq)]
enum System {
    Bridge,
    Otel,
    RegistryOnly,
    NoopLayer,
}

impl System {
    fn label(self, in_trace: bool) -> &'static str {
        match (self, in_trace) {
            (System::Bridge, true) => "agent-trace bridge",
            (System::Bridge, false) => "agent-trace bridge (root switch off)",
            (System::Otel, _) => "tracing-opentelemetry",
            (System::RegistryOnly, _) => "registry only",
            (System::NoopLayer, _) => "registry + no-op layer",
        }
    }

    fn dispatch(self) -> &'static Dispatch {
        match self {
            System::Bridge => &BRIDGE.dispatch,
            System::Otel => &OTEL.dispatch,
            System::RegistryOnly => &REGISTRY_ONLY,
            System::NoopLayer => &NOOP_LAYER,
        }
    }
}

/// The open trace (bridge) or root span (tracing-opentelemetry) the in-trace spans go under,
/// made once per bench; `scope` runs with it current and the system's subscriber as default.
struct Scope {
    system: System,
    trace: Option<agent_trace::Trace>,
    root: Option<tracing::Span>,
}

impl Scope {
    fn new(system: System, in_trace: bool) -> Scope {
        let trace =
            (in_trace && system == System::Bridge).then(|| BRIDGE.provider.trace("bench").start());
        let root = (in_trace && system == System::Otel).then(|| {
            tracing::dispatcher::with_default(&OTEL.dispatch, || tracing::info_span!("root"))
        });
        Scope {
            system,
            trace,
            root,
        }
    }

    fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _default = tracing::dispatcher::set_default(self.system.dispatch());
        let _cx = self.trace.as_ref().map(|t| t.context().attach());
        let _root = self.root.as_ref().map(|r| r.enter());
        f()
    }

    /// Counts spans made inside a trace, for the delivery check.
    fn made(&self, n: u64) {
        match (&self.trace, &self.root) {
            (Some(_), _) => made(&MADE_BRIDGE, n),
            (_, Some(_)) => made(&MADE_OTEL, n),
            _ => {}
        }
    }
}

/// One divan row: `f` per iteration (`items` spans), both pipelines settled before each sample.
fn row(b: Bencher, system: System, in_trace: bool, items: u32, f: fn()) {
    let scope = Scope::new(system, in_trace);
    scope.run(|| {
        b.counter(ItemsCount::new(items))
            .with_inputs(settle)
            .bench_local_values(|()| {
                f();
                scope.made(items as u64);
            });
    });
}

/// Ten plain `tracing` spans per iteration, inside a trace.
mod plain_spans_in_a_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace_bridge(b: Bencher) {
        row(b, System::Bridge, true, 10, ten_plain_spans);
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        row(b, System::Otel, true, 10, ten_plain_spans);
    }

    #[divan::bench]
    fn registry_only(b: Bencher) {
        row(b, System::RegistryOnly, true, 10, ten_plain_spans);
    }
}

/// One GenAI `chat` span per iteration with three fields recorded after it opened (typed as a
/// generation by the bridge), inside a trace.
mod genai_chat_in_a_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace_bridge(b: Bencher) {
        row(b, System::Bridge, true, 1, chat_span);
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        row(b, System::Otel, true, 1, chat_span);
    }

    #[divan::bench]
    fn registry_only(b: Bencher) {
        row(b, System::RegistryOnly, true, 1, chat_span);
    }
}

/// Ten plain `tracing` spans per iteration with no trace current (bridge: root switch off, so
/// nothing is recorded; tracing-opentelemetry starts a new trace per span).
mod plain_spans_no_trace {
    use super::*;

    #[divan::bench]
    fn agent_trace_bridge(b: Bencher) {
        row(b, System::Bridge, false, 10, ten_plain_spans);
    }

    #[divan::bench]
    fn registry_noop_layer(b: Bencher) {
        row(b, System::NoopLayer, false, 10, ten_plain_spans);
    }

    #[divan::bench]
    fn registry_only(b: Bencher) {
        row(b, System::RegistryOnly, false, 10, ten_plain_spans);
    }

    #[divan::bench]
    fn tracing_opentelemetry(b: Bencher) {
        row(b, System::Otel, false, 10, ten_plain_spans);
    }
}

// ---------------------------------------------------------------------------------------------
// The comparison table: systems alternating sample by sample.

struct Scenario {
    title: &'static str,
    in_trace: bool,
    /// Spans per call of `f`.
    items: u32,
    f: fn(),
    /// The first is the reference the others are compared with.
    systems: &'static [System],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        title: "10 plain spans (1 field), in a trace",
        in_trace: true,
        items: 10,
        f: ten_plain_spans,
        systems: &[System::Otel, System::Bridge, System::RegistryOnly],
    },
    Scenario {
        title: "GenAI chat span, 3 fields recorded later, in a trace",
        in_trace: true,
        items: 1,
        f: chat_span,
        systems: &[System::Otel, System::Bridge, System::RegistryOnly],
    },
    Scenario {
        title: "10 plain spans (1 field), no trace current",
        in_trace: false,
        items: 10,
        f: ten_plain_spans,
        systems: &[System::NoopLayer, System::Bridge, System::RegistryOnly],
    },
];

fn compare() {
    let (samples, calls) = if quick() { (10, 5) } else { (300, 20) };
    println!();
    println!(
        "Per-span time, same run: {samples} samples per system of {calls} calls each, the systems \
         alternating sample by sample, both export pipelines flushed before every sample."
    );
    println!(
        "The ratio is to the scenario's first row (inside a trace: tracing-opentelemetry; no trace: \
         a registry with a no-op layer, what adding any layer costs)."
    );
    println!(
        "{:<52} {:<38} {:>10} {:>10} {:>16}",
        "scenario", "system", "median", "fastest", "ratio med / fast"
    );
    for sc in SCENARIOS {
        let scopes: Vec<Scope> = sc
            .systems
            .iter()
            .map(|&s| Scope::new(s, sc.in_trace))
            .collect();
        let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); scopes.len()];
        for _ in 0..samples {
            for (scope, t) in scopes.iter().zip(times.iter_mut()) {
                settle();
                let elapsed = scope.run(|| {
                    let start = Instant::now();
                    for _ in 0..calls {
                        (sc.f)();
                    }
                    start.elapsed()
                });
                scope.made((calls * sc.items) as u64);
                t.push(elapsed);
            }
        }
        let per_span = (calls * sc.items) as f64;
        let stats: Vec<(f64, f64)> = times
            .iter_mut()
            .map(|t| {
                t.sort();
                let ns = |d: Duration| d.as_nanos() as f64 / per_span;
                (ns(t[t.len() / 2]), ns(t[0]))
            })
            .collect();
        let (ref_median, ref_fastest) = stats[0];
        for (i, (&system, (median, fastest))) in sc.systems.iter().zip(&stats).enumerate() {
            let title = if i == 0 { sc.title } else { "" };
            println!(
                "{title:<52} {:<38} {:>7.0} ns {:>7.0} ns {:>7.2} / {:.2}",
                system.label(sc.in_trace),
                median,
                fastest,
                median / ref_median,
                fastest / ref_fastest,
            );
        }
    }
}

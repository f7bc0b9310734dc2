//! Span cost of agent-trace against fastrace (and opentelemetry_sdk) with every system's
//! pipeline **settled** before each sample, in one run: issue 13's targets, each marked met or
//! not met.
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench settled                            # full run, ~30 s
//! AGENT_TRACE_BENCH_QUICK=1 cargo bench -p agent-trace-benches --bench settled  # a few seconds
//! AGENT_TRACE_BENCH_QUICK=1 cargo test -p agent-trace-benches --benches         # CI: debug, asserts delivery
//! ```
//!
//! Why a second harness: in the divan tables (`benches/spans.rs`) every system's background
//! export thread competes with the benchmark thread for the machine's cores while the samples
//! run, so a median favours whichever collector happens to run less during them. Here, before
//! every sample, each system is flushed (agent-trace `force_flush_blocking`, `fastrace::flush()`,
//! opentelemetry_sdk `force_flush`) and the thread then sleeps for a short pause so the
//! background threads go idle, as a program's pipelines do in its idle moments. Then one sample
//! of K iterations (after 2 untimed ones) is timed with `std::time::Instant`; per span =
//! elapsed / (K × spans per iteration). The rows are sampled round-robin (each round starting at
//! the next row), so drift of the machine hits every row alike.
//!
//! Each row does the same work as the divan row of `benches/spans/` named in `settled/rows.rs`.
//! After the timings: spans made vs spans exported per system, and agent-trace's own counters
//! (nothing dropped, nothing unaccounted; asserted in quick mode and under `cargo test`).
//!
//! Environment: `AGENT_TRACE_SETTLED_SAMPLES` (samples per row, default 400),
//! `AGENT_TRACE_SETTLED_PAUSE_US` (the settling pause, default 2000 µs).

#[path = "common/mod.rs"]
mod common;

// Shared with the `spans` bench; this bench uses only some of its helpers.
#[allow(dead_code)]
#[path = "spans/systems.rs"]
mod systems;

#[path = "settled/rows.rs"]
mod rows;

#[path = "settled/report.rs"]
mod report;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use common::{checking_run, made, FLUSH_TIMEOUT};
use systems::*;

/// What a row is compared with, and the issue's target for the comparison.
#[derive(Clone, Copy)]
pub enum Goal {
    /// No target: the comparison is shown for information.
    Info,
    /// `row / vs` at most this, on the median and on the fastest sample.
    AtMost(f64),
    /// `row - vs` at most this many nanoseconds, on the median and on the fastest sample.
    WithinNs(f64),
}

/// The system whose spans a row records, if any.
#[derive(Clone, Copy)]
pub enum Made {
    /// None recorded (floors, no current trace, switched off).
    Nothing,
    AgentTrace,
    Fastrace,
    Otel,
}

impl Made {
    fn counter(self) -> Option<&'static std::sync::atomic::AtomicU64> {
        match self {
            Made::Nothing => None,
            Made::AgentTrace => Some(&MADE_AT),
            Made::Fastrace => Some(&MADE_FASTRACE),
            Made::Otel => Some(&MADE_OTEL),
        }
    }
}

/// One row: a scenario for one system.
pub struct Row {
    /// Unique key (used by `vs`).
    pub id: &'static str,
    /// Its name where another row is compared with it.
    pub short: &'static str,
    pub scenario: &'static str,
    pub system: &'static str,
    /// Spans (or span attempts) one iteration makes.
    pub spans: u64,
    /// Iterations per sample (full mode).
    pub k: u64,
    pub sample: fn(u64) -> Duration,
    /// Whose recorded spans the row makes (counted for the delivery table).
    pub made: Made,
    /// The row this one is compared with, and the target.
    pub vs: Option<(&'static str, Goal)>,
}

const NESTED: &str = "nested sync: trace + root + 10 children";
const ASYNC: &str = "async: root `.in_span()` + 10 `#[traced]` async fns, `block_on`";
const NO_TRACE: &str = "no current trace: one span";
const DISABLED: &str = "disabled inside a trace: one span";
const GENERATION: &str = "typed: root + 10 `generation` spans, model + usage";
const FUNCTION: &str = "typed: root + 10 `function` spans, input captured";
const FLOOR: &str = "floor";

pub const ROWS: &[Row] = &[
    Row {
        id: "clock_at",
        short: "agent-trace clock",
        scenario: FLOOR,
        system: "2 × `agent_trace::Timestamp::now()`",
        spans: 1,
        k: 4096,
        sample: rows::clock_agent_trace,
        made: Made::Nothing,
        vs: None,
    },
    Row {
        id: "clock_std",
        short: "std clock",
        scenario: FLOOR,
        system: "2 × `std::time::Instant::now()`",
        spans: 1,
        k: 4096,
        sample: rows::clock_std,
        made: Made::Nothing,
        vs: None,
    },
    Row {
        id: "floor",
        short: "harness floor",
        scenario: FLOOR,
        system: "harness: the name and a `Span::none()` through `black_box`",
        spans: 1,
        k: 8192,
        sample: rows::floor_span_none,
        made: Made::Nothing,
        vs: None,
    },
    Row {
        id: "nested_at",
        short: "agent-trace, plain nested",
        scenario: NESTED,
        system: "agent-trace (`custom_span` + `in_scope`)",
        spans: 11,
        k: 64,
        sample: rows::nested_agent_trace,
        made: Made::AgentTrace,
        vs: Some(("nested_fr", Goal::AtMost(0.6))),
    },
    Row {
        id: "nested_fr",
        short: "fastrace, plain nested",
        scenario: NESTED,
        system: "fastrace (root + 10 `LocalSpan`)",
        spans: 11,
        k: 64,
        sample: rows::nested_fastrace,
        made: Made::Fastrace,
        vs: None,
    },
    Row {
        id: "nested_otel",
        short: "opentelemetry_sdk",
        scenario: NESTED,
        system: "opentelemetry_sdk (`in_span`)",
        spans: 11,
        k: 32,
        sample: rows::nested_otel,
        made: Made::Otel,
        vs: Some(("nested_fr", Goal::Info)),
    },
    Row {
        id: "async_at",
        short: "agent-trace",
        scenario: ASYNC,
        system: "agent-trace",
        spans: 11,
        k: 64,
        sample: rows::async_agent_trace,
        made: Made::AgentTrace,
        vs: Some(("async_fr", Goal::AtMost(0.5))),
    },
    Row {
        id: "async_fr",
        short: "fastrace",
        scenario: ASYNC,
        system: "fastrace (`#[trace]` async fns, root `in_span`)",
        spans: 11,
        k: 64,
        sample: rows::async_fastrace,
        made: Made::Fastrace,
        vs: None,
    },
    Row {
        id: "async_otel",
        short: "opentelemetry_sdk",
        scenario: ASYNC,
        system: "opentelemetry_sdk (`with_context`)",
        spans: 11,
        k: 32,
        sample: rows::async_otel,
        made: Made::Otel,
        vs: Some(("async_fr", Goal::Info)),
    },
    Row {
        id: "async_floor",
        short: "no tracing",
        scenario: ASYNC,
        system: "no tracing (the same futures and `block_on`)",
        spans: 11,
        k: 64,
        sample: rows::async_floor,
        made: Made::Nothing,
        vs: None,
    },
    Row {
        id: "no_trace_at_fn",
        short: "agent-trace fn",
        scenario: NO_TRACE,
        system: "agent-trace `#[traced]` fn",
        spans: 1,
        k: 4096,
        sample: rows::no_trace_agent_trace_fn,
        made: Made::Nothing,
        vs: Some(("no_trace_fr_fn", Goal::AtMost(0.6))),
    },
    Row {
        id: "no_trace_fr_fn",
        short: "fastrace fn",
        scenario: NO_TRACE,
        system: "fastrace `#[trace]` fn, no parent",
        spans: 1,
        k: 4096,
        sample: rows::no_trace_fastrace_fn,
        made: Made::Nothing,
        vs: None,
    },
    Row {
        id: "no_trace_at_span",
        short: "agent-trace span",
        scenario: NO_TRACE,
        system: "agent-trace `custom_span`",
        spans: 1,
        k: 4096,
        sample: rows::no_trace_agent_trace_span,
        made: Made::Nothing,
        vs: Some(("no_trace_fr_local", Goal::Info)),
    },
    Row {
        id: "no_trace_fr_local",
        short: "fastrace `LocalSpan`",
        scenario: NO_TRACE,
        system: "fastrace `LocalSpan`, no parent",
        spans: 1,
        k: 4096,
        sample: rows::no_trace_fastrace_local_span,
        made: Made::Nothing,
        vs: None,
    },
    Row {
        id: "disabled_at",
        short: "agent-trace",
        scenario: DISABLED,
        system: "agent-trace `set_enabled(false)`",
        spans: 1,
        k: 8192,
        sample: rows::disabled_agent_trace,
        made: Made::Nothing,
        vs: Some(("floor", Goal::WithinNs(1.0))),
    },
    Row {
        id: "disabled_fr",
        short: "fastrace",
        scenario: DISABLED,
        system: "fastrace `LocalSpan` under a `sampled(false)` root",
        spans: 1,
        k: 8192,
        sample: rows::disabled_fastrace,
        made: Made::Nothing,
        vs: Some(("floor", Goal::Info)),
    },
    Row {
        id: "generation_at",
        short: "agent-trace",
        scenario: GENERATION,
        system: "agent-trace",
        spans: 11,
        k: 64,
        sample: rows::generation_agent_trace,
        made: Made::AgentTrace,
        vs: Some(("nested_at", Goal::AtMost(1.5))),
    },
    Row {
        id: "generation_fr",
        short: "fastrace",
        scenario: GENERATION,
        system: "fastrace (3 properties)",
        spans: 11,
        k: 64,
        sample: rows::generation_fastrace,
        made: Made::Fastrace,
        vs: Some(("nested_fr", Goal::Info)),
    },
    Row {
        id: "function_at",
        short: "agent-trace",
        scenario: FUNCTION,
        system: "agent-trace",
        spans: 11,
        k: 64,
        sample: rows::function_agent_trace,
        made: Made::AgentTrace,
        vs: Some(("nested_at", Goal::AtMost(1.5))),
    },
    Row {
        id: "function_fr",
        short: "fastrace",
        scenario: FUNCTION,
        system: "fastrace (1 property)",
        spans: 11,
        k: 64,
        sample: rows::function_fastrace,
        made: Made::Fastrace,
        vs: Some(("nested_fr", Goal::Info)),
    },
];

/// The run's settings.
pub struct Settings {
    pub quick: bool,
    pub samples: usize,
    pub warm_rounds: usize,
    pub pause: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        // `cargo bench` passes `--bench`; `cargo test --benches` does not (a debug build: run
        // the checks, not the timings).
        let quick = checking_run();
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        if quick {
            Settings {
                quick,
                samples: 5,
                warm_rounds: 1,
                pause: Duration::from_micros(200),
            }
        } else {
            Settings {
                quick,
                samples: env("AGENT_TRACE_SETTLED_SAMPLES").unwrap_or(400).max(1) as usize,
                warm_rounds: 5,
                pause: Duration::from_micros(env("AGENT_TRACE_SETTLED_PAUSE_US").unwrap_or(2000)),
            }
        }
    }

    /// Iterations per sample of `row`: cut 16-fold in quick mode.
    pub fn k(&self, row: &Row) -> u64 {
        if self.quick {
            (row.k / 16).max(1)
        } else {
            row.k
        }
    }
}

/// Flushes every system and lets its background threads go idle.
fn settle(pause: Duration) {
    let _ = AT.batch.force_flush_blocking(FLUSH_TIMEOUT);
    fastrace::flush();
    OTEL.flush();
    std::thread::sleep(pause);
}

fn main() {
    let settings = Settings::from_env();
    // Set every system up before the first sample.
    LazyLock::force(&AT);
    LazyLock::force(&FASTRACE);
    LazyLock::force(&OTEL);
    LazyLock::force(&RT);

    let n = ROWS.len();
    let rounds = settings.warm_rounds + settings.samples;
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(settings.samples); n];
    let started = Instant::now();
    eprintln!(
        "settled: {n} rows × {} samples (+{} warm-up rounds), pause {:?}{}",
        settings.samples,
        settings.warm_rounds,
        settings.pause,
        if settings.quick { ", quick mode" } else { "" }
    );
    for round in 0..rounds {
        for j in 0..n {
            let row = &ROWS[(round + j) % n];
            let k = settings.k(row);
            settle(settings.pause);
            let elapsed = (row.sample)(k);
            if let Some(c) = row.made.counter() {
                made(c, row.spans * (k + rows::WARM));
            }
            if round >= settings.warm_rounds {
                samples[(round + j) % n].push(elapsed.as_nanos() as f64 / (k * row.spans) as f64);
            }
        }
        if !settings.quick && (round + 1) % 50 == 0 {
            eprintln!("  round {}/{rounds}, {:.0?}", round + 1, started.elapsed());
        }
    }
    let took = started.elapsed();

    let delivery = report::delivery();
    report::print(&settings, &samples, &delivery, took);
    if settings.quick {
        delivery.assert_clean();
        println!("agent-trace: nothing dropped, nothing unaccounted (checked)");
    }
}

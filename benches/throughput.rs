//! Throughput and load: agent-trace against fastrace, opentelemetry_sdk and tracing +
//! tracing-opentelemetry, each system in a fresh process (this binary re-executes itself with
//! `--child SYSTEM MODE`), so peak RSS (VmHWM) is the system's own.
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench throughput                            # full run, ~30 s
//! AGENT_TRACE_BENCH_QUICK=1 cargo bench -p agent-trace-benches --bench throughput  # a few seconds
//! ```
//!
//! Modes:
//! - `burst`: 1,000,000 spans (traces of 100: a root and 99 children) from 2 tasks on a
//!   2-worker Tokio runtime, as fast as they go, into the batch pipeline with default settings
//!   and a counting no-op exporter. Then the runtime is dropped, the pipeline flushed and shut
//!   down, and what reached the exporter is counted against what was produced.
//! - `paced`: 2,000,000 spans/s from 2 tasks (1,000 spans per task per millisecond) for 2 s.
//!
//! Each row gives the producers' rate (spans made per second while the tasks ran) and, beside
//! it, the delivered rate: spans at the exporter after the pipeline's flush, per second from the
//! first span to the end of that flush. A system that drops spans under load has a delivered
//! rate below its producers' rate.
//!
//! Without `--bench` (as under `cargo test -p agent-trace-benches --benches`) or with `AGENT_TRACE_BENCH_QUICK=1`,
//! the counts are cut 50-fold / the paced run to 0.2 s.

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const SYSTEMS: [&str; 4] = [
    "agent-trace",
    "fastrace",
    "opentelemetry_sdk",
    "tracing-opentelemetry",
];
const SPANS_PER_TRACE: usize = 100;
const TASKS: usize = 2;

fn quick_mode(args: &[String]) -> bool {
    quick() || !args.iter().any(|a| a == "--bench")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let system = args.get(i + 1).expect("--child SYSTEM MODE").clone();
        let mode = args.get(i + 2).expect("--child SYSTEM MODE").clone();
        child(&system, &mode, quick_mode(&args));
        return;
    }
    // `cargo bench` passes `--bench`; a filter picks systems or modes (`throughput -- paced`).
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with("--")).collect();
    let quick = quick_mode(&args);
    let exe = std::env::current_exe().expect("current exe");
    println!(
        "throughput: each system in its own process{}",
        if quick {
            " (quick mode: reduced counts)"
        } else {
            ""
        }
    );
    for mode in ["burst", "paced"] {
        println!();
        match mode {
            "burst" => println!(
                "burst: {} spans (traces of {SPANS_PER_TRACE}) from {TASKS} tasks on a 2-worker runtime, default batch settings",
                burst_spans(quick)
            ),
            _ => println!(
                "paced: 2,000,000 spans/s from {TASKS} tasks for {:?}, default batch settings",
                paced_duration(quick)
            ),
        }
        println!(
            "{:<22} {:>10} {:>9} {:>12} {:>11} {:>11} {:>9} {:>12} {:>9} {:>8} {:>10} {:>9}",
            "system",
            "produced",
            "secs",
            "made/s",
            "at end",
            "exported",
            "to flush",
            "delivered/s",
            "dropped",
            "drop %",
            "unaccntd",
            "peak RSS"
        );
        for system in SYSTEMS {
            if !filters.is_empty()
                && !filters
                    .iter()
                    .any(|f| system.contains(f.as_str()) || mode.contains(f.as_str()))
            {
                continue;
            }
            let mut cmd = Command::new(&exe);
            cmd.args(["--child", system, mode]);
            if args.iter().any(|a| a == "--bench") {
                cmd.arg("--bench");
            }
            let out = cmd.output().expect("run child");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let Some(line) = stdout.lines().find(|l| l.starts_with("RESULT ")) else {
                println!(
                    "{system:<22} failed: {}\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
                std::process::exit(1);
            };
            let r = Result_::parse(line);
            // Quick mode (and `cargo test --benches`) is CI's check that agent-trace accounts
            // for every item: exported, or counted as dropped, and its stats balanced.
            if quick && system == "agent-trace" {
                assert!(
                    r.get("unaccounted") == "0" && r.get("note").contains("balanced=true"),
                    "agent-trace does not account for every item: {line}"
                );
            }
            println!(
                "{:<22} {:>10} {:>9.3} {:>12.0} {:>11} {:>11} {:>9.3} {:>12.0} {:>9} {:>7.2}% {:>10} {:>6.1} MB   {}",
                system,
                r.get("produced"),
                r.getf("secs"),
                r.getf("produced") / r.getf("secs"),
                r.get("exported_at_end"),
                r.get("exported"),
                r.getf("secs_to_flush"),
                r.getf("exported_after_flush") / r.getf("secs_to_flush"),
                r.get("dropped"),
                r.getf("dropped") * 100.0 / r.getf("produced").max(1.0),
                r.get("unaccounted"),
                r.getf("peak_rss") / 1e6,
                r.note(),
            );
        }
    }
    println!();
    println!(
        "produced = spans made; secs = time the producing tasks ran; made/s = produced / secs (the producers' rate);"
    );
    println!("at end = spans at the exporter when the producing tasks finished;");
    println!("exported = spans at the exporter after the runtime was dropped and the pipeline flushed and shut down;");
    println!("to flush = secs from the first span until the pipeline's flush returned (after the runtime was dropped);");
    println!("delivered/s = spans at the exporter after that flush / to flush (the rate at which spans reached the exporter);");
    println!("dropped = produced - exported; unaccntd (agent-trace, which counts its drops) = items produced - items exported - items counted as dropped,");
    println!("items being spans plus two trace records per trace (start and end); the peers expose no drop count, so theirs is n/a.");
}

fn burst_spans(quick: bool) -> usize {
    if quick {
        20_000
    } else {
        1_000_000
    }
}

fn paced_duration(quick: bool) -> Duration {
    if quick {
        Duration::from_millis(200)
    } else {
        Duration::from_secs(2)
    }
}

struct Result_(Vec<(String, String)>);

impl Result_ {
    fn parse(line: &str) -> Self {
        Result_(
            line.split_whitespace()
                .skip(1)
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }
    fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "-".into())
    }
    fn getf(&self, k: &str) -> f64 {
        self.get(k).parse().unwrap_or(0.0)
    }
    fn note(&self) -> String {
        self.get("note").replace('_', " ")
    }
}

// ---------------------------------------------------------------------------------------------
// One system in this process.

/// What a system needs: make one trace of `SPANS_PER_TRACE` spans, count its exports, flush.
trait System: Send + Sync + 'static {
    fn trace_of_100(&self);
    fn exported(&self) -> u64;
    /// Flush after the runtime is gone; whether the flush succeeded.
    fn flush(&self) -> bool;
    /// Shut down after the flush; returns a note for the report.
    fn shutdown(&self, flushed: bool) -> String;
    /// For a system that counts its own drops (agent-trace): items produced minus items
    /// exported minus items counted as dropped. Zero means every item is accounted for.
    fn unaccounted(&self, produced_spans: u64) -> Option<i64> {
        let _ = produced_spans;
        None
    }
}

struct At(AgentTrace);

impl System for At {
    fn trace_of_100(&self) {
        self.0.provider.trace("load").in_scope(|| {
            agent_trace::custom_span("root").in_scope(|| {
                for _ in 1..SPANS_PER_TRACE {
                    agent_trace::custom_span("child").end();
                }
            })
        });
    }
    fn exported(&self) -> u64 {
        self.0.counts.spans()
    }
    fn flush(&self) -> bool {
        self.0.provider.force_flush_blocking(FLUSH_TIMEOUT).is_ok()
    }
    fn shutdown(&self, flushed: bool) -> String {
        let shut = self.0.provider.shutdown_blocking(FLUSH_TIMEOUT);
        let s = self.0.batch.stats();
        let e = &s.exporters[0];
        format!(
            "flush={} shutdown={} items:enqueued={},dropped_queue_full={},dropped_export={},dropped_after_shutdown={},exported={},balanced={}",
            flushed,
            shut.is_ok(),
            s.enqueued,
            s.dropped_queue_full,
            e.dropped_export_failed,
            s.dropped_after_shutdown,
            e.exported,
            s.balanced()
        )
    }
    fn unaccounted(&self, produced_spans: u64) -> Option<i64> {
        // Items are the spans plus two trace records per trace (at its start and at its end).
        let produced = produced_spans + 2 * (produced_spans / SPANS_PER_TRACE as u64);
        let exported = self.0.counts.spans() + self.0.counts.traces();
        let s = self.0.batch.stats();
        let counted = common::at_dropped_counted(&s);
        Some(produced as i64 - exported as i64 - counted as i64)
    }
}

struct Fr(Arc<Counts>);

impl System for Fr {
    fn trace_of_100(&self) {
        let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
        let _g = root.set_local_parent();
        for _ in 1..SPANS_PER_TRACE {
            let _s = fastrace::local::LocalSpan::enter_with_local_parent("child");
        }
    }
    fn exported(&self) -> u64 {
        self.0.spans()
    }
    fn flush(&self) -> bool {
        fastrace::flush();
        true
    }
    fn shutdown(&self, _flushed: bool) -> String {
        String::new()
    }
}

struct Ot(Otel);

impl System for Ot {
    fn trace_of_100(&self) {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let tracer = &self.0.tracer;
        tracer.in_span("root", |_| {
            for _ in 1..SPANS_PER_TRACE {
                let mut s = tracer.start("child");
                s.end();
            }
        });
    }
    fn exported(&self) -> u64 {
        self.0.counts.spans()
    }
    fn flush(&self) -> bool {
        self.0.provider.force_flush().is_ok()
    }
    fn shutdown(&self, flushed: bool) -> String {
        let shut = self.0.provider.shutdown();
        format!("flush={flushed} shutdown={}", shut.is_ok())
    }
}

struct Tr(&'static Otel);

impl System for Tr {
    fn trace_of_100(&self) {
        tracing::info_span!("root").in_scope(|| {
            for _ in 1..SPANS_PER_TRACE {
                drop(tracing::info_span!("child"));
            }
        });
    }
    fn exported(&self) -> u64 {
        self.0.counts.spans()
    }
    fn flush(&self) -> bool {
        self.0.provider.force_flush().is_ok()
    }
    fn shutdown(&self, flushed: bool) -> String {
        let shut = self.0.provider.shutdown();
        format!("flush={flushed} shutdown={}", shut.is_ok())
    }
}

fn child(system: &str, mode: &str, quick: bool) {
    let sys: Arc<dyn System> = match system {
        "agent-trace" => Arc::new(At(AgentTrace::new())),
        "fastrace" => Arc::new(Fr(fastrace_init())),
        "opentelemetry_sdk" => Arc::new(Ot(Otel::new(
            opentelemetry_sdk::trace::Sampler::ParentBased(Box::new(
                opentelemetry_sdk::trace::Sampler::AlwaysOn,
            )),
        ))),
        "tracing-opentelemetry" => Arc::new(Tr(tracing_init())),
        other => panic!("unknown system {other}"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let base_rss = rss().unwrap_or(0);
    let start = Instant::now();

    let (produced, secs) = match mode {
        "burst" => {
            let traces_per_task = burst_spans(quick) / SPANS_PER_TRACE / TASKS;
            rt.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sys = sys.clone();
                        tokio::spawn(async move {
                            for _ in 0..traces_per_task {
                                sys.trace_of_100();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
            });
            (
                (traces_per_task * TASKS * SPANS_PER_TRACE) as u64,
                start.elapsed().as_secs_f64(),
            )
        }
        "paced" => {
            // 1,000 spans per task per millisecond = 2,000,000 spans/s from 2 tasks.
            let ticks = paced_duration(quick).as_millis() as usize;
            let traces_per_tick = 1_000 / SPANS_PER_TRACE;
            rt.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sys = sys.clone();
                        tokio::spawn(async move {
                            let mut tick = tokio::time::interval(Duration::from_millis(1));
                            // Burst (the default): a late tick is caught up, so the rate holds.
                            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                            for _ in 0..ticks {
                                tick.tick().await;
                                for _ in 0..traces_per_tick {
                                    sys.trace_of_100();
                                }
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
            });
            (
                (ticks * traces_per_tick * TASKS * SPANS_PER_TRACE) as u64,
                start.elapsed().as_secs_f64(),
            )
        }
        other => panic!("unknown mode {other}"),
    };
    let exported_at_end = sys.exported();
    // The application exits: its runtime goes first, then the pipeline is flushed.
    drop(rt);
    let flushed = sys.flush();
    let secs_to_flush = start.elapsed().as_secs_f64();
    let exported_after_flush = sys.exported();
    let note = sys.shutdown(flushed);
    let exported = sys.exported();
    let dropped = produced.saturating_sub(exported);
    let unaccounted = match sys.unaccounted(produced) {
        Some(n) => n.to_string(),
        None => "n/a".to_string(),
    };
    println!(
        "RESULT system={system} mode={mode} produced={produced} secs={secs:.4} exported_at_end={exported_at_end} exported_after_flush={exported_after_flush} secs_to_flush={secs_to_flush:.4} exported={exported} dropped={dropped} unaccounted={unaccounted} base_rss={base_rss} peak_rss={} note={}",
        peak_rss().unwrap_or(0),
        note.replace(' ', "_")
    );
}

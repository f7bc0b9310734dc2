//! The `settled` bench's output: the targets table (markdown, ready for docs/PERFORMANCE.md),
//! the clock's share of each span, and delivery (spans made vs exported per system, and
//! agent-trace's own counters).

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::{at_dropped_counted, FLUSH_TIMEOUT};
use crate::systems::*;
use crate::{Goal, Settings, ROWS};

/// Median and fastest sample of one row, per span, in nanoseconds.
#[derive(Clone, Copy)]
struct Summary {
    median: f64,
    fastest: f64,
}

fn summarize(samples: &[f64]) -> Summary {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    Summary {
        median,
        fastest: s[0],
    }
}

fn ns(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ns")
    } else {
        format!("{v:.1} ns")
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery.

/// Spans made by the rows vs spans at a system's exporter after a final flush.
pub struct Delivered {
    pub system: &'static str,
    pub made: u64,
    pub exported: u64,
}

/// What every system delivered, and agent-trace's own counters.
pub struct Delivery {
    pub systems: Vec<Delivered>,
    pub at_stats: agent_trace::BatchStats,
    /// Items at agent-trace's exporter (spans and trace records).
    pub at_items_exported: u64,
    /// Items offered to agent-trace's pipeline minus items exported minus items counted as
    /// dropped: zero when every item is accounted for.
    pub at_unaccounted: i64,
}

impl Delivery {
    fn at_dropped_counted(&self) -> u64 {
        at_dropped_counted(&self.at_stats)
    }

    /// Whether agent-trace delivered every span it made and accounts for every item.
    pub fn at_clean(&self) -> bool {
        let at = &self.systems[0];
        at.made == at.exported
            && self.at_dropped_counted() == 0
            && self.at_unaccounted == 0
            && self.at_stats.balanced()
    }

    /// Quick mode's check (CI): nothing dropped, nothing unaccounted.
    pub fn assert_clean(&self) {
        let at = &self.systems[0];
        assert!(
            self.at_clean(),
            "agent-trace: made {} spans, exported {}; {} item(s) counted as dropped, {} unaccounted, balanced={}: {:?}",
            at.made,
            at.exported,
            self.at_dropped_counted(),
            self.at_unaccounted,
            self.at_stats.balanced(),
            self.at_stats
        );
    }
}

/// Flushes every system once more and reads what reached each exporter.
pub fn delivery() -> Delivery {
    let at = &*AT;
    let _ = at.batch.force_flush_blocking(FLUSH_TIMEOUT);
    fastrace::flush();
    OTEL.flush();
    let at_stats = at.batch.stats();
    let at_items_exported = at.counts.spans() + at.counts.traces();
    let at_unaccounted = at_stats.produced() as i64
        - at_items_exported as i64
        - at_dropped_counted(&at_stats) as i64;
    Delivery {
        systems: vec![
            Delivered {
                system: "agent-trace",
                made: MADE_AT.load(Ordering::Relaxed),
                exported: at.counts.spans(),
            },
            Delivered {
                system: "fastrace",
                made: MADE_FASTRACE.load(Ordering::Relaxed),
                exported: FASTRACE.spans(),
            },
            Delivered {
                system: "opentelemetry_sdk",
                made: MADE_OTEL.load(Ordering::Relaxed),
                exported: OTEL.counts.spans(),
            },
        ],
        at_stats,
        at_items_exported,
        at_unaccounted,
    }
}

// ---------------------------------------------------------------------------------------------
// The tables.

pub fn print(settings: &Settings, samples: &[Vec<f64>], delivery: &Delivery, took: Duration) {
    let sums: Vec<Summary> = samples.iter().map(|s| summarize(s)).collect();
    let find = |id: &str| {
        ROWS.iter()
            .position(|r| r.id == id)
            .unwrap_or_else(|| panic!("no row {id}"))
    };

    println!();
    println!(
        "Settled harness, per span (`{}cargo bench -p agent-trace-benches --bench settled`): \
         every system flushed and idle ({:?} pause) before each sample; {} samples per row, \
         sampled round-robin; a sample is K iterations timed with `Instant` (K × spans per \
         iteration spans); {} cores; run took {:.0?}.{}",
        if settings.quick {
            "AGENT_TRACE_BENCH_QUICK=1 "
        } else {
            ""
        },
        settings.pause,
        settings.samples,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        took,
        if settings.quick {
            " QUICK MODE: too few samples for figures."
        } else {
            ""
        }
    );
    println!();
    println!("| scenario | row | spans × K | median | fastest | compared with | median ratio | fastest ratio | target | met? |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut last_scenario = "";
    for (i, row) in ROWS.iter().enumerate() {
        let s = sums[i];
        let scenario = if row.scenario == last_scenario {
            ""
        } else {
            row.scenario
        };
        last_scenario = row.scenario;
        let (with, med, fast, target, met) = match row.vs {
            None => Default::default(),
            Some((vs, goal)) => {
                let v = sums[find(vs)];
                let with = ROWS[find(vs)].short.to_string();
                match goal {
                    Goal::Info => (
                        with,
                        format!("{:.2}×", s.median / v.median),
                        format!("{:.2}×", s.fastest / v.fastest),
                        "—".to_string(),
                        "—".to_string(),
                    ),
                    Goal::AtMost(t) => {
                        let (m, f) = (s.median / v.median, s.fastest / v.fastest);
                        (
                            with,
                            format!("{m:.2}×"),
                            format!("{f:.2}×"),
                            format!("≤ {t}×"),
                            verdict(m <= t, f <= t),
                        )
                    }
                    Goal::WithinNs(t) => {
                        let (m, f) = (s.median - v.median, s.fastest - v.fastest);
                        (
                            with,
                            format!("{m:+.2} ns"),
                            format!("{f:+.2} ns"),
                            format!("≤ +{t} ns"),
                            verdict(m <= t, f <= t),
                        )
                    }
                }
            }
        };
        println!(
            "| {scenario} | {} | {} × {} | {} | {} | {with} | {med} | {fast} | {target} | {met} |",
            row.system,
            row.spans,
            settings.k(row),
            ns(s.median),
            ns(s.fastest),
        );
    }
    let at = &delivery.systems[0];
    println!(
        "| delivery | agent-trace: {} spans made, {} exported, {} items counted as dropped, {} unaccounted | | | | | | | 0 dropped, 0 unaccounted | {} |",
        at.made,
        at.exported,
        delivery.at_dropped_counted(),
        delivery.at_unaccounted,
        if delivery.at_clean() { "met" } else { "not met" }
    );

    // The clock's share: each span reads the clock twice (start and end).
    let clock = sums[find("clock_at")];
    println!();
    println!(
        "Clock: two reads of agent-trace's clock (`Timestamp::now()`, a span's start and end) take {} \
         (median; fastest {}); `std::time::Instant` {} ({}). Share of the two reads in each row's median:",
        ns(clock.median),
        ns(clock.fastest),
        ns(sums[find("clock_std")].median),
        ns(sums[find("clock_std")].fastest),
    );
    for id in [
        "nested_at",
        "nested_fr",
        "async_at",
        "async_fr",
        "generation_at",
        "function_at",
    ] {
        let r = &ROWS[find(id)];
        let s = sums[find(id)];
        println!(
            "- {} — {}: {:.0}% of {} (fastest: {:.0}% of {})",
            r.scenario,
            r.system,
            100.0 * clock.median / s.median,
            ns(s.median),
            100.0 * clock.fastest / s.fastest,
            ns(s.fastest)
        );
    }
    let af = sums[find("async_floor")];
    let (aa, afr) = (sums[find("async_at")], sums[find("async_fr")]);
    println!(
        "- async rows above the no-tracing floor ({} per span): agent-trace +{}, fastrace +{} \
         (ratio {:.2}× on medians; fastest: +{}, +{}, {:.2}×)",
        ns(af.median),
        ns(aa.median - af.median),
        ns(afr.median - af.median),
        (aa.median - af.median) / (afr.median - af.median),
        ns(aa.fastest - af.fastest),
        ns(afr.fastest - af.fastest),
        (aa.fastest - af.fastest) / (afr.fastest - af.fastest),
    );

    println!();
    println!(
        "Delivery (spans made by the rows above vs spans at each exporter after a final flush):"
    );
    println!();
    println!("| system | spans made | exported | not exported |");
    println!("|---|---|---|---|");
    for d in &delivery.systems {
        println!(
            "| {} | {} | {} | {} |",
            d.system,
            d.made,
            d.exported,
            d.made.saturating_sub(d.exported)
        );
    }
    let s = &delivery.at_stats;
    println!();
    println!(
        "agent-trace's counters: items (spans + 2 trace records per trace) produced {}, enqueued {}, \
         exported {} (at the counting exporter: {}), dropped_queue_full {}, dropped_after_shutdown {}, \
         dropped_export_failed {}, unaccounted {}, balanced {}.",
        s.produced(),
        s.enqueued,
        s.exporters.iter().map(|e| e.exported).sum::<u64>(),
        delivery.at_items_exported,
        s.dropped_queue_full,
        s.dropped_after_shutdown,
        s.exporters.iter().map(|e| e.dropped_export_failed).sum::<u64>(),
        delivery.at_unaccounted,
        s.balanced()
    );
}

fn verdict(median: bool, fastest: bool) -> String {
    match (median, fastest) {
        (true, true) => "met".into(),
        (false, true) => "not met (median)".into(),
        (true, false) => "not met (fastest)".into(),
        (false, false) => "not met".into(),
    }
}

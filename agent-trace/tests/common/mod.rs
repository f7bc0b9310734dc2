//! Helpers shared by the behaviour tests.
#![allow(dead_code)]

use std::collections::HashMap;

use agent_trace::testing::CollectingProcessor;
use agent_trace::{SpanId, SpanRecord, TracerProvider};

/// A provider with a collecting processor.
pub fn collecting() -> (TracerProvider, CollectingProcessor) {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(spans.clone())
        .build();
    (provider, spans)
}

/// Spans by name (panics on duplicates, which the tests avoid).
pub fn by_name(spans: &[SpanRecord]) -> HashMap<String, SpanRecord> {
    let mut m = HashMap::new();
    for s in spans {
        let name = s.data.name().unwrap_or("?").to_string();
        assert!(
            m.insert(name.clone(), s.clone()).is_none(),
            "duplicate span name {name}"
        );
    }
    m
}

/// The first span named `name` (for lists where other names repeat).
pub fn named<'a>(spans: &'a [SpanRecord], name: &str) -> &'a SpanRecord {
    spans
        .iter()
        .find(|s| s.data.name() == Some(name))
        .unwrap_or_else(|| panic!("no span named {name}"))
}

/// The spans named `name`, in the order they ended.
pub fn all_named(spans: &[SpanRecord], name: &str) -> Vec<SpanRecord> {
    spans
        .iter()
        .filter(|s| s.data.name() == Some(name))
        .cloned()
        .collect()
}

/// The spans' chain from the innermost: each one's parent is the next one.
pub fn assert_innermost_first(spans: &[SpanRecord]) {
    for pair in spans.windows(2) {
        assert_eq!(pair[0].parent_id, Some(pair[1].id), "ended out of order");
    }
}

/// Every span ended, with an error whose message contains `message`.
pub fn assert_all_carry(spans: &[SpanRecord], message: &str) {
    for s in spans {
        let error = s.error.as_ref().expect("every level records the panic");
        assert!(error.message.contains(message), "{error:?}");
        assert!(s.ended_at.is_some());
    }
}

/// A panic went through `levels` spans named "level" and was caught inside the span named
/// "outer", which then started "after": the levels ended "panicked" innermost first, under
/// "outer", which carries no error, and "after" went under "outer".
pub fn assert_caught_between_levels(spans: &[SpanRecord], levels: usize) {
    let level_spans = all_named(spans, "level");
    assert_eq!(level_spans.len(), levels);
    assert_all_carry(&level_spans, "panicked");
    assert_innermost_first(&level_spans);
    let outer = named(spans, "outer");
    assert!(
        outer.error.is_none(),
        "the panic did not reach the outer span"
    );
    assert_eq!(level_spans.last().unwrap().parent_id, Some(outer.id));
    assert_eq!(named(spans, "after").parent_id, Some(outer.id));
}

/// The parent's id of the span named `child`, checked to be the span named `parent`.
pub fn assert_parent(spans: &HashMap<String, SpanRecord>, child: &str, parent: Option<&str>) {
    let c = &spans[child];
    let want: Option<SpanId> = parent.map(|p| spans[p].id);
    assert_eq!(c.parent_id, want, "parent of {child}");
}

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_trace::{BoxFuture, ExportError, ExportItem, TracingExporter};

/// What a [`TestExporter`] does with a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Accept,
    FailTransient,
    FailPermanent,
    Panic,
    Hang,
}

/// An exporter that keeps the ids it received and can be told to fail.
#[derive(Clone)]
pub struct TestExporter {
    pub name: &'static str,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub received: Arc<Mutex<Vec<ExportItem>>>,
    pub calls: Arc<AtomicU64>,
    pub count_only: Arc<AtomicBool>,
    pub count: Arc<AtomicU64>,
}

impl TestExporter {
    pub fn new(name: &'static str) -> Self {
        TestExporter {
            name,
            behaviour: Arc::new(Mutex::new(Behaviour::Accept)),
            received: Arc::default(),
            calls: Arc::default(),
            count_only: Arc::default(),
            count: Arc::default(),
        }
    }

    /// Counts items without keeping them (for load tests).
    pub fn counting(name: &'static str) -> Self {
        let e = Self::new(name);
        e.count_only.store(true, Ordering::Relaxed);
        e
    }

    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }

    pub fn items(&self) -> Vec<ExportItem> {
        self.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl TracingExporter for TestExporter {
    fn name(&self) -> &str {
        self.name
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let b = *self.behaviour.lock().unwrap();
            match b {
                Behaviour::Accept => {
                    self.count.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    if !self.count_only.load(Ordering::Relaxed) {
                        self.received.lock().unwrap().extend_from_slice(batch);
                    }
                    Ok(())
                }
                Behaviour::FailTransient => Err(ExportError::transient("backend down")),
                Behaviour::FailPermanent => Err(ExportError::permanent("400 bad request")),
                Behaviour::Panic => panic!("exporter bug"),
                Behaviour::Hang => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                }
            }
        })
    }
}

/// Collects every diagnostic message of the process from now on (one hook per process: call
/// it once, from a test alone in its binary).
pub fn capture_diagnostics() -> Arc<Mutex<Vec<String>>> {
    let said = Arc::new(Mutex::new(Vec::new()));
    let sink = said.clone();
    agent_trace::set_diagnostics_hook(move |d| sink.lock().unwrap().push(d.message.clone()));
    said
}

/// `n` spans in one trace through a `BatchProcessor` built with default settings (so the
/// `OTEL_BSP_*` variables apply), flushed; returns the exporter and the processor's stats.
pub fn spans_through_default_batch(n: usize) -> (TestExporter, agent_trace::BatchStats) {
    let exporter = TestExporter::new("e");
    let batch = agent_trace::BatchProcessor::builder()
        .with_exporter(exporter.clone())
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    work(&provider, n);
    batch.force_flush_blocking(Duration::from_secs(10)).unwrap();
    (exporter, batch.stats())
}

/// One trace with `spans` spans on `provider`: `spans + 2` items for a batch processor (the
/// trace's record at its start and at its end).
pub fn work(provider: &TracerProvider, spans: usize) {
    provider.trace("wf").in_scope(|| {
        for _ in 0..spans {
            agent_trace::custom_span("s").end();
        }
    });
}

/// How many of `items` are spans.
pub fn span_count(items: &[ExportItem]) -> usize {
    items
        .iter()
        .filter(|i| matches!(i, ExportItem::Span(_)))
        .count()
}

/// Set in a child process re-run by [`run_env_case`]: the name of the case it runs.
pub const ENV_CASE: &str = "AGENT_TRACE_TEST_ENV_CASE";

/// The variables the SDK reads from the environment; a child starts with none of them set.
const SDK_VARS: [&str; 6] = [
    "AGENT_TRACE_DISABLED",
    "OTEL_SDK_DISABLED",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
];

/// In the child re-run by [`run_env_case`], the case it runs; `None` in the parent.
pub fn env_case() -> Option<String> {
    std::env::var(ENV_CASE).ok()
}

/// Runs `test` of this binary again, alone, in a child process whose environment has `var` set
/// to `value` (unset with `None`) and none of the SDK's other variables: each value is read by
/// a fresh process, as the SDK reads its environment once. Panics with the child's output if
/// the child's checks failed.
pub fn run_env_case(test: &str, var: &str, value: Option<&str>, case: &str) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--test-threads=1", "--nocapture"]);
    for v in SDK_VARS {
        cmd.env_remove(v);
    }
    if let Some(value) = value {
        cmd.env(var, value);
    }
    let out = cmd.env(ENV_CASE, case).output().unwrap();
    assert!(
        out.status.success(),
        "{var}={value:?} (case {case}): the child failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The child ran the test (and not zero tests because of a wrong name).
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 passed"), "{var}={value:?}: {stdout}");
}

/// One `OTEL_BSP_*` case, in the child: the builder's default uses `field_shown` (as its Debug
/// output shows it), a diagnostic naming `var` says the value used when `said` is given (and
/// none when it is `None`), and spans still go through a default batch processor, all of them.
pub fn check_bsp_case(var: &str, field_shown: &str, said: Option<&str>) {
    let diagnostics = capture_diagnostics();
    let builder = format!("{:?}", agent_trace::BatchProcessor::builder());
    assert!(
        builder.contains(field_shown),
        "{field_shown} not in {builder}"
    );
    let (exporter, stats) = spans_through_default_batch(50);
    assert_eq!(exporter.count(), 52, "{stats:?}");
    assert!(stats.balanced(), "{stats:?}");
    let diagnostics = diagnostics.lock().unwrap().clone();
    let about_var: Vec<_> = diagnostics.iter().filter(|m| m.contains(var)).collect();
    match said {
        Some(text) => assert!(
            about_var.iter().any(|m| m.contains(text)),
            "no diagnostic about {var} says {text:?}: {diagnostics:?}"
        ),
        None => assert!(about_var.is_empty(), "{about_var:?}"),
    }
}

/// One `OTEL_BSP_*` variable's cases — (case, value, what the builder's Debug output shows,
/// what the warning says) — each checked in a child process of its own: the parent runs the
/// test `test` again once per case, the child checks its case.
pub fn bsp_cases(test: &str, var: &str, cases: &[(&str, &str, &str, Option<&str>)]) {
    match env_case() {
        Some(case) => {
            let (_, _, shown, said) = cases.iter().find(|c| c.0 == case).expect("known case");
            check_bsp_case(var, shown, *said);
        }
        None => {
            for (case, value, _, _) in cases {
                run_env_case(test, var, Some(value), case);
            }
        }
    }
}

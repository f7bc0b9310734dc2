//! Shared set-up of the benchmarks: one pipeline per system, each ending in a counting no-op
//! exporter, so every run can say how many spans reached the exporter and how many were lost.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `AGENT_TRACE_BENCH_QUICK=1`: a short run that only checks the benches still work.
pub fn quick() -> bool {
    std::env::var("AGENT_TRACE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether this run checks the benches rather than timing them: quick mode, or
/// `cargo test --benches` (a debug build; `cargo bench` passes `--bench`, it does not).
pub fn checking_run() -> bool {
    quick() || !std::env::args().any(|a| a == "--bench")
}

/// Adds `n` to a counter with one writer: a plain load and store, no locked instruction in a
/// timed loop.
pub fn made(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

/// The items agent-trace's pipeline counted as dropped, every cause and exporter together.
pub fn at_dropped_counted(s: &agent_trace::BatchStats) -> u64 {
    s.dropped_queue_full
        + s.dropped_after_shutdown
        + s.exporters
            .iter()
            .map(|e| e.dropped_export_failed)
            .sum::<u64>()
}

/// Spans (and other items) that reached an exporter.
#[derive(Default, Debug)]
pub struct Counts {
    pub spans: AtomicU64,
    pub traces: AtomicU64,
}

impl Counts {
    pub fn spans(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }
    pub fn traces(&self) -> u64 {
        self.traces.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------------------------
// agent-trace: BatchProcessor (default settings) -> counting exporter.

pub struct AgentTraceCounting(pub Arc<Counts>);

impl agent_trace::TracingExporter for AgentTraceCounting {
    fn name(&self) -> &str {
        "counting"
    }

    fn export<'a>(
        &'a self,
        batch: &'a [agent_trace::ExportItem],
    ) -> agent_trace::BoxFuture<'a, Result<(), agent_trace::ExportError>> {
        let spans = batch
            .iter()
            .filter(|i| matches!(i, agent_trace::ExportItem::Span(_)))
            .count() as u64;
        self.0.spans.fetch_add(spans, Ordering::Relaxed);
        self.0
            .traces
            .fetch_add(batch.len() as u64 - spans, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

pub struct AgentTrace {
    pub provider: agent_trace::TracerProvider,
    pub batch: agent_trace::BatchProcessor,
    pub counts: Arc<Counts>,
}

impl AgentTrace {
    /// A provider with a default-configured `BatchProcessor` and a counting exporter.
    pub fn new() -> AgentTrace {
        let counts = Arc::new(Counts::default());
        let batch = agent_trace::BatchProcessor::builder()
            .with_exporter(AgentTraceCounting(counts.clone()))
            .build();
        // Kept for the process, as `set_global_provider` keeps an application's provider: its
        // spans skip the reference count that a scoped provider pays.
        // Content on (it is off by default): the input benches record the input, as the peers
        // do.
        let provider = agent_trace::TracerProvider::builder()
            .include_sensitive_data(true)
            .with_processor(batch.clone())
            .build()
            .leak();
        AgentTrace {
            provider,
            batch,
            counts,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// fastrace: `enable` feature, global collector with a counting reporter (default Config).

pub struct FastraceCounting(pub Arc<Counts>);

impl fastrace::collector::Reporter for FastraceCounting {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        self.0
            .spans
            .fetch_add(spans.len() as u64, Ordering::Relaxed);
    }
}

/// Installs fastrace's reporter (once per process).
pub fn fastrace_init() -> Arc<Counts> {
    static COUNTS: std::sync::OnceLock<Arc<Counts>> = std::sync::OnceLock::new();
    COUNTS
        .get_or_init(|| {
            let counts = Arc::new(Counts::default());
            fastrace::set_reporter(
                FastraceCounting(counts.clone()),
                fastrace::collector::Config::default(),
            );
            counts
        })
        .clone()
}

// ---------------------------------------------------------------------------------------------
// opentelemetry_sdk: BatchSpanProcessor (default settings) -> counting exporter.

#[derive(Debug, Clone)]
pub struct OtelCounting(pub Arc<Counts>);

impl opentelemetry_sdk::trace::SpanExporter for OtelCounting {
    fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> impl std::future::Future<Output = opentelemetry_sdk::error::OTelSdkResult> + Send {
        self.0
            .spans
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        std::future::ready(Ok(()))
    }
}

pub struct Otel {
    pub provider: opentelemetry_sdk::trace::SdkTracerProvider,
    pub tracer: opentelemetry_sdk::trace::SdkTracer,
    pub counts: Arc<Counts>,
}

impl Otel {
    pub fn new(sampler: opentelemetry_sdk::trace::Sampler) -> Otel {
        use opentelemetry::trace::TracerProvider as _;
        let counts = Arc::new(Counts::default());
        let processor =
            opentelemetry_sdk::trace::BatchSpanProcessor::builder(OtelCounting(counts.clone()))
                .build();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(sampler)
            .build();
        let tracer = provider.tracer("bench");
        Otel {
            provider,
            tracer,
            counts,
        }
    }

    pub fn flush(&self) {
        let _ = self.provider.force_flush();
    }
}

/// tracing + tracing-opentelemetry: a global `Registry` with an `OpenTelemetryLayer` whose
/// tracer comes from its own batch provider (so its counts are its own).
pub fn tracing_init() -> &'static Otel {
    static OTEL: std::sync::OnceLock<Otel> = std::sync::OnceLock::new();
    OTEL.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt as _;
        let otel = Otel::new(opentelemetry_sdk::trace::Sampler::AlwaysOn);
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(otel.tracer.clone()));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber");
        otel
    })
}

/// Peak resident set size of this process (VmHWM), in bytes.
pub fn peak_rss() -> Option<u64> {
    proc_status_kb("VmHWM:").map(|kb| kb * 1024)
}

/// Current resident set size of this process (VmRSS), in bytes.
pub fn rss() -> Option<u64> {
    proc_status_kb("VmRSS:").map(|kb| kb * 1024)
}

fn proc_status_kb(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

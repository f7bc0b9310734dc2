//! The export pipeline against a real OTLP/HTTP receiver on 127.0.0.1 that fails in scripted
//! ways: every span produced arrives, retries keep to the policy, the breaker opens and closes,
//! and the spool replays after a restart.

mod backend;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use agent_trace::testing::CollectingProcessor;
use agent_trace::{
    custom_span, BatchProcessor, BreakerPolicy, CircuitState, RetryPolicy, TracerProvider,
};
use agent_trace_exporters::otlp::OtlpExporter;
use backend::{Answer, Backend};

struct Setup {
    provider: TracerProvider,
    batch: BatchProcessor,
    local: CollectingProcessor,
}

fn setup(
    endpoint: &str,
    retry: RetryPolicy,
    breaker: BreakerPolicy,
    spool: Option<&std::path::Path>,
) -> Setup {
    let exporter = OtlpExporter::builder()
        .endpoint(endpoint)
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let mut b = BatchProcessor::builder()
        .with_exporter(exporter)
        .max_batch_size(25)
        .export_timeout(Duration::from_millis(500))
        .retry_policy(retry)
        .breaker_policy(breaker);
    if let Some(dir) = spool {
        b = b.spool_dir(dir);
    }
    let batch = b.build();
    let local = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(local.clone())
        .with_processor(batch.clone())
        .build();
    Setup {
        provider,
        batch,
        local,
    }
}

fn produce(provider: &TracerProvider, n: usize) {
    provider.trace("faults").in_scope(|| {
        for _ in 0..n {
            custom_span("step").end();
        }
    });
}

/// Every span the application produced, as OTLP span ids.
fn produced_ids(local: &CollectingProcessor) -> HashSet<[u8; 8]> {
    local.spans().iter().map(|s| s.id.to_bytes()).collect()
}

fn fast_retry(max_elapsed_ms: u64) -> RetryPolicy {
    RetryPolicy::default()
        .backoff(Duration::from_millis(50), Duration::from_millis(200))
        .max_elapsed(Duration::from_millis(max_elapsed_ms))
        .max_retry_after(Duration::from_secs(2))
}

fn no_breaker() -> BreakerPolicy {
    BreakerPolicy::new(100, Duration::from_secs(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_then_recovery_deliver_every_span_with_policy_spacing() {
    let backend = Backend::start(None).await;
    backend.seen.script.lock().unwrap().extend([
        Answer::Status(500),
        Answer::Status(503),
        Answer::RetryAfter(429, 1),
        Answer::Status(502),
    ]);
    let s = setup(&backend.endpoint(), fast_retry(20_000), no_breaker(), None);
    produce(&s.provider, 20);
    s.provider.force_flush().await.unwrap();

    let got: HashSet<_> = backend.seen.ids().into_iter().collect();
    let want = produced_ids(&s.local);
    assert_eq!(want.len(), 20);
    assert!(
        want.is_subset(&got),
        "missing spans: {:?}",
        want.difference(&got).count()
    );

    let arrivals = backend.seen.arrivals();
    let statuses: Vec<u16> = arrivals.iter().map(|a| a.1).collect();
    assert_eq!(statuses, [500, 503, 429, 502, 200]);
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1].0 - w[0].0).collect();
    // Only what a loaded machine cannot break: it can make a wait longer, never shorter. The
    // 429 asked for one second, and got it (full jitter alone would wait at most 200 ms);
    // the whole sequence kept within the policy's max_elapsed. (The jittered delays' upper
    // bound is checked without timing, in the retry policy's unit tests.)
    assert!(
        gaps[2] >= Duration::from_millis(990),
        "Retry-After not honoured: {gaps:?}"
    );
    let total: Duration = gaps.iter().sum();
    assert!(total < Duration::from_secs(20), "{gaps:?}");
    let lane = &s.batch.stats().exporters[0];
    assert_eq!(lane.retries, 4, "{lane:?}");
    assert_eq!(lane.dropped_export_failed, 0);
    assert_eq!(lane.circuit, CircuitState::Closed);
    eprintln!("retry test: statuses {statuses:?}, gaps {gaps:?}, stats {lane:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_hanging_past_the_timeout_is_retried() {
    let backend = Backend::start(None).await;
    backend
        .seen
        .script
        .lock()
        .unwrap()
        .push_back(Answer::Hang(Duration::from_secs(60)));
    let s = setup(&backend.endpoint(), fast_retry(10_000), no_breaker(), None);
    produce(&s.provider, 10);
    let started = std::time::Instant::now();
    s.provider.force_flush().await.unwrap();
    // The hung request answers after a minute; the flush is done long before (a bound far
    // above a loaded machine's slack: one 500 ms timeout, then a retry).
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "flush waited for the hung request"
    );
    let got: HashSet<_> = backend.seen.ids().into_iter().collect();
    assert!(produced_ids(&s.local).is_subset(&got));
    let lane = &s.batch.stats().exporters[0];
    assert!(lane.retries >= 1, "{lane:?}");
    // 10 spans and the trace's record at its start and its end.
    assert_eq!(lane.exported, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_stops_calling_and_closes_after_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::start(None).await;
    backend
        .seen
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let breaker = BreakerPolicy::new(3, Duration::from_millis(800));
    let s = setup(
        &backend.endpoint(),
        fast_retry(5_000),
        breaker,
        Some(dir.path()),
    );

    produce(&s.provider, 10);
    s.provider.force_flush().await.unwrap();
    let lane = s.batch.stats().exporters[0].clone();
    assert_eq!(lane.circuit, CircuitState::Open, "{lane:?}");
    assert_eq!(lane.circuit_opened, 1);
    assert_eq!(lane.in_spool, 12);
    let calls_when_opened = backend.seen.arrivals().len();
    assert_eq!(calls_when_opened, 3);

    // While open: no network calls, batches go to the spool.
    produce(&s.provider, 10);
    s.provider.force_flush().await.unwrap();
    assert_eq!(backend.seen.arrivals().len(), calls_when_opened);
    assert_eq!(s.batch.stats().exporters[0].in_spool, 24);

    // Backend recovers; after the cooldown a probe closes the circuit and the spool drains.
    backend
        .seen
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(900)).await;
    s.provider.force_flush().await.unwrap();
    let stats = s.batch.stats();
    let lane = &stats.exporters[0];
    assert_eq!(lane.circuit, CircuitState::Closed, "{lane:?}");
    assert_eq!(lane.in_spool, 0, "{lane:?}");
    assert_eq!(lane.replayed, 24);
    assert!(stats.balanced(), "{stats:?}");
    let got: HashSet<_> = backend.seen.ids().into_iter().collect();
    assert!(produced_ids(&s.local).is_subset(&got));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_spool_and_replay_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = Backend::dead_address().await;
    let endpoint = format!("http://{addr}");
    let breaker = BreakerPolicy::new(2, Duration::from_millis(200));
    let first = setup(
        &endpoint,
        fast_retry(2_000),
        breaker.clone(),
        Some(dir.path()),
    );
    produce(&first.provider, 30);
    first.provider.force_flush().await.unwrap();
    let lane = first.batch.stats().exporters[0].clone();
    assert_eq!(lane.exported, 0);
    assert_eq!(lane.in_spool, 32, "{lane:?}");
    first
        .provider
        .shutdown(Duration::from_secs(5))
        .await
        .unwrap();
    let want = produced_ids(&first.local);

    // The backend comes up; a new provider (a restarted process) uses the same spool.
    let backend = Backend::start(Some(addr)).await;
    let second = setup(&endpoint, fast_retry(2_000), breaker, Some(dir.path()));
    assert_eq!(second.batch.stats().exporters[0].restored_from_spool, 32);
    second.provider.force_flush().await.unwrap();
    let lane = second.batch.stats().exporters[0].clone();
    assert_eq!(lane.replayed, 32, "{lane:?}");
    assert_eq!(lane.in_spool, 0);
    let got: HashSet<_> = backend.seen.ids().into_iter().collect();
    assert!(
        want.is_subset(&got),
        "{} spans missing",
        want.difference(&got).count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_probe_is_one_request_and_reopens_the_circuit() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::start(None).await;
    backend
        .seen
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let threshold = 2;
    let s = setup(
        &backend.endpoint(),
        fast_retry(5_000),
        BreakerPolicy::new(threshold, Duration::from_millis(500)),
        Some(dir.path()),
    );
    produce(&s.provider, 10);
    s.provider.force_flush().await.unwrap();
    let lane = s.batch.stats().exporters[0].clone();
    assert_eq!(lane.circuit, CircuitState::Open, "{lane:?}");
    assert_eq!(backend.seen.arrivals().len(), threshold as usize);

    // After the cooldown the lane probes on its own (its spool is not empty): wait for the
    // probe's answer to reopen the circuit.
    let opened = |s: &Setup| s.batch.stats().exporters[0].circuit_opened;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while opened(&s) < 2 {
        assert!(std::time::Instant::now() < deadline, "no probe was made");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While open, batches go to the spool without a request.
    produce(&s.provider, 10);
    s.provider.force_flush().await.unwrap();

    // However slow this machine, the counts tie up: each opening after the first is one
    // failed probe, and each probe is exactly one request (no retries while half-open).
    let before = opened(&s);
    let arrivals = backend.seen.arrivals();
    let stats = s.batch.stats();
    let lane = &stats.exporters[0];
    assert_eq!(
        lane.circuit_opened, before,
        "a probe was answered meanwhile"
    );
    let probes = before - 1;
    assert!(probes >= 1);
    assert_eq!(
        arrivals.len() as u64,
        u64::from(threshold) + probes,
        "{arrivals:?}"
    );
    assert!(arrivals.iter().all(|a| a.1 == 503), "{arrivals:?}");
    assert_eq!(lane.exported, 0, "{lane:?}");
    assert_eq!(lane.in_spool, 24, "{lane:?}");
    assert_eq!(lane.dropped_export_failed, 0, "{lane:?}");
    assert!(stats.balanced(), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_400_is_one_request_counted_as_dropped_and_never_spooled() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::start(None).await;
    backend
        .seen
        .script
        .lock()
        .unwrap()
        .push_back(Answer::Status(400));
    let s = setup(
        &backend.endpoint(),
        fast_retry(5_000),
        no_breaker(),
        Some(dir.path()),
    );
    produce(&s.provider, 10);
    // Returns (Ok, or an error saying items were dropped: what flush reports about drops is
    // tested with the flush itself); what matters here is where the batch went.
    let _ = s.provider.force_flush().await;

    let statuses: Vec<u16> = backend.seen.arrivals().iter().map(|a| a.1).collect();
    assert_eq!(statuses, [400], "one request, not retried");
    let stats = s.batch.stats();
    let lane = &stats.exporters[0];
    // 10 spans and the trace's record at its start and its end: one batch, refused.
    assert_eq!(lane.dropped_export_failed, 12, "{lane:?}");
    assert_eq!(lane.exported, 0, "{lane:?}");
    assert_eq!(lane.retries, 0, "{lane:?}");
    assert_eq!((lane.spooled, lane.in_spool), (0, 0), "{lane:?}");
    assert_eq!(lane.circuit, CircuitState::Closed, "{lane:?}");
    assert!(stats.balanced(), "{stats:?}");
    let segments = spool_segments(dir.path());
    assert!(segments.is_empty(), "nothing spooled, found {segments:?}");
}

/// The spool segments (`seg-*.jsonl`, also unfinished `.tmp` ones) anywhere under `dir`.
fn spool_segments(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(spool_segments(&path));
        } else if entry.file_name().to_string_lossy().starts_with("seg-") {
            out.push(path);
        }
    }
    out
}

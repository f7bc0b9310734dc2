//! The spool on real files, with the faults real disks and deployments bring: a damaged
//! segment, an unreadable one, two processes on one directory, a segment that cannot be deleted.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use agent_trace::{BatchProcessor, BreakerPolicy, RetryPolicy, TracerProvider};
use common::{span_count, work, Behaviour, TestExporter};

/// Spans per test; with the trace's start and end records, `SPANS + 2` items.
const SPANS: usize = 5_500;
const BATCH: usize = 500;

fn processor(e: &TestExporter, dir: &Path) -> BatchProcessor {
    BatchProcessor::builder()
        .with_exporter(e.clone())
        .max_queue_size(16_384)
        .max_batch_size(BATCH)
        .schedule_delay(Duration::from_millis(20))
        .spool_dir(dir)
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_elapsed(Duration::from_millis(30)),
        )
        .breaker_policy(BreakerPolicy::new(3, Duration::from_millis(100)))
        .build()
}

/// A process whose backend is down: `spans` spans end up in the spool at `dir`.
fn spool_while_down(dir: &Path, spans: usize) {
    let e = TestExporter::new("backend");
    e.set(Behaviour::FailTransient);
    let batch = processor(&e, dir);
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    work(&provider, spans);
    provider.shutdown_blocking(Duration::from_secs(20)).unwrap();
    let lane = &batch.stats().exporters[0];
    assert_eq!(lane.in_spool, spans as u64 + 2, "{lane:?}");
}

/// A later process with the backend back: replays the spool; returns the spans delivered and
/// the lane's stats.
fn restart(dir: &Path) -> (usize, agent_trace::ExporterStats) {
    let e = TestExporter::new("backend");
    let batch = processor(&e, dir);
    let flushed = batch.force_flush_blocking(Duration::from_secs(20));
    let s = batch.stats();
    assert!(s.balanced(), "{s:?}");
    let lane = s.exporters[0].clone();
    // The flush reports exactly the items the replay had to give up (a damaged line).
    match flushed {
        Ok(()) => assert_eq!(lane.dropped_export_failed, 0, "{lane:?}"),
        Err(agent_trace::TraceError::Dropped { dropped, .. }) => {
            assert_eq!(dropped, lane.dropped_export_failed, "{lane:?}")
        }
        Err(e) => panic!("{e}"),
    }
    assert_eq!(lane.in_spool, 0, "{lane:?}");
    (span_count(&e.items()), lane)
}

/// The segment files of the exporter's spool, oldest first.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir.join("0-backend"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    v.sort();
    v
}

#[test]
fn bytes_that_are_not_utf8_cost_their_line_only() {
    let dir = tempfile::tempdir().unwrap();
    spool_while_down(dir.path(), SPANS);
    // One byte of one span's id becomes 0xFF, in the middle segment.
    let segs = segments(dir.path());
    assert!(segs.len() > 2, "{segs:?}");
    let target = &segs[segs.len() / 2];
    let mut bytes = fs::read(target).unwrap();
    let at = bytes
        .windows(6)
        .position(|w| w == b"\"id\":\"")
        .expect("a span id");
    bytes[at + 6] = 0xFF;
    fs::write(target, bytes).unwrap();

    let (delivered, lane) = restart(dir.path());
    assert_eq!(lane.restored_from_spool, SPANS as u64 + 2, "{lane:?}");
    assert_eq!(delivered, SPANS - 1, "{lane:?}");
    assert_eq!(lane.dropped_export_failed, 1, "{lane:?}");
}

#[test]
fn an_unreadable_segment_is_skipped_and_the_rest_replayed() {
    let dir = tempfile::tempdir().unwrap();
    spool_while_down(dir.path(), SPANS);
    let segs = segments(dir.path());
    let target = &segs[segs.len() / 2];
    let lost = fs::read_to_string(target)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"trace.span\""))
        .count();
    // A directory where the segment file was: unreadable whatever the user's permissions.
    fs::remove_file(target).unwrap();
    fs::create_dir(target).unwrap();

    let (delivered, lane) = restart(dir.path());
    assert_eq!(delivered, SPANS - lost, "{lane:?}");
    let bad = target.with_extension("jsonl.bad");
    assert!(bad.exists(), "set aside as {}", bad.display());
    // Reported once: the next process neither replays nor counts it.
    let (again, lane) = restart(dir.path());
    assert_eq!((again, lane.restored_from_spool), (0, 0));
}

#[test]
fn two_processors_on_one_spool_directory_keep_each_others_batches() {
    let dir = tempfile::tempdir().unwrap();
    let down = TestExporter::new("backend");
    down.set(Behaviour::FailTransient);
    let (a, b) = (processor(&down, dir.path()), processor(&down, dir.path()));
    for batch in [&a, &b] {
        let provider = TracerProvider::builder()
            .with_processor(batch.clone())
            .build();
        work(&provider, 1_000);
        provider
            .force_flush_blocking(Duration::from_secs(20))
            .unwrap();
    }
    for batch in [&a, &b] {
        assert_eq!(batch.stats().exporters[0].in_spool, 1_002);
        batch.shutdown_blocking(Duration::from_secs(10)).unwrap();
    }
    let (delivered, lane) = restart(dir.path());
    assert_eq!(lane.restored_from_spool, 2 * 1_002, "{lane:?}");
    assert_eq!(delivered, 2_000, "{lane:?}");
}

/// The child half of the two-process test: spools `CHILD_SPANS` spans into the directory given.
const CHILD_DIR: &str = "AGENT_TRACE_SPOOL_TEST_DIR";
const CHILD_SPANS: usize = 700;

#[test]
fn two_processes_on_one_spool_directory_keep_each_others_batches() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        spool_while_down(Path::new(&dir), CHILD_SPANS);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // This process holds the directory while a child process spools into it too.
    let down = TestExporter::new("backend");
    down.set(Behaviour::FailTransient);
    let mine = processor(&down, dir.path());
    let provider = TracerProvider::builder()
        .with_processor(mine.clone())
        .build();
    work(&provider, CHILD_SPANS);
    provider
        .force_flush_blocking(Duration::from_secs(20))
        .unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "two_processes_on_one_spool_directory_keep_each_others_batches",
            "--nocapture",
        ])
        .env(CHILD_DIR, dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    provider.shutdown_blocking(Duration::from_secs(10)).unwrap();
    // The next process replays both: its own directory's and the child's orphaned one.
    let (delivered, lane) = restart(dir.path());
    assert_eq!(lane.restored_from_spool, 2 * (CHILD_SPANS as u64 + 2));
    assert_eq!(delivered, 2 * CHILD_SPANS, "{lane:?}");
}

/// Makes a directory immutable (`chattr +i`: its entries cannot be deleted, its files can still
/// be written) for its lifetime.
struct Immutable(PathBuf);

impl Immutable {
    fn set(dir: &Path) -> Option<Immutable> {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Immutable(dir.to_owned()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn a_delivered_segment_that_cannot_be_deleted_is_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    spool_while_down(dir.path(), 1_000);
    let Some(lock) = Immutable::set(&dir.path().join("0-backend")) else {
        eprintln!("chattr +i is not available here (needs CAP_LINUX_IMMUTABLE on ext4/xfs/btrfs); not testable on this machine");
        return;
    };
    let (delivered, _) = restart(dir.path());
    assert_eq!(delivered, 1_000);
    assert!(
        !segments(dir.path()).is_empty(),
        "the directory was to refuse deletions"
    );
    drop(lock);
    // The segments are still there, emptied: the next process sends nothing twice.
    let (again, lane) = restart(dir.path());
    assert_eq!((again, lane.restored_from_spool), (0, 0), "{lane:?}");
}

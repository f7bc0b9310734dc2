//! Nothing ended is lost at a normal exit: returning from `main` (here: the test harness's) and
//! `std::process::exit` both shut the global provider down, which delivers what was queued.
//! Each case runs in a child process (this test binary, re-executed), since it is about exiting.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use agent_trace::{
    custom_span, BatchProcessor, BoxFuture, ExportError, ExportItem, TracerProvider,
    TracingExporter,
};

const CHILD: &str = "AGENT_TRACE_EXIT_CHILD";
const OUT: &str = "AGENT_TRACE_EXIT_OUT";

/// Appends one line per item to a file, as a slow-ish real exporter would.
struct FileLines(PathBuf);

impl TracingExporter for FileLines {
    fn name(&self) -> &str {
        "file-lines"
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            // A backend that takes its time: an exit that does not wait for it loses the batch.
            std::thread::sleep(std::time::Duration::from_millis(50));
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.0)
                .map_err(|e| ExportError::permanent(e.to_string()))?;
            for item in batch {
                writeln!(f, "{}", item.trace_id())
                    .map_err(|e| ExportError::permanent(e.to_string()))?;
            }
            Ok(())
        })
    }
}

/// The child's work: 100 spans under the global provider, then the exit the parent asked for.
fn child(mode: &str) {
    let out = PathBuf::from(std::env::var(OUT).unwrap());
    if mode == "tokio_main_drop" {
        // What `#[tokio::main]` does: a provider (not the global one) dropped inside
        // `block_on`, on a runtime thread, right before `main` returns.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let batch = BatchProcessor::builder()
                .with_exporter(FileLines(out))
                .build();
            let provider = TracerProvider::builder().with_processor(batch).build();
            provider
                .trace("exiting")
                .run(async {
                    for _ in 0..100 {
                        custom_span("s").end();
                    }
                })
                .await;
            drop(provider);
        });
        return;
    }
    let batch = BatchProcessor::builder()
        // A long delay: nothing would be exported before exit without the exit hook.
        .schedule_delay(std::time::Duration::from_secs(600))
        .with_exporter(FileLines(out))
        .build();
    let provider = TracerProvider::builder().with_processor(batch).build();
    agent_trace::set_global_provider(&provider);
    agent_trace::trace("exiting").in_scope(|| {
        for _ in 0..100 {
            custom_span("s").end();
        }
    });
    if mode == "process_exit" {
        std::process::exit(0);
    }
}

fn run_child(test: &str, mode: &str) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("items.txt");
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--test-threads=1"])
        .env(CHILD, mode)
        .env(OUT, &out)
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "child {mode} failed: {}\n{}",
        child.status,
        String::from_utf8_lossy(&child.stderr)
    );
    std::fs::read_to_string(&out)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// In the child (re-executed with `CHILD` set): do the work and exit as asked. In the parent:
/// run that child and check that every item reached the file — 100 spans and the trace's
/// record at its start and its end.
fn exit_case(test: &str, mode: &str) {
    match std::env::var(CHILD).as_deref() {
        Ok(mode) => child(mode),
        Err(_) => assert_eq!(run_child(test, mode), 102),
    }
}

#[test]
fn returning_from_main_delivers_everything() {
    exit_case("returning_from_main_delivers_everything", "return");
}

#[test]
fn process_exit_delivers_everything() {
    exit_case("process_exit_delivers_everything", "process_exit");
}

#[test]
fn a_provider_dropped_at_the_end_of_tokio_main_delivers_everything() {
    exit_case(
        "a_provider_dropped_at_the_end_of_tokio_main_delivers_everything",
        "tokio_main_drop",
    );
}

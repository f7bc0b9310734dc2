//! `OTEL_BSP_MAX_QUEUE_SIZE=0` is clamped to the smallest queue, with a warning; spans are
//! delivered, not all dropped. Alone in its binary: it sets the process environment.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_trace::{custom_span, BatchProcessor, TracerProvider};
use common::TestExporter;

#[test]
fn zero_queue_size_is_clamped_and_said() {
    // SAFETY: the only test of this binary; nothing else runs or reads the environment yet.
    unsafe { std::env::set_var("OTEL_BSP_MAX_QUEUE_SIZE", "0") };
    let said = Arc::new(Mutex::new(Vec::new()));
    let sink = said.clone();
    agent_trace::set_diagnostics_hook(move |d| sink.lock().unwrap().push(d.message.clone()));

    let exporter = TestExporter::new("e");
    let batch = BatchProcessor::builder()
        .with_exporter(exporter.clone())
        .build();
    let provider = TracerProvider::builder()
        .with_processor(batch.clone())
        .build();
    provider.trace("wf").in_scope(|| {
        for _ in 0..5 {
            custom_span("s").end();
        }
    });
    batch.force_flush_blocking(Duration::from_secs(10)).unwrap();
    assert_eq!(exporter.count(), 7, "{:?}", batch.stats());
    let said = said.lock().unwrap().clone();
    assert!(
        said.iter()
            .any(|m| m.contains("OTEL_BSP_MAX_QUEUE_SIZE=0") && m.contains("using 16")),
        "{said:?}"
    );
}

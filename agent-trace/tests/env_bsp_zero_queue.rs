//! `OTEL_BSP_MAX_QUEUE_SIZE=0` is clamped to the smallest queue, with a warning; spans are
//! delivered, not all dropped. Alone in its binary: it sets the process environment.

mod common;

#[test]
fn zero_queue_size_is_clamped_and_said() {
    // SAFETY: the only test of this binary; nothing else runs or reads the environment yet.
    unsafe { std::env::set_var("OTEL_BSP_MAX_QUEUE_SIZE", "0") };
    let said = common::capture_diagnostics();
    let (exporter, stats) = common::spans_through_default_batch(5);
    assert_eq!(exporter.count(), 7, "{stats:?}");
    let said = said.lock().unwrap().clone();
    assert!(
        said.iter()
            .any(|m| m.contains("OTEL_BSP_MAX_QUEUE_SIZE=0") && m.contains("using 16")),
        "{said:?}"
    );
}

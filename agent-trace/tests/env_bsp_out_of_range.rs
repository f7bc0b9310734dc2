//! `OTEL_BSP_*` values out of range are clamped with a warning that names the variable and the
//! value used; they neither abort the process (a huge queue), panic (a batch size of 0) nor
//! drop everything. Alone in its binary: it sets the process environment before anything reads
//! it.

mod common;

#[test]
fn huge_queue_and_zero_batch_size_are_clamped_and_said() {
    // SAFETY: the only test of this binary; nothing else runs or reads the environment yet.
    unsafe {
        std::env::set_var("OTEL_BSP_MAX_QUEUE_SIZE", "99999999999");
        std::env::set_var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0");
        std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "soon");
    }
    let said = common::capture_diagnostics();
    let (exporter, stats) = common::spans_through_default_batch(100);
    // 100 spans and the trace's record at its start and its end.
    assert_eq!(exporter.count(), 102);
    assert!(stats.balanced(), "{stats:?}");

    let said = said.lock().unwrap().clone();
    let find = |needle: &str| said.iter().find(|m| m.contains(needle)).cloned();
    let queue = find("OTEL_BSP_MAX_QUEUE_SIZE=99999999999").expect("queue size said");
    assert!(queue.contains("using 262144"), "{queue}");
    let batch_size = find("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=0").expect("batch size said");
    assert!(batch_size.contains("using 1"), "{batch_size}");
    let delay = find("OTEL_BSP_SCHEDULE_DELAY").expect("delay said");
    assert!(delay.contains("using the default 5000"), "{delay}");
}

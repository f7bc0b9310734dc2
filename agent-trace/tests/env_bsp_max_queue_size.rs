//! `OTEL_BSP_MAX_QUEUE_SIZE`, good and bad values, each read by a process of its own: this binary runs its test
//! again in a child process per value (the SDK reads its environment once per process). A good
//! value is used as given and said nothing about; a bad one (out of range, not a number) is
//! clamped or replaced by the default, with a warning that names the variable and the value
//! used; spans go through either way.

mod common;

/// (case, value, what the builder's Debug output shows, what the warning says).
const CASES: &[(&str, &str, &str, Option<&str>)] = &[
    ("in_range", "2048", "max_queue_size: 2048,", None),
    ("padded", " 4096 ", "max_queue_size: 4096,", None),
    ("zero", "0", "max_queue_size: 16,", Some("using 16")),
    (
        "huge",
        "99999999999",
        "max_queue_size: 262144,",
        Some("using 262144"),
    ),
    (
        "negative",
        "-5",
        "max_queue_size: 8192,",
        Some("using the default 8192"),
    ),
    (
        "not_a_number",
        "lots",
        "max_queue_size: 8192,",
        Some("using the default 8192"),
    ),
];

#[test]
fn max_queue_size_values() {
    common::bsp_cases("max_queue_size_values", "OTEL_BSP_MAX_QUEUE_SIZE", CASES);
}

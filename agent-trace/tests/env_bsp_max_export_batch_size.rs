//! `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, good and bad values, each read by a process of its own: this binary runs its test
//! again in a child process per value (the SDK reads its environment once per process). A good
//! value is used as given and said nothing about; a bad one (out of range, not a number) is
//! clamped or replaced by the default, with a warning that names the variable and the value
//! used; spans go through either way.

mod common;

/// (case, value, what the builder's Debug output shows, what the warning says).
const CASES: &[(&str, &str, &str, Option<&str>)] = &[
    ("in_range", "64", "max_batch_size: 64,", None),
    ("zero", "0", "max_batch_size: 1,", Some("using 1")),
    (
        "huge",
        "100000",
        "max_batch_size: 65536,",
        Some("using 65536"),
    ),
    (
        "fraction",
        "12.5",
        "max_batch_size: 128,",
        Some("using the default 128"),
    ),
    (
        "empty",
        "",
        "max_batch_size: 128,",
        Some("using the default 128"),
    ),
];

#[test]
fn max_export_batch_size_values() {
    common::bsp_cases(
        "max_export_batch_size_values",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        CASES,
    );
}

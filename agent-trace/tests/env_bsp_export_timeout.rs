//! `OTEL_BSP_EXPORT_TIMEOUT`, good and bad values, each read by a process of its own: this binary runs its test
//! again in a child process per value (the SDK reads its environment once per process). A good
//! value is used as given and said nothing about; a bad one (out of range, not a number) is
//! clamped or replaced by the default, with a warning that names the variable and the value
//! used; spans go through either way.

mod common;

/// (case, value, what the builder's Debug output shows, what the warning says).
const CASES: &[(&str, &str, &str, Option<&str>)] = &[
    ("in_range", "10000", "export_timeout: 10s,", None),
    ("zero", "0", "export_timeout: 1ms,", Some("using 1")),
    (
        "huge",
        "99999999999",
        "export_timeout: 3600s,",
        Some("using 3600000"),
    ),
    (
        "not_a_number",
        "soon",
        "export_timeout: 30s,",
        Some("using the default 30000"),
    ),
];

#[test]
fn export_timeout_values() {
    common::bsp_cases("export_timeout_values", "OTEL_BSP_EXPORT_TIMEOUT", CASES);
}

//! `OTEL_BSP_SCHEDULE_DELAY`, good and bad values, each read by a process of its own: this binary runs its test
//! again in a child process per value (the SDK reads its environment once per process). A good
//! value is used as given and said nothing about; a bad one (out of range, not a number) is
//! clamped or replaced by the default, with a warning that names the variable and the value
//! used; spans go through either way.

mod common;

/// (case, value, what the builder's Debug output shows, what the warning says).
const CASES: &[(&str, &str, &str, Option<&str>)] = &[
    ("in_range", "250", "schedule_delay: 250ms,", None),
    ("zero", "0", "schedule_delay: 1ms,", Some("using 1")),
    (
        "huge",
        "99999999999",
        "schedule_delay: 3600s,",
        Some("using 3600000"),
    ),
    (
        "with_a_unit",
        "5s",
        "schedule_delay: 5s,",
        Some("using the default 5000"),
    ),
];

#[test]
fn schedule_delay_values() {
    common::bsp_cases("schedule_delay_values", "OTEL_BSP_SCHEDULE_DELAY", CASES);
}

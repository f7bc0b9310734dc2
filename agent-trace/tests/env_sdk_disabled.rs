//! `OTEL_SDK_DISABLED` in each value form, each read by a process of its own: this binary runs
//! its test again in a child process per value (the switch is read once per process). `true`
//! in any case and with spaces around it, and `1`, switch tracing off; anything else, and the
//! variable unset, leave it on.

mod common;

use agent_trace::custom_span;

/// (case, value (`None`: unset), whether tracing stays on).
const CASES: &[(&str, Option<&str>, bool)] = &[
    ("unset", None, true),
    ("true", Some("true"), false),
    ("upper_case", Some("TRUE"), false),
    ("mixed_case", Some("True"), false),
    ("padded", Some(" true\n"), false),
    ("one", Some("1"), false),
    ("false", Some("false"), true),
    ("zero", Some("0"), true),
    ("empty", Some(""), true),
    ("not_a_boolean", Some("truthy"), true),
];

#[test]
fn otel_sdk_disabled_values() {
    match common::env_case() {
        Some(case) => {
            let (_, _, on) = CASES.iter().find(|c| c.0 == case).expect("known case");
            let (provider, seen) = common::collecting();
            let n = provider
                .trace("wf")
                .in_scope(|| custom_span("x").in_scope(|| 2 + 2));
            // Off, the code still runs; only nothing is recorded.
            assert_eq!(n, 4);
            assert_eq!(agent_trace::is_enabled(), *on);
            assert_eq!(seen.spans().len(), usize::from(*on));
            assert_eq!(seen.traces().len(), usize::from(*on));
        }
        None => {
            for (case, value, _) in CASES {
                common::run_env_case(
                    "otel_sdk_disabled_values",
                    "OTEL_SDK_DISABLED",
                    *value,
                    case,
                );
            }
        }
    }
}

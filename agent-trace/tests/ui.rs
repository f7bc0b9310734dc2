//! Compile-time tests of `#[traced]`: error messages (`ui/fail`) and accepted shapes (`ui/pass`).
//!
//! Regenerate the expected `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p agent-trace --test ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

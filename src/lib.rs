//! Workspace package: owns the top-level examples (the tests live beside the crate they test,
//! the benchmarks in their own package, benches/).

/// The README's Rust examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

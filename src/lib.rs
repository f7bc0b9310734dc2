//! Workspace package: owns the top-level examples (the tests live beside the crate they test,
//! the benchmarks in their own package, benches/).

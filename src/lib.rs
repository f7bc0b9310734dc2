//! Workspace package: owns examples, tests and benches.

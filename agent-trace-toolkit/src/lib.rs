//! # agent-trace-toolkit
//!
//! The observability toolkit around agent-trace.
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]

pub mod metrics;
pub mod profiler;

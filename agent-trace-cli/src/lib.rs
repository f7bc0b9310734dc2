//! The `agent-trace` command's library: reading JSONL trace files (our `JsonlExporter`'s and
//! the OpenAI Agents SDK's, the same shape) and turning them into a terminal Gantt chart,
//! statistics, a diff of two sets of runs and a self-contained HTML report.
//!
//! The binary (`src/main.rs`) is a thin layer of flags over these modules.

#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![forbid(unsafe_code)]

pub mod analysis;
pub mod assemble;
pub mod commands;
pub mod config_init;
pub mod diff;
pub mod follow;
pub mod gantt;
pub mod input;
pub mod parse;
pub mod prices;
pub mod report;
pub mod stats;
pub mod style;
pub mod summary;

/// Why a command failed (bad lines are never an error: they are reported and skipped).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Input could not be read.
    #[error(transparent)]
    Input(#[from] input::InputError),
    /// The price table is unusable.
    #[error(transparent)]
    Prices(#[from] prices::PriceError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// Writing a file failed.
    #[error("cannot write `{path}`: {source}; check that its directory exists and is writable")]
    Write {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// `--trace` matched nothing.
    #[error("no trace matches `{0}`; `agent-trace list FILE` shows the trace ids")]
    NoSuchTrace(String),
    /// `view --follow` was given no file, several, or stdin.
    #[error("view --follow watches exactly one file (not stdin or a glob): agent-trace view --follow traces.jsonl")]
    FollowOneFile,
    /// `diff --max-cost-increase` without a price table.
    #[error("--max-cost-increase needs --prices FILE.toml (costs come from the price table)")]
    CostNeedsPrices,
    /// The input held no trace.
    #[error("no traces found in the input")]
    NoTraces,
    /// `config init` would produce a file that does not load (a flag's value is not allowed).
    #[error("{0}")]
    Config(String),
    /// `config init -o FILE` where FILE exists, without `--force`.
    #[error("`{0}` exists; pass --force to replace it, or choose another -o FILE")]
    Exists(String),
}

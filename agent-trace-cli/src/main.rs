//! `agent-trace`: look at JSONL trace files — list, view (terminal Gantt), stats, report
//! (self-contained HTML), diff (gate an agent change in CI).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use agent_trace_cli::commands::{self, Outcome};
use agent_trace_cli::config_init::InitArgs;
use agent_trace_cli::diff::Thresholds;
use agent_trace_cli::CliError;

/// Look at agent traces written as JSON lines (by agent-trace's JsonlExporter or the OpenAI
/// Agents SDK). FILE may be a path, a glob ('traces/*.jsonl') or - for stdin (the default).
/// Invalid lines are reported on stderr with their line numbers and skipped.
#[derive(Parser)]
#[command(name = "agent-trace", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Common {
    /// Don't print warnings about skipped lines (only their count).
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// List traces: workflow, group, start, duration, spans, errors, tokens.
    List {
        /// JSONL files, globs, or - for stdin.
        files: Vec<String>,
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Show traces as a Gantt chart in the terminal, one row per span.
    View {
        /// JSONL files, globs, or - for stdin (with --follow: one file).
        files: Vec<String>,
        /// Only the trace with this id (or id prefix, with or without `trace_`).
        #[arg(long, short)]
        trace: Option<String>,
        /// Keep reading the file as a running program appends to it, redrawing the latest traces.
        #[arg(long, short)]
        follow: bool,
        /// With --follow: how many of the latest traces to show.
        #[arg(long, default_value_t = 3, value_name = "N")]
        last: usize,
        /// Width in columns (default: the terminal's, else 100).
        #[arg(long, value_name = "COLUMNS")]
        width: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// Critical paths, self time, latency percentiles, error rates, token usage and cost.
    Stats {
        /// JSONL files, globs, or - for stdin.
        files: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// A TOML price table ([models."NAME"] input/output in dollars per million tokens).
        #[arg(long, value_name = "FILE.toml")]
        prices: Option<PathBuf>,
        /// Rows per table in the text output.
        #[arg(long, default_value_t = 10, value_name = "N")]
        top: usize,
        /// Critical paths to show (of the slowest traces).
        #[arg(long, default_value_t = 3, value_name = "N")]
        paths: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Write one self-contained HTML file (no network): trace list, zoomable timeline,
    /// span inspector and the statistics.
    Report {
        /// JSONL files, globs, or - for stdin.
        files: Vec<String>,
        /// The HTML file to write.
        #[arg(short, long, value_name = "FILE.html")]
        output: PathBuf,
        /// A TOML price table, for costs.
        #[arg(long, value_name = "FILE.toml")]
        prices: Option<PathBuf>,
        /// The most traces to include (the slowest are kept; statistics cover all).
        #[arg(long, default_value_t = 500, value_name = "N")]
        max_traces: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Compare a baseline and a candidate set of runs; exit 1 past any given threshold.
    Diff {
        /// Baseline: a JSONL file or glob.
        baseline: String,
        /// Candidate: a JSONL file or glob.
        candidate: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// A TOML price table, for costs.
        #[arg(long, value_name = "FILE.toml")]
        prices: Option<PathBuf>,
        /// Rows to print (most significant first).
        #[arg(long, default_value_t = 20, value_name = "N")]
        top: usize,
        #[command(flatten)]
        thresholds: Thresholds,
        #[command(flatten)]
        common: Common,
    },
    /// The agent-trace.toml configuration file (read by agent_trace_toolkit::init).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Write a commented config file: every key with what it does, its environment variable
    /// and what it accepts, set from these flags or to its default.
    Init(InitArgs),
}

fn run(cli: Cli) -> Result<Outcome, CliError> {
    match cli.command {
        Command::List {
            files,
            json,
            common,
        } => commands::list(&files, json, common.quiet),
        Command::View {
            files,
            trace,
            follow,
            last,
            width,
            common,
        } => {
            if follow {
                agent_trace_cli::follow::follow(&files, last, width, common.quiet)
            } else {
                commands::view(&files, trace.as_deref(), width, common.quiet)
            }
        }
        Command::Stats {
            files,
            json,
            prices,
            top,
            paths,
            common,
        } => commands::stats(&files, json, prices.as_deref(), top, paths, common.quiet),
        Command::Report {
            files,
            output,
            prices,
            max_traces,
            common,
        } => commands::report(&files, &output, prices.as_deref(), max_traces, common.quiet),
        Command::Diff {
            baseline,
            candidate,
            json,
            prices,
            top,
            thresholds,
            common,
        } => commands::diff(
            &baseline,
            &candidate,
            json,
            prices.as_deref(),
            top,
            &thresholds,
            common.quiet,
        ),
        Command::Config {
            action: ConfigAction::Init(args),
        } => agent_trace_cli::config_init::init(&args),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::ThresholdExceeded) => ExitCode::from(1),
        // A closed pipe (`agent-trace view f | head`) is not a failure.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

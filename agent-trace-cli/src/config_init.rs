//! `agent-trace config init`: a commented `agent-trace.toml` from flags, written by
//! [`agent_trace_toolkit::config::generate`] and checked by loading it back.

use std::io::Write;
use std::path::{Path, PathBuf};

use agent_trace_toolkit::config::{generate, Config, GenerateOptions};

use crate::commands::Outcome;
use crate::CliError;

/// The flags of `agent-trace config init`; each sets one key of the generated file.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct InitArgs {
    /// Where to write the file (default: stdout).
    #[arg(short, long, value_name = "FILE.toml")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// `logging.level`, e.g. `info` or `warn,agent=info,agent.triage=debug` (turns logging on).
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// `logging.file`: write log lines to this file (turns logging on).
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<String>,
    /// `logging.template`: the text line format (turns logging on).
    #[arg(long, value_name = "TEMPLATE")]
    pub log_format: Option<String>,
    /// `logging.format = "json"`: JSON log lines.
    #[arg(long)]
    pub log_json: bool,
    /// `logging.rotation`: never, daily or size.
    #[arg(long, value_name = "ROTATION")]
    pub log_rotation: Option<String>,
    /// `exporters.otlp.endpoint`, e.g. http://localhost:4318.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// `exporters.jsonl.path`: the JSONL trace file.
    #[arg(long, value_name = "PATH")]
    pub jsonl: Option<String>,
    /// `exporters.console.enabled = true`: a tree per trace in the terminal.
    #[arg(long)]
    pub console: bool,
    /// `metrics.listen`: serve Prometheus /metrics on this address (turns metrics on).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// `sampling.ratio`: the share of traces kept, 0.0 to 1.0.
    #[arg(long, value_name = "RATIO")]
    pub sampling_ratio: Option<f64>,
    /// `privacy.include_sensitive_data = true`: export prompts, completions, tool arguments.
    #[arg(long)]
    pub include_sensitive_data: bool,
}

impl InitArgs {
    fn options(&self) -> GenerateOptions {
        let mut o = GenerateOptions::default();
        o.log_level = self.log_level.clone();
        o.log_file = self.log_file.clone();
        o.log_format = self.log_format.clone();
        o.log_json = self.log_json;
        o.log_rotation = self.log_rotation.clone();
        o.otlp_endpoint = self.otlp_endpoint.clone();
        o.jsonl_path = self.jsonl.clone();
        o.console = self.console;
        o.metrics_listen = self.metrics_listen.clone();
        o.sampling_ratio = self.sampling_ratio;
        o.include_sensitive_data = self.include_sensitive_data;
        o
    }
}

/// Generates the file, checks that it loads (so a bad flag value is reported with the key it
/// sets and what that key allows), and writes it to `--output` or stdout.
pub fn init(args: &InitArgs) -> Result<Outcome, CliError> {
    let text = generate(&args.options());
    Config::from_toml_str(&text).map_err(|e| CliError::Config(e.to_string()))?;
    match &args.output {
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
        Some(path) => write_new(path, &text, args.force)?,
    }
    Ok(Outcome::Ok)
}

fn write_new(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let write_err = |source| CliError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut file = open.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::Exists(path.display().to_string())
        } else {
            write_err(e)
        }
    })?;
    file.write_all(text.as_bytes()).map_err(write_err)
}

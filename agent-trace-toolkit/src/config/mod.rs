//! One configuration: a TOML file (path by argument or `AGENT_TRACE_CONFIG`) overridden by
//! environment variables, covering enablement, sampling, privacy, exporters, batch settings,
//! metrics and logging. [`init_from_config`](crate::init_from_config) builds everything from it;
//! [`generate`] writes a commented file.
//!
//! Every key, its variable and what it accepts (the file [`generate`] writes says the same):
//!
//! | key | environment variable | values (default) |
//! |---|---|---|
//! | `enabled` | `AGENT_TRACE_ENABLED` | `true` / `false` (`true`) |
//! | `sampling.ratio` | `AGENT_TRACE_SAMPLING_RATIO` | share of traces kept, `0.0`–`1.0`, decided from the trace id by the provider's head sampler (parent-based `TraceIdRatio`; below `1.0` it wins over `OTEL_TRACES_SAMPLER`) (`1.0`) |
//! | `privacy.include_sensitive_data` | `AGENT_TRACE_PRIVACY_INCLUDE_SENSITIVE_DATA` | export inputs, outputs and error data (`false`) |
//! | `batch.max_queue_size` | `AGENT_TRACE_BATCH_MAX_QUEUE_SIZE` | `16`–`262144` (`8192`) |
//! | `batch.max_batch_size` | `AGENT_TRACE_BATCH_MAX_BATCH_SIZE` | `1`–`65536` (`128`) |
//! | `batch.schedule_delay_ms` | `AGENT_TRACE_BATCH_SCHEDULE_DELAY_MS` | `1`–`3600000` (`5000`) |
//! | `batch.export_timeout_ms` | `AGENT_TRACE_BATCH_EXPORT_TIMEOUT_MS` | `1`–`3600000` (`30000`) |
//! | `batch.spool_dir` | `AGENT_TRACE_BATCH_SPOOL_DIR` | a directory, `""` for none (`""`) |
//! | `exporters.console.enabled` | `AGENT_TRACE_EXPORTERS_CONSOLE_ENABLED` | `true` / `false` (`false`) |
//! | `exporters.console.format` | `AGENT_TRACE_EXPORTERS_CONSOLE_FORMAT` | `tree`, `json` (`tree`) |
//! | `exporters.console.stream` | `AGENT_TRACE_EXPORTERS_CONSOLE_STREAM` | `stdout`, `stderr` (`stdout`) |
//! | `exporters.jsonl.path` | `AGENT_TRACE_EXPORTERS_JSONL_PATH` | a file, `""` for no JSONL export (`""`) |
//! | `exporters.jsonl.max_bytes` | `AGENT_TRACE_EXPORTERS_JSONL_MAX_BYTES` | rotate past this size, `0` never (`0`) |
//! | `exporters.jsonl.rotate_daily` | `AGENT_TRACE_EXPORTERS_JSONL_ROTATE_DAILY` | `true` / `false` (`false`) |
//! | `exporters.jsonl.retention` | `AGENT_TRACE_EXPORTERS_JSONL_RETENTION` | rotated files kept (`10`) |
//! | `exporters.otlp.endpoint` | `AGENT_TRACE_EXPORTERS_OTLP_ENDPOINT` | `http(s)://host:port`, `""` for no OTLP (`""`); needs the `otlp` feature |
//! | `exporters.otlp.protocol` | `AGENT_TRACE_EXPORTERS_OTLP_PROTOCOL` | `protobuf`, `json` (`protobuf`) |
//! | `exporters.otlp.service_name` | `AGENT_TRACE_EXPORTERS_OTLP_SERVICE_NAME` | text (`""`: the exporter's default) |
//! | `exporters.otlp.timeout_ms` | `AGENT_TRACE_EXPORTERS_OTLP_TIMEOUT_MS` | `1`–`3600000` (`10000`) |
//! | `exporters.otlp.headers` | — | a table of header names to values (`{}`) |
//! | `metrics.enabled` | `AGENT_TRACE_METRICS_ENABLED` | `true` / `false` (`false`) |
//! | `metrics.listen` | `AGENT_TRACE_METRICS_LISTEN` | `host:port` serving `/metrics`, `""` for none (`""`) |
//! | `metrics.max_names_per_kind` | `AGENT_TRACE_METRICS_MAX_NAMES_PER_KIND` | `1`–`100000` (`200`) |
//! | `metrics.max_models` | `AGENT_TRACE_METRICS_MAX_MODELS` | `1`–`100000` (`100`) |
//! | `logging.enabled` | `AGENT_TRACE_LOGGING_ENABLED` | `true` / `false` (`false`) |
//! | `logging.level` | `AGENT_TRACE_LOGGING_LEVEL` | `info`, or `info,agent.triage=debug,models=warn` (`info`) |
//! | `logging.output` | `AGENT_TRACE_LOGGING_OUTPUT` | `stderr`, `stdout`, `file`, `subscriber` (your own `tracing` subscriber) (`stderr`) |
//! | `logging.file` | `AGENT_TRACE_LOGGING_FILE` | the log file, for `output = "file"` (`"agent.log"`) |
//! | `logging.format` | `AGENT_TRACE_LOGGING_FORMAT` | `text`, `json` (`text`) |
//! | `logging.template` | `AGENT_TRACE_LOGGING_TEMPLATE` | text template ([`DEFAULT_TEMPLATE`](crate::logging::DEFAULT_TEMPLATE)) |
//! | `logging.rotation` | `AGENT_TRACE_LOGGING_ROTATION` | `never`, `daily`, `size` (`never`) |
//! | `logging.max_bytes` | `AGENT_TRACE_LOGGING_MAX_BYTES` | size limit for `rotation = "size"` (`10485760`) |
//! | `logging.retention` | `AGENT_TRACE_LOGGING_RETENTION` | rotated files kept (`7`) |
//!
//! Unknown keys and bad values are errors that name the key (or variable), the value and what
//! is allowed.

mod generate;
mod keys;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use generate::{generate, GenerateOptions};
pub use keys::{env_var, KEYS};

/// The whole configuration. `Config::default()` is what an empty file gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Config {
    /// Tracing on or off.
    pub enabled: bool,
    /// `[sampling]`.
    pub sampling: Sampling,
    /// `[privacy]`.
    pub privacy: Privacy,
    /// `[batch]`.
    pub batch: Batch,
    /// `[exporters.*]`.
    pub exporters: Exporters,
    /// `[metrics]`.
    pub metrics: Metrics,
    /// `[logging]`.
    pub logging: Logging,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            sampling: Sampling::default(),
            privacy: Privacy::default(),
            batch: Batch::default(),
            exporters: Exporters::default(),
            metrics: Metrics::default(),
            logging: Logging::default(),
        }
    }
}

/// `[sampling]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Sampling {
    /// Share of traces kept, 0.0 to 1.0.
    pub ratio: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling { ratio: 1.0 }
    }
}

/// `[privacy]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Privacy {
    /// Export inputs, outputs and error data (off: names, timings, usage and error messages
    /// only).
    pub include_sensitive_data: bool,
}

/// `[batch]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Batch {
    /// Items each producing thread may have waiting.
    pub max_queue_size: u64,
    /// Items per exported batch.
    pub max_batch_size: u64,
    /// How long a partial batch may wait, in ms.
    pub schedule_delay_ms: u64,
    /// The longest one export call may take, in ms.
    pub export_timeout_ms: u64,
    /// Keeps undelivered batches here (`""`: no spool).
    pub spool_dir: String,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            max_queue_size: 8192,
            max_batch_size: 128,
            schedule_delay_ms: 5000,
            export_timeout_ms: 30_000,
            spool_dir: String::new(),
        }
    }
}

/// `[exporters]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Exporters {
    /// `[exporters.console]`.
    pub console: Console,
    /// `[exporters.jsonl]`.
    pub jsonl: Jsonl,
    /// `[exporters.otlp]`.
    pub otlp: Otlp,
}

/// `[exporters.console]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Console {
    /// Print finished traces.
    pub enabled: bool,
    /// `tree` or `json`.
    pub format: String,
    /// `stdout` or `stderr`.
    pub stream: String,
}

impl Default for Console {
    fn default() -> Self {
        Console {
            enabled: false,
            format: "tree".into(),
            stream: "stdout".into(),
        }
    }
}

/// `[exporters.jsonl]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Jsonl {
    /// The file (`""`: no JSONL export).
    pub path: String,
    /// Rotate past this size (0: never).
    pub max_bytes: u64,
    /// Rotate at midnight.
    pub rotate_daily: bool,
    /// Rotated files kept.
    pub retention: u64,
}

impl Default for Jsonl {
    fn default() -> Self {
        Jsonl {
            path: String::new(),
            max_bytes: 0,
            rotate_daily: false,
            retention: 10,
        }
    }
}

/// `[exporters.otlp]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Otlp {
    /// Base URL (`""`: no OTLP export).
    pub endpoint: String,
    /// `protobuf` or `json`.
    pub protocol: String,
    /// `service.name` (`""`: the exporter's default).
    pub service_name: String,
    /// Request timeout in ms.
    pub timeout_ms: u64,
    /// Extra request headers.
    pub headers: std::collections::BTreeMap<String, String>,
}

impl Default for Otlp {
    fn default() -> Self {
        Otlp {
            endpoint: String::new(),
            protocol: "protobuf".into(),
            service_name: String::new(),
            timeout_ms: 10_000,
            headers: Default::default(),
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Metrics {
    /// Collect span metrics.
    pub enabled: bool,
    /// Serve `/metrics` here (`""`: don't serve).
    pub listen: String,
    /// Distinct names per span kind before folding into `other`.
    pub max_names_per_kind: u64,
    /// Distinct models before folding into `other`.
    pub max_models: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            enabled: false,
            listen: String::new(),
            max_names_per_kind: 200,
            max_models: 100,
        }
    }
}

/// `[logging]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Logging {
    /// Log span starts and ends.
    pub enabled: bool,
    /// Levels by logger.
    pub level: String,
    /// `stderr`, `stdout`, `file` or `subscriber`.
    pub output: String,
    /// The log file for `output = "file"`.
    pub file: String,
    /// `text` or `json`.
    pub format: String,
    /// The text template.
    pub template: String,
    /// `never`, `daily` or `size`.
    pub rotation: String,
    /// Size limit for `rotation = "size"`.
    pub max_bytes: u64,
    /// Rotated files kept.
    pub retention: u64,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            enabled: false,
            level: "info".into(),
            output: "stderr".into(),
            file: "agent.log".into(),
            format: "text".into(),
            template: crate::logging::DEFAULT_TEMPLATE.into(),
            rotation: "never".into(),
            max_bytes: 10 << 20,
            retention: 7,
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type.
    #[error("config file {origin}: {message}")]
    Parse {
        /// The file (or `<string>`).
        origin: String,
        /// The TOML parser's message: the key, line and column, and what was expected.
        message: String,
    },
    /// A key (or its environment variable) has a value outside what it accepts.
    #[error("config key {key} (from {source_name}) has the value {value:?}; allowed: {allowed}")]
    Invalid {
        /// The dotted key (`logging.level`).
        key: String,
        /// Where the value came from: the file, or the environment variable's name.
        source_name: String,
        /// The value given.
        value: String,
        /// What is accepted.
        allowed: String,
    },
}

impl Config {
    /// Loads the file at `path`, or the one `AGENT_TRACE_CONFIG` names, or the defaults when
    /// neither is given; then applies the environment variables of the table above.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let path = path
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("AGENT_TRACE_CONFIG").map(PathBuf::from));
        let lookup = |name: &str| std::env::var(name).ok();
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                Config::parse(&text, &p.display().to_string(), lookup)
            }
            None => Config::parse("", "<defaults>", lookup),
        }
    }

    /// Parses TOML text, without environment overrides.
    ///
    /// ```
    /// use agent_trace_toolkit::config::Config;
    /// let c = Config::from_toml_str("[logging]\nenabled = true\nlevel = \"debug\"").unwrap();
    /// assert_eq!(c.logging.level, "debug");
    /// let e = Config::from_toml_str("[logging]\nlevle = \"debug\"").unwrap_err();
    /// assert!(e.to_string().contains("levle"));
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "<string>", |_| None)
    }

    /// Parses TOML text, then applies overrides from `lookup` (an environment: variable name →
    /// value), then checks every value.
    pub fn parse(
        text: &str,
        origin: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let parse_err = |message: String| ConfigError::Parse {
            origin: origin.to_owned(),
            message,
        };
        // The file first, on its own: its errors carry the key's line and column.
        let config: Config = toml::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        let mut table = toml::Table::try_from(&config).map_err(|e| parse_err(e.to_string()))?;
        let overridden = keys::apply_env(&mut table, &lookup)?;
        let config: Config = if overridden.is_empty() {
            config
        } else {
            table
                .try_into()
                .map_err(|e: toml::de::Error| parse_err(e.to_string()))?
        };
        keys::validate(&config, origin, &overridden)?;
        Ok(config)
    }
}

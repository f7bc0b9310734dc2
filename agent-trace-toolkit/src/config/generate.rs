//! The config generator: a commented TOML file from a few options, as the seed's
//! `generate_config --log-level DEBUG --log-file agent.log --log-format …` writes one.

use super::Config;

/// What [`generate`] puts in the file; unset options keep the defaults.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct GenerateOptions {
    /// `logging.level` (turns logging on).
    pub log_level: Option<String>,
    /// `logging.file` (turns logging on, to that file).
    pub log_file: Option<String>,
    /// `logging.template` (turns logging on).
    pub log_format: Option<String>,
    /// `logging.format = "json"`.
    pub log_json: bool,
    /// `logging.rotation` (`never`, `daily`, `size`).
    pub log_rotation: Option<String>,
    /// `exporters.otlp.endpoint`.
    pub otlp_endpoint: Option<String>,
    /// `exporters.jsonl.path`.
    pub jsonl_path: Option<String>,
    /// `exporters.console.enabled`.
    pub console: bool,
    /// `metrics.listen` (turns metrics on).
    pub metrics_listen: Option<String>,
    /// `sampling.ratio`.
    pub sampling_ratio: Option<f64>,
    /// `privacy.include_sensitive_data`.
    pub include_sensitive_data: bool,
}

/// A TOML basic string: JSON's escapes are TOML's, plus DEL, which TOML also wants escaped.
fn q(s: &str) -> String {
    serde_json::Value::from(s)
        .to_string()
        .replace('\u{7f}', "\\u007F")
}

/// Writes a commented config file: every key with what it does, its environment variable and
/// what it accepts, set from `options` or to its default. The result loads with
/// [`Config::from_toml_str`] to exactly the configuration the options describe.
///
/// ```
/// use agent_trace_toolkit::config::{generate, Config, GenerateOptions};
/// let mut opts = GenerateOptions::default();
/// opts.log_level = Some("debug".into());
/// opts.log_file = Some("agent.log".into());
/// let text = generate(&opts);
/// let c = Config::from_toml_str(&text).unwrap();
/// assert!(c.logging.enabled);
/// assert_eq!((c.logging.level.as_str(), c.logging.output.as_str()), ("debug", "file"));
/// ```
pub fn generate(o: &GenerateOptions) -> String {
    let d = Config::default();
    let logging_on =
        o.log_level.is_some() || o.log_file.is_some() || o.log_format.is_some() || o.log_json;
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    line("# agent-trace configuration. Load it with agent_trace_toolkit::init_from_config, from");
    line("# the path in AGENT_TRACE_CONFIG or given in code. Every key can be overridden by the");
    line("# environment variable named next to it. Unknown keys are errors.");
    line("");
    line("# Tracing on or off. AGENT_TRACE_ENABLED");
    line(&format!("enabled = {}", d.enabled));
    line("");
    line("[sampling]");
    line("# Share of traces kept, 0.0 to 1.0, decided from the trace id (every service that");
    line("# sees the same trace decides the same). AGENT_TRACE_SAMPLING_RATIO");
    line(&format!(
        "ratio = {:?}",
        o.sampling_ratio.unwrap_or(d.sampling.ratio)
    ));
    line("");
    line("[privacy]");
    line("# Export inputs, outputs, tool arguments and results, and error data. Off: spans keep");
    line("# names, timings, usage and error messages only. AGENT_TRACE_PRIVACY_INCLUDE_SENSITIVE_DATA");
    line(&format!(
        "include_sensitive_data = {}",
        o.include_sensitive_data
    ));
    line("");
    line("[batch]");
    line("# Items each producing thread may have waiting, 16 to 262144. AGENT_TRACE_BATCH_MAX_QUEUE_SIZE");
    line(&format!("max_queue_size = {}", d.batch.max_queue_size));
    line("# Items per exported batch, 1 to 65536. AGENT_TRACE_BATCH_MAX_BATCH_SIZE");
    line(&format!("max_batch_size = {}", d.batch.max_batch_size));
    line("# How long a partial batch may wait, in ms. AGENT_TRACE_BATCH_SCHEDULE_DELAY_MS");
    line(&format!(
        "schedule_delay_ms = {}",
        d.batch.schedule_delay_ms
    ));
    line("# The longest one export call may take, in ms. AGENT_TRACE_BATCH_EXPORT_TIMEOUT_MS");
    line(&format!(
        "export_timeout_ms = {}",
        d.batch.export_timeout_ms
    ));
    line("# Keep batches that could not be delivered in this directory (\"\": no spool).");
    line("# AGENT_TRACE_BATCH_SPOOL_DIR");
    line(&format!("spool_dir = {}", q(&d.batch.spool_dir)));
    line("");
    line("[exporters.console]");
    line("# Print each finished trace. AGENT_TRACE_EXPORTERS_CONSOLE_ENABLED");
    line(&format!("enabled = {}", o.console));
    line("# \"tree\" or \"json\". AGENT_TRACE_EXPORTERS_CONSOLE_FORMAT");
    line(&format!("format = {}", q(&d.exporters.console.format)));
    line("# \"stdout\" or \"stderr\". AGENT_TRACE_EXPORTERS_CONSOLE_STREAM");
    line(&format!("stream = {}", q(&d.exporters.console.stream)));
    line("");
    line("[exporters.jsonl]");
    line("# OpenAI-Agents-SDK-shaped JSON lines in this file (\"\": none). AGENT_TRACE_EXPORTERS_JSONL_PATH");
    line(&format!(
        "path = {}",
        q(o.jsonl_path.as_deref().unwrap_or(""))
    ));
    line("# Rotate past this many bytes (0: never). AGENT_TRACE_EXPORTERS_JSONL_MAX_BYTES");
    line(&format!("max_bytes = {}", d.exporters.jsonl.max_bytes));
    line("# Rotate at midnight. AGENT_TRACE_EXPORTERS_JSONL_ROTATE_DAILY");
    line(&format!(
        "rotate_daily = {}",
        d.exporters.jsonl.rotate_daily
    ));
    line("# Rotated files kept. AGENT_TRACE_EXPORTERS_JSONL_RETENTION");
    line(&format!("retention = {}", d.exporters.jsonl.retention));
    line("");
    line("[exporters.otlp]");
    line("# OTLP/HTTP base URL, e.g. \"http://localhost:4318\" (\"\": none; needs the toolkit's");
    line("# `otlp` feature). AGENT_TRACE_EXPORTERS_OTLP_ENDPOINT");
    line(&format!(
        "endpoint = {}",
        q(o.otlp_endpoint.as_deref().unwrap_or(""))
    ));
    line("# \"protobuf\" or \"json\". AGENT_TRACE_EXPORTERS_OTLP_PROTOCOL");
    line(&format!("protocol = {}", q(&d.exporters.otlp.protocol)));
    line("# service.name of the resource (\"\": the exporter's default). AGENT_TRACE_EXPORTERS_OTLP_SERVICE_NAME");
    line(&format!(
        "service_name = {}",
        q(&d.exporters.otlp.service_name)
    ));
    line("# Request timeout in ms. AGENT_TRACE_EXPORTERS_OTLP_TIMEOUT_MS");
    line(&format!("timeout_ms = {}", d.exporters.otlp.timeout_ms));
    line("# Extra request headers, e.g. { authorization = \"Bearer …\" } (no variable).");
    line("headers = {}");
    line("");
    line("[metrics]");
    line("# Count spans, errors, latencies and tokens. AGENT_TRACE_METRICS_ENABLED");
    line(&format!("enabled = {}", o.metrics_listen.is_some()));
    line("# Serve Prometheus' /metrics at this address (\"\": don't). AGENT_TRACE_METRICS_LISTEN");
    line(&format!(
        "listen = {}",
        q(o.metrics_listen.as_deref().unwrap_or(""))
    ));
    line("# Names per span kind before the rest count as \"other\". AGENT_TRACE_METRICS_MAX_NAMES_PER_KIND");
    line(&format!(
        "max_names_per_kind = {}",
        d.metrics.max_names_per_kind
    ));
    line("# Models before the rest count as \"other\". AGENT_TRACE_METRICS_MAX_MODELS");
    line(&format!("max_models = {}", d.metrics.max_models));
    line("");
    line("[logging]");
    line("# Log lines for span starts and ends under agent.<name>, models.<model>, tools.<name>,");
    line("# runtime. AGENT_TRACE_LOGGING_ENABLED");
    line(&format!("enabled = {logging_on}"));
    line("# A level (off, error, warn, info, debug, trace), then logger=level entries; a logger's");
    line("# level covers its subtree: \"info,agent.triage=debug,models=warn\". AGENT_TRACE_LOGGING_LEVEL");
    line(&format!(
        "level = {}",
        q(o.log_level.as_deref().unwrap_or(&d.logging.level))
    ));
    line("# \"stderr\", \"stdout\", \"file\", or \"subscriber\" (your own tracing subscriber prints the");
    line("# events). AGENT_TRACE_LOGGING_OUTPUT");
    let output = if o.log_file.is_some() {
        "file"
    } else {
        d.logging.output.as_str()
    };
    line(&format!("output = {}", q(output)));
    line("# The log file when output = \"file\". AGENT_TRACE_LOGGING_FILE");
    line(&format!(
        "file = {}",
        q(o.log_file.as_deref().unwrap_or(&d.logging.file))
    ));
    line("# \"text\" (the template below) or \"json\" (one object per line). AGENT_TRACE_LOGGING_FORMAT");
    line(&format!(
        "format = {}",
        q(if o.log_json { "json" } else { "text" })
    ));
    line("# Placeholders: {time} {level} {target} {message} {trace_id} {span_id} {fields}.");
    line("# AGENT_TRACE_LOGGING_TEMPLATE");
    line(&format!(
        "template = {}",
        q(o.log_format.as_deref().unwrap_or(&d.logging.template))
    ));
    line("# \"never\", \"daily\" (UTC) or \"size\". AGENT_TRACE_LOGGING_ROTATION");
    line(&format!(
        "rotation = {}",
        q(o.log_rotation.as_deref().unwrap_or(&d.logging.rotation))
    ));
    line("# Size limit for rotation = \"size\", in bytes. AGENT_TRACE_LOGGING_MAX_BYTES");
    line(&format!("max_bytes = {}", d.logging.max_bytes));
    line("# Rotated files kept. AGENT_TRACE_LOGGING_RETENTION");
    line(&format!("retention = {}", d.logging.retention));
    out
}

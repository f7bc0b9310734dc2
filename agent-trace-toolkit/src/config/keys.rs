//! The keys of the configuration: their environment variables, types, and checks.

use std::collections::HashSet;

use super::{Config, ConfigError};

/// The type of a key's value, for reading it from an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    Float,
    Str,
}

/// Every key that an environment variable can set, with its type.
pub const KEYS: &[&str] = &[
    "enabled",
    "sampling.ratio",
    "privacy.include_sensitive_data",
    "batch.max_queue_size",
    "batch.max_batch_size",
    "batch.schedule_delay_ms",
    "batch.export_timeout_ms",
    "batch.spool_dir",
    "exporters.console.enabled",
    "exporters.console.format",
    "exporters.console.stream",
    "exporters.jsonl.path",
    "exporters.jsonl.max_bytes",
    "exporters.jsonl.rotate_daily",
    "exporters.jsonl.retention",
    "exporters.otlp.endpoint",
    "exporters.otlp.protocol",
    "exporters.otlp.service_name",
    "exporters.otlp.timeout_ms",
    "metrics.enabled",
    "metrics.listen",
    "metrics.max_names_per_kind",
    "metrics.max_models",
    "logging.enabled",
    "logging.level",
    "logging.output",
    "logging.file",
    "logging.format",
    "logging.template",
    "logging.rotation",
    "logging.max_bytes",
    "logging.retention",
];

fn kind(key: &str) -> Kind {
    let last = key.rsplit('.').next().unwrap_or(key);
    match last {
        "enabled" | "include_sensitive_data" | "rotate_daily" => Kind::Bool,
        "ratio" => Kind::Float,
        "spool_dir" | "format" | "stream" | "path" | "endpoint" | "protocol" | "service_name"
        | "listen" | "level" | "output" | "file" | "template" | "rotation" => Kind::Str,
        _ => Kind::Int,
    }
}

/// The environment variable of a key: `logging.level` → `AGENT_TRACE_LOGGING_LEVEL`.
///
/// ```
/// assert_eq!(agent_trace_toolkit::config::env_var("exporters.otlp.endpoint"), "AGENT_TRACE_EXPORTERS_OTLP_ENDPOINT");
/// ```
pub fn env_var(key: &str) -> String {
    format!("AGENT_TRACE_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// Sets the keys whose variable `lookup` has; returns the keys so set.
pub(super) fn apply_env(
    table: &mut toml::Table,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<HashSet<&'static str>, ConfigError> {
    let mut set = HashSet::new();
    for &key in KEYS {
        let var = env_var(key);
        let Some(raw) = lookup(&var) else {
            continue;
        };
        let invalid = |allowed: &str| ConfigError::Invalid {
            key: key.to_owned(),
            source_name: var.clone(),
            value: raw.clone(),
            allowed: allowed.to_owned(),
        };
        let value = match kind(key) {
            Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
                "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
                _ => return Err(invalid("true or false (also 1/0, yes/no, on/off)")),
            },
            Kind::Int => raw
                .trim()
                .parse::<u32>()
                .map(|n| toml::Value::Integer(n.into()))
                .or_else(|_| {
                    raw.trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n >= 0)
                        .map(toml::Value::Integer)
                        .ok_or(())
                })
                .map_err(|_| invalid("a whole number, 0 or more"))?,
            Kind::Float => raw
                .trim()
                .parse::<f64>()
                .map(toml::Value::Float)
                .map_err(|_| invalid("a number"))?,
            Kind::Str => toml::Value::String(raw.clone()),
        };
        let mut at = &mut *table;
        let mut parts: Vec<&str> = key.split('.').collect();
        let last = parts.pop().unwrap_or(key);
        for p in parts {
            let entry = at
                .entry(p.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(t) = entry.as_table_mut() else {
                return Err(invalid(
                    "a table key (the file sets this section to a plain value)",
                ));
            };
            at = t;
        }
        at.insert(last.to_owned(), value);
        set.insert(key);
    }
    Ok(set)
}

/// Checks the values that the types alone do not.
pub(super) fn validate(
    c: &Config,
    origin: &str,
    from_env: &HashSet<&'static str>,
) -> Result<(), ConfigError> {
    let check = |key: &'static str, value: String, ok: bool, allowed: &str| {
        if ok {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            key: key.to_owned(),
            source_name: if from_env.contains(key) {
                env_var(key)
            } else {
                origin.to_owned()
            },
            value,
            allowed: allowed.to_owned(),
        })
    };
    let one_of = |key: &'static str, value: &str, allowed: &[&str]| {
        check(
            key,
            value.to_owned(),
            allowed.contains(&value),
            &allowed.join(", "),
        )
    };
    let range = |key: &'static str, v: u64, lo: u64, hi: u64| {
        check(
            key,
            v.to_string(),
            (lo..=hi).contains(&v),
            &format!("{lo} to {hi}"),
        )
    };
    let r = c.sampling.ratio;
    check(
        "sampling.ratio",
        r.to_string(),
        (0.0..=1.0).contains(&r),
        "a number from 0.0 (keep none) to 1.0 (keep all)",
    )?;
    range("batch.max_queue_size", c.batch.max_queue_size, 16, 262_144)?;
    range("batch.max_batch_size", c.batch.max_batch_size, 1, 65_536)?;
    range(
        "batch.schedule_delay_ms",
        c.batch.schedule_delay_ms,
        1,
        3_600_000,
    )?;
    range(
        "batch.export_timeout_ms",
        c.batch.export_timeout_ms,
        1,
        3_600_000,
    )?;
    one_of(
        "exporters.console.format",
        &c.exporters.console.format,
        &["tree", "json"],
    )?;
    one_of(
        "exporters.console.stream",
        &c.exporters.console.stream,
        &["stdout", "stderr"],
    )?;
    range(
        "exporters.jsonl.retention",
        c.exporters.jsonl.retention,
        0,
        100_000,
    )?;
    let ep = &c.exporters.otlp.endpoint;
    check(
        "exporters.otlp.endpoint",
        ep.clone(),
        ep.is_empty() || ep.starts_with("http://") || ep.starts_with("https://"),
        "an http:// or https:// URL, or \"\" for no OTLP export",
    )?;
    one_of(
        "exporters.otlp.protocol",
        &c.exporters.otlp.protocol,
        &["protobuf", "json"],
    )?;
    range(
        "exporters.otlp.timeout_ms",
        c.exporters.otlp.timeout_ms,
        1,
        3_600_000,
    )?;
    let listen = &c.metrics.listen;
    check(
        "metrics.listen",
        listen.clone(),
        listen.is_empty() || listen.parse::<std::net::SocketAddr>().is_ok(),
        "an address and port such as 127.0.0.1:9464, or \"\" to not serve /metrics",
    )?;
    range(
        "metrics.max_names_per_kind",
        c.metrics.max_names_per_kind,
        1,
        100_000,
    )?;
    range("metrics.max_models", c.metrics.max_models, 1, 100_000)?;
    if let Err(e) = c.logging.level.parse::<crate::logging::LevelTree>() {
        check(
            "logging.level",
            c.logging.level.clone(),
            false,
            &e.to_string(),
        )?;
    }
    one_of(
        "logging.output",
        &c.logging.output,
        &["stderr", "stdout", "file", "subscriber"],
    )?;
    check(
        "logging.file",
        c.logging.file.clone(),
        c.logging.output != "file" || !c.logging.file.is_empty(),
        "a file path (logging.output is \"file\")",
    )?;
    one_of("logging.format", &c.logging.format, &["text", "json"])?;
    if let Err(e) = crate::logging::LineFormat::text(&c.logging.template) {
        check(
            "logging.template",
            c.logging.template.clone(),
            false,
            &e.to_string(),
        )?;
    }
    one_of(
        "logging.rotation",
        &c.logging.rotation,
        &["never", "daily", "size"],
    )?;
    range("logging.max_bytes", c.logging.max_bytes, 1, u64::MAX)?;
    range("logging.retention", c.logging.retention, 0, 100_000)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_type_matching_the_defaults() {
        let table = toml::Table::try_from(Config::default()).unwrap();
        for key in KEYS {
            let mut at = &table;
            let mut parts: Vec<&str> = key.split('.').collect();
            let last = parts.pop().unwrap();
            for p in parts {
                at = at[p].as_table().unwrap();
            }
            let v = &at[last];
            let ok = match kind(key) {
                Kind::Bool => v.is_bool(),
                Kind::Int => v.is_integer(),
                Kind::Float => v.is_float(),
                Kind::Str => v.is_str(),
            };
            assert!(ok, "{key}: {v:?}");
        }
    }
}

//! Hierarchical level filter: `info,agent=info,agent.triage=debug,models=warn`.

use std::fmt;
use std::str::FromStr;

use tracing_core::{LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

/// Levels by logger, where a logger's level applies to its whole subtree: `agent` covers
/// `agent.triage` and `agent.triage.x` (not `agents`), the most specific entry wins, and a bare
/// level (`info`) sets the default for everything else. `::` separates levels too, so Rust
/// targets (`my_crate::db=debug`) work the same way.
///
/// ```
/// use agent_trace_toolkit::logging::LevelTree;
/// let f: LevelTree = "warn,agent=info,agent.triage=debug,models=off".parse().unwrap();
/// assert_eq!(f.level_for("agent.triage"), tracing_core::LevelFilter::DEBUG);
/// assert_eq!(f.level_for("agent.billing"), tracing_core::LevelFilter::INFO);
/// assert_eq!(f.level_for("agents"), tracing_core::LevelFilter::WARN);
/// assert_eq!(f.level_for("models.gpt-4o"), tracing_core::LevelFilter::OFF);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelTree {
    default: LevelFilter,
    /// (logger, level), longest logger first.
    entries: Vec<(String, LevelFilter)>,
}

/// A filter string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad log filter entry {entry:?}: {why}; write `level` or `logger=level` entries separated by commas, levels being off, error, warn, info, debug, trace (e.g. `info,agent.triage=debug,models=warn`)")]
pub struct FilterParseError {
    /// The entry that failed.
    pub entry: String,
    /// What is wrong with it.
    pub why: &'static str,
}

pub(crate) fn parse_level(s: &str) -> Option<LevelFilter> {
    match s.trim().to_ascii_lowercase().as_str() {
        "off" => Some(LevelFilter::OFF),
        "error" => Some(LevelFilter::ERROR),
        "warn" | "warning" => Some(LevelFilter::WARN),
        "info" => Some(LevelFilter::INFO),
        "debug" => Some(LevelFilter::DEBUG),
        "trace" => Some(LevelFilter::TRACE),
        _ => None,
    }
}

impl LevelTree {
    /// Everything at `level`.
    pub fn new(level: LevelFilter) -> Self {
        LevelTree {
            default: level,
            entries: Vec::new(),
        }
    }

    /// Adds or replaces one logger's level.
    pub fn with(mut self, logger: &str, level: LevelFilter) -> Self {
        self.entries.retain(|(l, _)| l != logger);
        self.entries.push((logger.to_owned(), level));
        self.entries.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        self
    }

    /// The level in force for a logger (or a Rust target).
    pub fn level_for(&self, target: &str) -> LevelFilter {
        self.entries
            .iter()
            .find(|(logger, _)| covers(logger, target))
            .map(|(_, l)| *l)
            .unwrap_or(self.default)
    }

    fn max_level(&self) -> LevelFilter {
        self.entries
            .iter()
            .map(|(_, l)| *l)
            .fold(self.default, LevelFilter::max)
    }
}

/// Whether `logger` is `target` or one of its ancestors.
fn covers(logger: &str, target: &str) -> bool {
    match target.strip_prefix(logger) {
        Some("") => true,
        Some(rest) => rest.starts_with('.') || rest.starts_with("::"),
        None => false,
    }
}

impl FromStr for LevelTree {
    type Err = FilterParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut tree = LevelTree::new(LevelFilter::INFO);
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let err = |why| FilterParseError {
                entry: entry.to_owned(),
                why,
            };
            match entry.split_once('=') {
                None => tree.default = parse_level(entry).ok_or_else(|| err("unknown level"))?,
                Some((logger, level)) => {
                    let logger = logger.trim();
                    if logger.is_empty() {
                        return Err(err("empty logger name"));
                    }
                    let level = parse_level(level).ok_or_else(|| err("unknown level"))?;
                    tree = tree.with(logger, level);
                }
            }
        }
        Ok(tree)
    }
}

impl fmt::Display for LevelTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.default)?;
        for (logger, level) in self.entries.iter().rev() {
            write!(f, ",{logger}={level}")?;
        }
        Ok(())
    }
}

impl<S> Filter<S> for LevelTree {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.level_for(meta.target()) >= *meta.level()
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing_core::Interest {
        if self.level_for(meta.target()) >= *meta.level() {
            tracing_core::Interest::always()
        } else {
            tracing_core::Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_entries_name_themselves() {
        let e = "info,agent=loud".parse::<LevelTree>().unwrap_err();
        assert_eq!(e.entry, "agent=loud");
        assert!(e.to_string().contains("agent=loud"));
        assert!("=debug".parse::<LevelTree>().is_err());
    }

    #[test]
    fn rust_targets_nest_by_double_colon() {
        let f: LevelTree = "off,hyper=debug".parse().unwrap();
        assert_eq!(f.level_for("hyper::client"), LevelFilter::DEBUG);
        assert_eq!(f.level_for("hyperx"), LevelFilter::OFF);
        assert_eq!(f.to_string(), "off,hyper=debug");
    }
}

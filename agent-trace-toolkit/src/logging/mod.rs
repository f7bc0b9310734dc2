//! Agent logging: human-readable lines for span starts and ends under the seed's hierarchy —
//! `agent.<name>`, `models.<model>`, `tools.<name>`, `runtime` — as `tracing` events.
//!
//! Two halves:
//!
//! - [`LoggingProcessor`] (a [`TracingProcessor`](agent_trace::TracingProcessor)) emits the
//!   events. They go to whatever `tracing` subscriber is installed, so an application that
//!   already has one (`tracing_subscriber::fmt().init()`, an `EnvFilter`, a JSON layer, an
//!   OpenTelemetry layer) sees them with nothing else to do; filter them by logger there
//!   (`RUST_LOG=agent=info,agent.triage=debug,models=warn` with an `EnvFilter`).
//! - Our own writer, for applications without one: [`init`] installs a subscriber writing to
//!   stderr or a file, as text (a template, [`DEFAULT_TEMPLATE`]) or JSON lines, filtered
//!   hierarchically ([`LevelTree`]), the file rotated by size or by day with a retention
//!   count; or [`layer`] gives the same writer as a layer to add to your own subscriber.
//!
//! Lines look like:
//!
//! ```text
//! 2026-11-30T23:15:04.123Z INFO  agent.triage - response generated in 0.8s
//! 2026-11-30T23:15:04.101Z DEBUG models.gpt-4o-mini - tokens in=12 out=5 total=17 (0.31s)
//! 2026-11-30T23:15:03.002Z WARN  tools.web - failed after 0.10s: timeout (attempt 2/3)
//! ```
//!
//! ```no_run
//! use agent_trace::TracerProvider;
//! use agent_trace_toolkit::logging::{self, LogOutput, LoggingConfig, LoggingProcessor};
//!
//! let config = LoggingConfig {
//!     filter: "info,agent.triage=debug,models=warn".parse()?,
//!     output: LogOutput::Stderr,
//!     ..LoggingConfig::default()
//! };
//! let _guard = logging::init(&config)?; // keep it: dropping it flushes and stops the writer
//! let provider = TracerProvider::builder().with_processor(LoggingProcessor::new()).build();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod callsite;
mod events;
mod filter;
mod format;
mod rotate;

use std::path::PathBuf;

use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_core::Subscriber;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

pub use events::LoggingProcessor;
pub use filter::{FilterParseError, LevelTree};
pub use format::{LineFormat, TemplateError, DEFAULT_TEMPLATE, PLACEHOLDERS};
pub use rotate::Rotation;

/// Where our writer sends lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogOutput {
    /// Standard error (the default).
    Stderr,
    /// Standard output.
    Stdout,
    /// A file, created with its directory if needed.
    File(PathBuf),
}

/// Our writer's settings; `[logging]` in the config file.
#[derive(Debug, Clone)]
pub struct LoggingConfig {
    /// Levels by logger (default `info`).
    pub filter: LevelTree,
    /// Where lines go (default stderr).
    pub output: LogOutput,
    /// Text template or JSON (default [`DEFAULT_TEMPLATE`]).
    pub format: LineFormat,
    /// When a log file rotates (default never; ignored for stderr/stdout).
    pub rotation: Rotation,
    /// Rotated files kept (default 7).
    pub retention: usize,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            filter: LevelTree::new(tracing_core::LevelFilter::INFO),
            output: LogOutput::Stderr,
            format: LineFormat::text(DEFAULT_TEMPLATE).unwrap_or_else(|_| LineFormat::json()),
            rotation: Rotation::Never,
            retention: 7,
        }
    }
}

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggingError {
    /// The log file could not be opened.
    #[error("cannot open log file {path}: {source}; check that the directory is writable or choose another [logging] file")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A global `tracing` subscriber is already installed.
    #[error("a global tracing subscriber is already set; add agent_trace_toolkit::logging::layer(..) to it instead of calling init, or let it print the agent.*/models.*/tools.*/runtime events itself")]
    AlreadySet,
}

/// Keeps our writer running; dropping it flushes the lines still queued and stops it.
#[derive(Debug)]
pub struct LoggingGuard {
    _worker: WorkerGuard,
}

fn writer(config: &LoggingConfig) -> Result<(NonBlocking, WorkerGuard), LoggingError> {
    Ok(match &config.output {
        LogOutput::Stderr => tracing_appender::non_blocking(std::io::stderr()),
        LogOutput::Stdout => tracing_appender::non_blocking(std::io::stdout()),
        LogOutput::File(path) => {
            let file = rotate::RotatingFile::open(path, config.rotation, config.retention)
                .map_err(|source| LoggingError::File {
                    path: path.clone(),
                    source,
                })?;
            tracing_appender::non_blocking(file)
        }
    })
}

/// Our writer as a layer for your own subscriber (`registry().with(layer)`), with its guard.
/// Writes happen on a worker thread (`tracing-appender`'s non-blocking writer); when it falls
/// 128,000 lines behind, further lines are dropped rather than blocking the application.
pub fn layer<S>(
    config: &LoggingConfig,
) -> Result<(impl Layer<S> + Send + Sync + 'static, LoggingGuard), LoggingError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let (w, guard) = writer(config)?;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(w)
        .event_format(config.format.clone())
        .with_filter(config.filter.clone());
    Ok((layer, LoggingGuard { _worker: guard }))
}

/// Installs our writer as the global `tracing` subscriber. Fails with
/// [`LoggingError::AlreadySet`] if the application has one (use [`layer`] there).
pub fn init(config: &LoggingConfig) -> Result<LoggingGuard, LoggingError> {
    let (layer, guard) = layer(config)?;
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).map_err(|_| LoggingError::AlreadySet)?;
    Ok(guard)
}

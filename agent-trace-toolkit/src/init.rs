//! [`init_from_config`]: the provider, processors, exporters, metrics endpoint and logging from
//! one [`Config`], in one call.

use std::path::PathBuf;
use std::time::Duration;

use agent_trace::{BatchProcessor, TracerProvider};
use agent_trace_exporters::console::ConsoleFormat;
use agent_trace_exporters::{ConsoleExporter, JsonlExporter};

use crate::config::{Config, ConfigError};
use crate::logging::{self, LineFormat, LogOutput, LoggingConfig, LoggingGuard, LoggingProcessor};
use crate::metrics::{MetricsProcessor, MetricsServer};

/// Why [`init_from_config`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// The configuration did not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An exporter could not be built (a JSONL file not writable, a bad OTLP endpoint).
    #[error("exporter {exporter}: {message}")]
    Exporter {
        /// Which (`jsonl`, `otlp`).
        exporter: &'static str,
        /// Why.
        message: String,
    },
    /// `metrics.listen` could not be served.
    #[error("metrics.listen {addr}: {message}")]
    Metrics {
        /// The address.
        addr: String,
        /// Why.
        message: String,
    },
    /// Logging could not start.
    #[error(transparent)]
    Logging(#[from] logging::LoggingError),
}

/// What [`init_from_config`] set up. Keep it for the life of the program; call
/// [`shutdown`](Toolkit::shutdown) (or drop it) at the end.
#[derive(Debug)]
#[non_exhaustive]
pub struct Toolkit {
    /// The provider, installed as the global one.
    pub provider: TracerProvider,
    /// The span metrics, when `metrics.enabled`.
    pub metrics: Option<MetricsProcessor>,
    /// The `/metrics` endpoint, when `metrics.listen` is set.
    pub metrics_server: Option<MetricsServer>,
    /// Our log writer, when `logging.enabled` and `logging.output` is not `subscriber`.
    pub logging: Option<LoggingGuard>,
}

impl Toolkit {
    /// Flushes every exporter (waits up to `timeout`), then stops the metrics endpoint and the
    /// log writer.
    pub async fn shutdown(self, timeout: Duration) -> Result<(), agent_trace::TraceError> {
        let r = self.provider.shutdown(timeout).await;
        drop(self.metrics_server);
        drop(self.logging);
        r
    }
}

/// Loads the configuration ([`Config::load`]: the file `AGENT_TRACE_CONFIG` names, or the
/// defaults, with environment overrides) and calls [`init_from_config`].
pub fn init() -> Result<Toolkit, InitError> {
    init_from_config(&Config::load(None)?)
}

/// Builds everything `config` describes and installs the provider globally: a
/// [`BatchProcessor`] with the configured exporters (behind sampling and privacy), the
/// [`MetricsProcessor`] and its endpoint, the [`LoggingProcessor`] and our log writer.
///
/// Serving `metrics.listen` needs a Tokio runtime: call it inside one (`#[tokio::main]`).
///
/// ```
/// let mut config = agent_trace_toolkit::config::Config::default();
/// config.metrics.enabled = true;
/// let toolkit = agent_trace_toolkit::init_from_config(&config).unwrap();
/// agent_trace::trace("wf").in_scope(|| agent_trace::custom_span("step").end());
/// assert_eq!(toolkit.metrics.as_ref().unwrap().snapshot().spans.len(), 1);
/// ```
pub fn init_from_config(config: &Config) -> Result<Toolkit, InitError> {
    // Privacy is the provider's (before every processor: metrics, logging and the pipeline
    // alike); the privacy variables win over the file, as they do over code.
    let sensitive = agent_trace::privacy::sensitive_data_from_env()
        .unwrap_or(config.privacy.include_sensitive_data);
    let mut builder = TracerProvider::builder().include_sensitive_data(sensitive);
    // A ratio below 1 is the provider's head sampler (parent-based, so a continued trace
    // follows its caller's decision); at 1, `OTEL_TRACES_SAMPLER` still applies.
    if config.sampling.ratio < 1.0 {
        builder = builder.sampler(agent_trace::sampling::ParentBased::new(
            agent_trace::sampling::TraceIdRatio::new(config.sampling.ratio),
        ));
    }
    if !config.enabled {
        builder = builder.disabled();
    }
    let batch = batch_processor(config)?;
    let metrics = config.metrics.enabled.then(|| {
        MetricsProcessor::with_limits(
            config.metrics.max_names_per_kind as usize,
            config.metrics.max_models as usize,
        )
    });
    if let Some(m) = &metrics {
        builder = builder.with_processor(m.clone());
    }
    let metrics_server = match (&metrics, config.metrics.listen.as_str()) {
        (Some(m), addr) if !addr.is_empty() => Some(serve_now(addr, m.clone())?),
        _ => None,
    };
    let mut guard = None;
    if config.logging.enabled {
        if config.logging.output != "subscriber" {
            guard = Some(logging::init(&logging_config(config)?)?);
        }
        builder = builder.with_processor(LoggingProcessor::new());
    }
    // The export pipeline last: the last processor may take each span record instead of
    // cloning it.
    if let Some(batch) = batch {
        builder = builder.with_processor(batch);
    }
    let provider = builder.build();
    agent_trace::set_global_provider(&provider);
    Ok(Toolkit {
        provider,
        metrics,
        metrics_server,
        logging: guard,
    })
}

/// Binds synchronously (so a bad address fails here) and serves on the current runtime.
fn serve_now(addr: &str, metrics: MetricsProcessor) -> Result<MetricsServer, InitError> {
    let err = |message: String| InitError::Metrics {
        addr: addr.to_owned(),
        message,
    };
    let handle = tokio::runtime::Handle::try_current().map_err(|_| {
        err("serving /metrics needs a Tokio runtime: call init_from_config inside one (#[tokio::main])".into())
    })?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| err(e.to_string()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| err(e.to_string()))?;
    let _enter = handle.enter();
    MetricsServer::from_std(listener, metrics).map_err(|e| err(e.to_string()))
}

/// `[logging]` as our writer's settings (values were checked when the config loaded).
pub(crate) fn logging_config(config: &Config) -> Result<LoggingConfig, InitError> {
    let l = &config.logging;
    let invalid = |key: &str, value: &str, allowed: String| {
        InitError::Config(ConfigError::Invalid {
            key: key.to_owned(),
            source_name: "the configuration".to_owned(),
            value: value.to_owned(),
            allowed,
        })
    };
    let filter = l.level.parse().map_err(|e: logging::FilterParseError| {
        invalid("logging.level", &l.level, e.to_string())
    })?;
    let format = if l.format == "json" {
        LineFormat::json()
    } else {
        LineFormat::text(&l.template)
            .map_err(|e| invalid("logging.template", &l.template, e.to_string()))?
    };
    Ok(LoggingConfig {
        filter,
        output: match l.output.as_str() {
            "stdout" => LogOutput::Stdout,
            "file" => LogOutput::File(PathBuf::from(&l.file)),
            _ => LogOutput::Stderr,
        },
        format,
        rotation: match l.rotation.as_str() {
            "daily" => logging::Rotation::Daily,
            "size" => logging::Rotation::Size(l.max_bytes),
            _ => logging::Rotation::Never,
        },
        retention: l.retention as usize,
    })
}

fn batch_processor(config: &Config) -> Result<Option<BatchProcessor>, InitError> {
    let e = &config.exporters;
    let mut b = BatchProcessor::builder()
        .max_queue_size(config.batch.max_queue_size as usize)
        .max_batch_size(config.batch.max_batch_size as usize)
        .schedule_delay(Duration::from_millis(config.batch.schedule_delay_ms))
        .export_timeout(Duration::from_millis(config.batch.export_timeout_ms));
    if !config.batch.spool_dir.is_empty() {
        b = b.spool_dir(&config.batch.spool_dir);
    }
    let mut any = false;
    if e.console.enabled {
        let mut c = ConsoleExporter::builder().format(if e.console.format == "json" {
            ConsoleFormat::JsonLines
        } else {
            ConsoleFormat::Tree
        });
        c = if e.console.stream == "stderr" {
            c.to_stderr()
        } else {
            c.to_stdout()
        };
        b = b.with_exporter(c.build());
        any = true;
    }
    if !e.jsonl.path.is_empty() {
        let mut j = JsonlExporter::builder(&e.jsonl.path)
            .rotate_daily(e.jsonl.rotate_daily)
            .retention(e.jsonl.retention as usize);
        if e.jsonl.max_bytes > 0 {
            j = j.max_bytes(e.jsonl.max_bytes);
        }
        let j = j.build().map_err(|err| InitError::Exporter {
            exporter: "jsonl",
            message: err.to_string(),
        })?;
        b = b.with_exporter(j);
        any = true;
    }
    if !e.otlp.endpoint.is_empty() {
        b = otlp(config, b)?;
        any = true;
    }
    Ok(any.then(|| b.build()))
}

#[cfg(feature = "otlp")]
fn otlp(
    config: &Config,
    b: agent_trace::BatchProcessorBuilder,
) -> Result<agent_trace::BatchProcessorBuilder, InitError> {
    use agent_trace_exporters::otlp::Protocol;
    let o = &config.exporters.otlp;
    let mut x = agent_trace_exporters::OtlpExporter::builder()
        .endpoint(&o.endpoint)
        .protocol(if o.protocol == "json" {
            Protocol::HttpJson
        } else {
            Protocol::HttpProtobuf
        })
        .timeout(Duration::from_millis(o.timeout_ms))
        .include_sensitive_data(config.privacy.include_sensitive_data);
    if !o.service_name.is_empty() {
        x = x.service_name(&o.service_name);
    }
    for (k, v) in &o.headers {
        x = x.header(k, v);
    }
    let x = x.build().map_err(|err| InitError::Exporter {
        exporter: "otlp",
        message: err.to_string(),
    })?;
    Ok(b.with_exporter(x))
}

#[cfg(not(feature = "otlp"))]
fn otlp(
    _: &Config,
    _: agent_trace::BatchProcessorBuilder,
) -> Result<agent_trace::BatchProcessorBuilder, InitError> {
    Err(InitError::Exporter {
        exporter: "otlp",
        message: "exporters.otlp.endpoint is set but agent-trace-toolkit was built without its `otlp` feature; enable it (features = [\"otlp\"]) or set the endpoint to \"\"".into(),
    })
}

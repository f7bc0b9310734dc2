//! OTLP/HTTP export (feature `otlp`): traces and spans as OpenTelemetry spans following the
//! [GenAI semantic conventions](https://opentelemetry.io/docs/specs/semconv/gen-ai/), sent as
//! protobuf (`application/x-protobuf`, the default) or OTLP JSON (`application/json`) to
//! `{endpoint}/v1/traces`.
//!
//! ```no_run
//! use agent_trace::{BatchProcessor, TracerProvider};
//! use agent_trace_exporters::OtlpExporter;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let otlp = OtlpExporter::builder()
//!     .from_env() // OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
//!     .service_name("support-bot")
//!     .build()?;
//! let provider = TracerProvider::builder()
//!     .with_processor(BatchProcessor::new(otlp))
//!     .build();
//! # Ok(()) }
//! ```
//!
//! ## Configuration
//!
//! Settings made in code win over the environment, which wins over the defaults. The
//! environment is read only when [`OtlpExporterBuilder::from_env`] is called. A variable
//! whose value cannot be used (an endpoint without scheme or host, a header HTTP does not
//! allow, a timeout that is not a whole number, an unknown compression or protocol) makes
//! [`build`](OtlpExporterBuilder::build) return [`OtlpError::InvalidEnv`] or
//! [`OtlpError::UnsupportedProtocol`] naming it (header values and URL credentials masked); a
//! usable value out of range is clamped with a diagnostic naming the variable and the value
//! used. Nothing aborts.
//!
//! | setting | builder | environment | default |
//! |---|---|---|---|
//! | URL | [`endpoint`](OtlpExporterBuilder::endpoint) (base, `/v1/traces` appended), [`traces_endpoint`](OtlpExporterBuilder::traces_endpoint) (as is) | `OTEL_EXPORTER_OTLP_ENDPOINT` (base), `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (as is, wins) | `http://localhost:4318/v1/traces` |
//! | encoding | [`protocol`](OtlpExporterBuilder::protocol) | `OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL`: `http/protobuf`, `http/json`, any case (`grpc` is refused) | `http/protobuf` |
//! | headers | [`header`](OtlpExporterBuilder::header) | `OTEL_EXPORTER_OTLP[_TRACES]_HEADERS`: `k=v,k2=v2`, values URL-decoded | none |
//! | gzip | [`gzip`](OtlpExporterBuilder::gzip) | `OTEL_EXPORTER_OTLP[_TRACES]_COMPRESSION`: `gzip`, `none` (any case) | off |
//! | timeout | [`timeout`](OtlpExporterBuilder::timeout) | `OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT` (ms; 1 to 3,600,000, `0` = no limit of its own = 3,600,000; others clamped with a diagnostic) | 10 s |
//! | request size | [`max_request_bytes`](OtlpExporterBuilder::max_request_bytes) | — | 4 MiB ([`DEFAULT_MAX_REQUEST_BYTES`]) |
//! | `service.name` | [`service_name`](OtlpExporterBuilder::service_name) | `OTEL_SERVICE_NAME`, then `service.name` in `OTEL_RESOURCE_ATTRIBUTES` | `agent-trace` |
//! | resource | [`resource_attribute`](OtlpExporterBuilder::resource_attribute) | `OTEL_RESOURCE_ATTRIBUTES`: `k=v,…` | `telemetry.sdk.{name,language,version}` |
//! | `gen_ai.provider.name` | [`provider_name`](OtlpExporterBuilder::provider_name) | — | `openai` |
//! | prompts, tool arguments and results | [`include_sensitive_data`](OtlpExporterBuilder::include_sensitive_data) (and the provider's) | `AGENT_TRACE_INCLUDE_SENSITIVE_DATA`, `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (these **win** over the code) | off |
//!
//! ## Mapping
//!
//! Each trace becomes a root span `invoke_workflow {workflow_name}` whose span id is
//! [`workflow_span_id`]`(trace_id)`: derived from the trace id alone, because the workflow span
//! is made from the trace's end record, which usually arrives in a later batch than its spans. Spans with no
//! parent are exported as its children. Timestamps are Unix nanoseconds; a span id is its 8
//! bytes ([`SpanId::to_bytes`](agent_trace::SpanId::to_bytes)), a trace id its 16.
//!
//! | agent-trace | span name | kind | attributes |
//! |---|---|---|---|
//! | trace | `invoke_workflow {workflow_name}` | INTERNAL | `gen_ai.operation.name=invoke_workflow`, `gen_ai.conversation.id` (group id), `agent_trace.workflow_name`, `agent_trace.trace_id`, `agent_trace.metadata.{key}` |
//! | `agent` | `invoke_agent {name}` | INTERNAL | `gen_ai.operation.name=invoke_agent`, `gen_ai.provider.name`, `gen_ai.agent.name`, `agent_trace.agent.tools` / `.handoffs` (string arrays), `agent_trace.agent.output_type` |
//! | `function` | `execute_tool {name}` | INTERNAL | `gen_ai.operation.name=execute_tool`, `gen_ai.tool.name`, `gen_ai.tool.type=function`, `agent_trace.function.mcp_data`; sensitive: `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` |
//! | `generation` | `chat {model}` (`chat` without a model) | CLIENT | `gen_ai.operation.name=chat`, `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.response.model`, `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens`, `gen_ai.request.{temperature,top_p,top_k,max_tokens,frequency_penalty,presence_penalty,seed}` from the model config, `agent_trace.generation.model_config`; sensitive: `gen_ai.input.messages`, `gen_ai.output.messages` (the recorded JSON) |
//! | `response` | `response` | CLIENT | `gen_ai.operation.name=chat`, `gen_ai.provider.name`, `gen_ai.response.id`, `gen_ai.usage.*` |
//! | `handoff` | `handoff {from} -> {to}` | INTERNAL | `agent_trace.handoff.from_agent`, `agent_trace.handoff.to_agent` |
//! | `guardrail` | `guardrail {name}` | INTERNAL | `agent_trace.guardrail.name`, `agent_trace.guardrail.triggered` |
//! | `custom` | `{name}` | INTERNAL | `agent_trace.custom.{key}` per data field |
//! | `transcription` | `transcription {model}` | CLIENT | `gen_ai.provider.name`, `gen_ai.request.model`; sensitive: `agent_trace.transcription.output` (audio is never exported) |
//! | `speech` | `speech {model}` | CLIENT | `gen_ai.provider.name`, `gen_ai.request.model`, `agent_trace.speech.first_content_at`; sensitive: `agent_trace.speech.input` |
//! | `speech_group` | `speech_group` | INTERNAL | sensitive: `agent_trace.speech_group.input` |
//! | `mcp_tools` | `mcp_tools {server}` | INTERNAL | `agent_trace.mcp.server`, `agent_trace.mcp.tools` (string array) |
//! | any span | | | `agent_trace.span_kind` (the `span_data.type`), `gen_ai.conversation.id` (see below), links from [`SpanRecord::links`](agent_trace::SpanRecord::links) |
//! | span with an error | | | status ERROR with the error message, `error.type` (`data.type`, else the type name starting `data.debug`, else `_OTHER`), `agent_trace.error.data`, an `exception` event |
//!
//! Notes:
//! - CLIENT marks a call to a model provider (generation, response, transcription, speech);
//!   everything else runs in-process and is INTERNAL.
//! - A `response` span is not named after its id: span names should have low cardinality, so
//!   the id goes to `gen_ai.response.id`.
//! - `gen_ai.conversation.id` is the trace's `group_id`, on the workflow span and on every
//!   span of the trace: the batch processor hands each trace's record to the exporters when the
//!   trace starts, ahead of its spans, and the exporter keeps the group ids of the last 65,536
//!   started traces. Spans of a trace started in another process (a remote parent) have none.
//!   One narrow race remains: the export thread drains the threads' queues one after the
//!   other, so a span that another thread starts and ends within the microseconds of one drain
//!   pass, right after its trace started, can reach the exporter one batch ahead of the
//!   trace's start record and then goes without the id.
//! - `gen_ai.provider.name` defaults to `openai` because the span model is the OpenAI Agents
//!   SDK's; set [`provider_name`](OtlpExporterBuilder::provider_name) for another provider, or
//!   `""` to leave it out.
//! - Resource: `service.name`, `telemetry.sdk.name=agent-trace`, `telemetry.sdk.language=rust`,
//!   `telemetry.sdk.version`, and the configured attributes. Scope: `agent-trace`.
//! - Size: a request body (encoded, before gzip) stays under
//!   [`max_request_bytes`](OtlpExporterBuilder::max_request_bytes). A larger batch is sent as
//!   several requests, in order; a failure of a later one fails the export, and when the batch
//!   processor offers the batch again (retry, or spool replay) the parts already delivered are
//!   skipped (the exporter remembers the last such batch). A span
//!   too large alone has its largest string attributes cut, each ending with
//!   `…[truncated by agent-trace: K of N bytes kept]`. A 413 answer sends the request again in
//!   halves, down to one span, which is then cut to half its size; a span refused even at
//!   1 KiB is left out with a diagnostic, like a span rejected in an OTLP partial success.
//! - The exporter makes one attempt per [`export`](agent_trace::TracingExporter::export) call;
//!   connection errors, timeouts, 408, 429 and 5xx (except 501) are
//!   [transient](agent_trace::ExportError::Transient) (with `Retry-After`), other statuses
//!   permanent. An OTLP partial success (some spans rejected) counts as success, as the OTLP
//!   spec says not to retry it.

mod attrs;
mod config;
mod json_text;
mod mapping;
mod names;
mod split;
mod types;
mod wire;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use agent_trace::{BoxFuture, ExportError, ExportItem, TracingExporter};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use reqwest::header::HeaderMap;

use crate::http::{self, HttpClient};
use attrs::kv_str;
pub use mapping::workflow_span_id;
use mapping::{MappingConfig, TraceGroups};
pub use types::{OtlpError, Protocol};

/// The default OTLP/HTTP traces URL.
pub const DEFAULT_TRACES_ENDPOINT: &str = "http://localhost:4318/v1/traces";

/// The default largest request body, 4 MiB (encoded, before gzip): well below the
/// OpenTelemetry Collector's 20 MiB receive limit and the 4 MiB default message size of many
/// gRPC-based backends behind OTLP/HTTP gateways.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 << 20;

/// The range [`OtlpExporterBuilder::max_request_bytes`] accepts (1 KiB to 64 MiB).
const REQUEST_BYTES_RANGE: (usize, usize) = (1 << 10, 64 << 20);

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds an [`OtlpExporter`]; see the [module docs](self) for every setting.
#[must_use]
#[derive(Default)]
pub struct OtlpExporterBuilder {
    traces_endpoint: Option<String>,
    protocol: Option<Protocol>,
    headers: Vec<(String, String)>,
    gzip: Option<bool>,
    timeout: Option<Duration>,
    service_name: Option<String>,
    resource: Vec<(String, String)>,
    provider_name: Option<String>,
    include_sensitive_data: bool,
    max_request_bytes: Option<usize>,
    env: Option<Lookup>,
}

impl fmt::Debug for OtlpExporterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporterBuilder")
            .field("traces_endpoint", &self.traces_endpoint)
            .field("protocol", &self.protocol)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("gzip", &self.gzip)
            .field("timeout", &self.timeout)
            .field("from_env", &self.env.is_some())
            .finish_non_exhaustive()
    }
}

impl OtlpExporterBuilder {
    /// The collector's base URL; `/v1/traces` is appended (`http://localhost:4318`).
    pub fn endpoint(mut self, base_url: impl AsRef<str>) -> Self {
        self.traces_endpoint = Some(config::append_traces_path(base_url.as_ref()));
        self
    }

    /// The full traces URL, used as is.
    pub fn traces_endpoint(mut self, url: impl Into<String>) -> Self {
        self.traces_endpoint = Some(url.into());
        self
    }

    /// The body encoding (default [`Protocol::HttpProtobuf`]).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Adds a request header (e.g. an API key); wins over the same header from the environment.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Gzips request bodies (default off).
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = Some(on);
        self
    }

    /// The longest one request may take, connecting included (default 10 s; 1 ms to 1 h,
    /// `Duration::ZERO` meaning no limit of the exporter's own, i.e. 1 h; a value outside is
    /// replaced with a diagnostic naming it and the value used).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `service.name` resource attribute (default `agent-trace`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a resource attribute; wins over `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// The `gen_ai.provider.name` of agent and model-call spans (default `openai`; `""` omits it).
    pub fn provider_name(mut self, name: impl Into<String>) -> Self {
        self.provider_name = Some(name.into());
        self
    }

    /// Exports prompts, completions, tool arguments and tool results (default off: they may
    /// hold personal data).
    ///
    /// This switch can only leave out more than the provider: content reaches the collector
    /// only when the provider records it
    /// ([`TracerProviderBuilder::include_sensitive_data`](agent_trace::TracerProviderBuilder::include_sensitive_data),
    /// also off by default) *and* this switch is on. When `AGENT_TRACE_INCLUDE_SENSITIVE_DATA`
    /// or `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is set, it decides for this
    /// exporter as for the provider, whatever the code says (read at
    /// [`build`](Self::build), with or without [`from_env`](Self::from_env); see
    /// [`agent_trace::privacy`]).
    pub fn include_sensitive_data(mut self, on: bool) -> Self {
        self.include_sensitive_data = on;
        self
    }

    /// The largest request body in bytes (default [`DEFAULT_MAX_REQUEST_BYTES`], 4 MiB;
    /// 1 KiB to 64 MiB, a value outside is clamped with a diagnostic). The encoded body before
    /// gzip is measured. A batch whose request would be larger is sent as several requests; a
    /// span that alone would be larger has its largest attribute values cut, each ending with
    /// `…[truncated by agent-trace: K of N bytes kept]`. A collector that still answers 413
    /// gets the request again in halves.
    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = Some(bytes);
        self
    }

    /// Reads the standard `OTEL_*` variables at [`build`](Self::build); settings made in
    /// code still win.
    pub fn from_env(self) -> Self {
        self.from_env_lookup(|k| std::env::var(k).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` instead of the
    /// process environment (for tests, or configuration kept elsewhere).
    ///
    /// ```
    /// use agent_trace_exporters::{OtlpExporter, otlp::OtlpError};
    /// let err = OtlpExporter::builder()
    ///     .from_env_lookup(|k| (k == "OTEL_EXPORTER_OTLP_PROTOCOL").then(|| "grpc".to_owned()))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, OtlpError::UnsupportedProtocol { .. }));
    /// ```
    pub fn from_env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Some(Box::new(lookup));
        self
    }

    /// Checks the configuration and creates the exporter (and its HTTP client).
    pub fn build(self) -> Result<OtlpExporter, OtlpError> {
        let env = match &self.env {
            Some(lookup) => config::from_lookup(lookup.as_ref())?,
            None => config::EnvConfig::default(),
        };
        let url = match (self.traces_endpoint, env.traces_endpoint) {
            (Some(url), _) => http::parse_endpoint(&url)?,
            // From the environment: an error names the variable.
            (None, Some(url)) => http::parse_endpoint(&url).map_err(|e| {
                let (var, value) = env.endpoint_source.clone().unwrap_or_default();
                OtlpError::InvalidEnv {
                    var,
                    value: http::redact_url(&value),
                    reason: e.to_string(),
                }
            })?,
            (None, None) => http::parse_endpoint(DEFAULT_TRACES_ENDPOINT)?,
        };
        let protocol = self.protocol.or(env.protocol).unwrap_or_default();
        let mut headers: HeaderMap = http::content_type(match protocol {
            Protocol::HttpProtobuf => "application/x-protobuf",
            Protocol::HttpJson => "application/json",
        });
        for (var, name, value) in &env.headers {
            http::insert_header(&mut headers, name, value, true).map_err(|e| {
                OtlpError::InvalidEnv {
                    var,
                    value: format!("{name}=***"),
                    reason: e.to_string(),
                }
            })?;
        }
        for (name, value) in &self.headers {
            http::insert_header(&mut headers, name, value, true)?;
        }
        let timeout = match self.timeout {
            Some(t) => http::checked_timeout("OtlpExporterBuilder::timeout", &format!("{t:?}"), t),
            None => env.timeout.unwrap_or(Duration::from_secs(10)),
        };
        let gzip = self.gzip.or(env.gzip).unwrap_or(false);
        let client = HttpClient::new(url, headers, timeout, gzip)?;

        let mut resource: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: &str| match resource.iter_mut().find(|(key, _)| key == k) {
            Some(entry) => entry.1 = v.to_owned(),
            None => resource.push((k.to_owned(), v.to_owned())),
        };
        set("service.name", "agent-trace");
        for (k, v) in env.resource_attributes.iter().chain(&self.resource) {
            set(k, v);
        }
        if let Some(name) = self.service_name.as_ref().or(env.service_name.as_ref()) {
            set("service.name", name);
        }
        set("telemetry.sdk.name", "agent-trace");
        set("telemetry.sdk.language", "rust");
        set("telemetry.sdk.version", env!("CARGO_PKG_VERSION"));

        let provider_name = match self.provider_name {
            None => Some("openai".to_owned()),
            Some(p) if p.is_empty() => None,
            Some(p) => Some(p),
        };
        let max_request_bytes = match self.max_request_bytes {
            None => DEFAULT_MAX_REQUEST_BYTES,
            Some(n) => {
                let (lo, hi) = REQUEST_BYTES_RANGE;
                let used = n.clamp(lo, hi);
                if used != n {
                    agent_trace::emit_diagnostic(agent_trace::Diagnostic {
                        key: "bad_setting",
                        message: format!("OtlpExporterBuilder::max_request_bytes({n}) is outside {lo} to {hi} bytes; using {used}"),
                        count: 1,
                    });
                }
                used
            }
        };
        Ok(OtlpExporter {
            client,
            protocol,
            max_request_bytes,
            mapping: MappingConfig {
                provider_name,
                include_sensitive_data: agent_trace::privacy::sensitive_data_from_env()
                    .unwrap_or(self.include_sensitive_data),
                resource: resource
                    .iter()
                    .map(|(k, v)| kv_str(k, v.as_str()))
                    .collect(),
            },
            groups: Mutex::new(TraceGroups::default()),
            progress: Mutex::new(None),
            bytes_per_item: AtomicUsize::new(0),
        })
    }
}

/// Locks `m`; a poisoned lock only means a panic elsewhere mid-update, the value is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sends batches to an OTLP/HTTP collector; see the [module docs](self).
///
/// ```
/// let exporter = agent_trace_exporters::OtlpExporter::builder()
///     .endpoint("http://127.0.0.1:4318")
///     .build()
///     .unwrap();
/// assert_eq!(exporter.traces_url(), "http://127.0.0.1:4318/v1/traces");
/// ```
pub struct OtlpExporter {
    client: HttpClient,
    protocol: Protocol,
    max_request_bytes: usize,
    mapping: MappingConfig,
    groups: Mutex<TraceGroups>,
    /// The batch last sent in several parts and not completed: its fingerprint and how many of
    /// its parts were delivered (skipped when it is offered again).
    progress: Mutex<Option<(u64, usize)>>,
    /// Protobuf bytes per item of the last batch (to size the next body).
    bytes_per_item: AtomicUsize,
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("url", &self.client.shown_url())
            .field("protocol", &self.protocol)
            .field("max_request_bytes", &self.max_request_bytes)
            .finish_non_exhaustive()
    }
}

impl OtlpExporter {
    /// Starts building an exporter.
    pub fn builder() -> OtlpExporterBuilder {
        OtlpExporterBuilder::default()
    }

    /// The URL batches are POSTed to.
    pub fn traces_url(&self) -> &str {
        self.client.url().as_str()
    }

    /// The body encoding in use.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The timeout of one request, after the checks of [`OtlpExporterBuilder::timeout`] and
    /// `OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT`.
    pub fn timeout(&self) -> Duration {
        self.client.timeout()
    }

    /// Whether request bodies are gzipped.
    pub fn gzip(&self) -> bool {
        self.client.gzip()
    }

    /// The largest request body sent, in bytes.
    pub fn max_request_bytes(&self) -> usize {
        self.max_request_bytes
    }

    /// The request body [`export`](TracingExporter::export) POSTs for `batch` when it fits in
    /// one request: the batch mapped to OTLP spans (trace start records are taken in as
    /// `export` takes them in), encoded with this exporter's protocol, gzipped when gzip is
    /// on. For the benchmarks (`benches/otlp_encode.rs`); not part of the stable API.
    #[doc(hidden)]
    pub fn encode_body(&self, batch: &[ExportItem]) -> Result<Vec<u8>, ExportError> {
        let body = self.encode_batch(batch)?;
        if !self.client.gzip() {
            return Ok(body);
        }
        // What `HttpClient::post_status` does to each body it sends.
        http::gzip(&body)
            .map_err(|e| ExportError::permanent(format!("could not gzip the request body: {e}")))
    }

    /// The whole batch's request body (before gzip). Protobuf is written straight from the
    /// records (the same bytes as prost's encoding of [`request`](Self::request)); JSON is
    /// serialized from the request.
    fn encode_batch(&self, batch: &[ExportItem]) -> Result<Vec<u8>, ExportError> {
        match self.protocol {
            Protocol::HttpProtobuf => {
                // Room for what the last batch's items took (an eighth more), so that the body
                // is not moved as it grows.
                let per_item = self.bytes_per_item.load(Ordering::Relaxed).max(256);
                let mut body = Vec::with_capacity(1024 + batch.len() * per_item / 8 * 9);
                wire::encode_request(batch, &self.mapping, &mut lock(&self.groups), &mut body);
                self.bytes_per_item
                    .store(body.len() / batch.len().max(1) + 1, Ordering::Relaxed);
                Ok(body)
            }
            Protocol::HttpJson => self.encode(&self.request(batch)),
        }
    }

    fn request(&self, batch: &[ExportItem]) -> ExportTraceServiceRequest {
        mapping::build_request(batch, &self.mapping, &mut lock(&self.groups))
    }

    fn encode(&self, request: &ExportTraceServiceRequest) -> Result<Vec<u8>, ExportError> {
        match self.protocol {
            Protocol::HttpProtobuf => Ok(request.encode_to_vec()),
            Protocol::HttpJson => serde_json::to_vec(request).map_err(|e| {
                ExportError::permanent(format!("could not encode the batch as OTLP JSON: {e}"))
            }),
        }
    }

    /// Sends one part; on 413, sends it again in halves, and a single span cut smaller. A span
    /// refused even then is left out and reported, as an OTLP partial success would be.
    /// `refused`: the part was already sent whole and refused as too large (the body's size and
    /// the error).
    async fn send_part(
        &self,
        shell: &split::Shell,
        spans: Vec<Span>,
        refused: Option<(usize, ExportError)>,
    ) -> Result<(), ExportError> {
        let mut todo = vec![(spans, refused)];
        while let Some((mut spans, refused)) = todo.pop() {
            let (sent, error) = match refused {
                Some(refused) => refused,
                None => {
                    let request = shell.with(spans);
                    let body = self.encode(&request)?;
                    spans = split::Shell::take(request);
                    let sent = body.len();
                    match self.client.post_status(body).await {
                        Ok(_) => continue,
                        Err(err) if err.status == Some(413) => (sent, err.error),
                        Err(err) => return Err(err.error),
                    }
                }
            };
            if spans.len() > 1 {
                let second = spans.split_off(spans.len() / 2);
                // Popped in order: the first half first.
                todo.push((second, None));
                todo.push((spans, None));
                continue;
            }
            let Some(mut span) = spans.pop() else {
                continue;
            };
            if sent > 1024 && split::truncate(&mut span, sent / 2, self.protocol) {
                todo.push((vec![span], None));
                continue;
            }
            agent_trace::emit_diagnostic(agent_trace::Diagnostic {
                key: "otlp_span_too_large",
                message: format!(
                    "the collector refused span {:?} as too large even at {sent} bytes ({error}); it is left out, the rest of the batch is delivered; raise the collector's max_request_body_size",
                    span.name
                ),
                count: 1,
            });
        }
        Ok(())
    }
}

impl TracingExporter for OtlpExporter {
    fn name(&self) -> &str {
        "otlp"
    }

    /// Strips what this exporter never sends (see [`include_sensitive_data`](OtlpExporterBuilder::include_sensitive_data)),
    /// so that a batch spooled to disk holds no more than the request would.
    fn redact_for_spool(&self, item: &mut ExportItem) {
        if let ExportItem::Span(span) = item {
            mapping::redact(&mut span.data, self.mapping.include_sensitive_data);
        }
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            if batch.is_empty() {
                return Ok(());
            }
            let body = self.encode_batch(batch)?;
            if body.len() <= self.max_request_bytes {
                let sent = body.len();
                return match self.client.post_status(body).await {
                    Ok(_) => Ok(()),
                    Err(err) if err.status == Some(413) => {
                        // Refused as too large: the spans again, in halves (see `send_part`).
                        let (shell, spans) = split::Shell::split(self.request(batch));
                        self.send_part(&shell, spans, Some((sent, err.error))).await
                    }
                    Err(err) => Err(err.error),
                };
            }
            let (shell, spans) = split::Shell::split(self.request(batch));
            let (parts, cut) = split::pack(&shell, spans, self.max_request_bytes, self.protocol);
            if cut > 0 {
                agent_trace::emit_diagnostic(agent_trace::Diagnostic {
                    key: "otlp_span_truncated",
                    message: format!(
                        "{cut} span(s) were larger than max_request_bytes ({} bytes) alone; their largest attribute values were cut, with a marker",
                        self.max_request_bytes
                    ),
                    count: cut as u64,
                });
            }
            // A failure of a later part fails the batch, which the processor offers again whole
            // (or replays from its spool): the parts delivered before are skipped then. Packing
            // is deterministic, so the same batch makes the same parts.
            let fingerprint = split::fingerprint(batch);
            let done = match *lock(&self.progress) {
                Some((f, done)) if f == fingerprint => done,
                _ => 0,
            };
            for (i, part) in parts.into_iter().enumerate().skip(done) {
                self.send_part(&shell, part, None).await?;
                *lock(&self.progress) = Some((fingerprint, i + 1));
            }
            *lock(&self.progress) = None;
            Ok(())
        })
    }
}

//! The OpenAI traces-ingest endpoint (feature `openai`): the traces dashboard of the OpenAI
//! platform, as the OpenAI Agents SDK's own exporter sends to it.
//!
//! ```no_run
//! use agent_trace::{BatchProcessor, TracerProvider};
//! use agent_trace_exporters::OpenAiExporter;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let openai = OpenAiExporter::builder().build()?; // OPENAI_API_KEY from the environment
//! let provider = TracerProvider::builder()
//!     .with_processor(BatchProcessor::new(openai))
//!     .build();
//! # Ok(()) }
//! ```
//!
//! Each batch is one `POST {"data": [...]}` of items in the OpenAI export shape
//! ([`ExportItem`]'s JSON), with `Authorization: Bearer {key}`, `OpenAI-Beta: traces=v1` and,
//! when set, `OpenAI-Organization` and `OpenAI-Project`.
//!
//! | setting | builder | environment (read at build unless replaced by [`OpenAiExporterBuilder::from_env_lookup`]) | default |
//! |---|---|---|---|
//! | API key (required) | [`api_key`](OpenAiExporterBuilder::api_key) | `OPENAI_API_KEY` | — ([`OpenAiError::MissingApiKey`]) |
//! | organization | [`organization`](OpenAiExporterBuilder::organization) | `OPENAI_ORG_ID` | none |
//! | project | [`project`](OpenAiExporterBuilder::project) | `OPENAI_PROJECT_ID` | none |
//! | URL | [`endpoint`](OpenAiExporterBuilder::endpoint) | `OPENAI_TRACES_ENDPOINT` | [`DEFAULT_ENDPOINT`] |
//! | timeout | [`timeout`](OpenAiExporterBuilder::timeout) | — | 30 s |
//!
//! This exporter has no content switch of its own: it sends what the provider recorded, and
//! a provider records inputs, outputs and error data only with
//! [`include_sensitive_data`](agent_trace::TracerProviderBuilder::include_sensitive_data) (off
//! by default; see [`agent_trace::privacy`]).
//!
//! What is changed on the way, as the Agents SDK does for this endpoint
//! (`BackendSpanExporter` in `agents/tracing/processors.py`):
//! - every field of `span_data` (inputs, outputs, custom data…), the error and the trace
//!   metadata whose JSON exceeds [`MAX_FIELD_BYTES`] is cut to fit: strings end with a visible
//!   `…[truncated N bytes]`, lists and objects keep their first entries and say how many were
//!   left out;
//! - `usage` is kept on generation spans only, as `{"input_tokens", "output_tokens"}` plus a
//!   `details` object holding every other usage key (`requests`, `total_tokens`,
//!   `input_tokens_details`, …); it is dropped from other span types, which the endpoint
//!   rejects with it;
//! - fields that are not in the OpenAI shape are removed: `started_at`/`ended_at` of traces,
//!   `links` of spans.
//!
//! The exporter makes one attempt per export; 408, 429, 5xx (except 501) and network errors
//! are [transient](ExportError::Transient), other statuses (401: bad key…) permanent.

use std::fmt;
use std::time::Duration;

use agent_trace::{BoxFuture, ExportError, ExportItem, TracingExporter};
use serde_json::{Map, Value};

use crate::http::{self, HttpClient};
use crate::HttpSetupError;

/// The OpenAI traces-ingest URL.
pub const DEFAULT_ENDPOINT: &str = "https://api.openai.com/v1/traces/ingest";

/// The largest JSON size, in bytes, of one field the endpoint accepts.
pub const MAX_FIELD_BYTES: usize = 100_000;

/// Why an [`OpenAiExporter`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenAiError {
    /// No API key in the builder nor in `OPENAI_API_KEY`.
    #[error("no OpenAI API key: set OPENAI_API_KEY or call OpenAiExporterBuilder::api_key")]
    MissingApiKey,
    /// An environment variable has a value the exporter cannot use (the API key's value is
    /// never shown).
    #[error("{var}={value:?} is invalid: {reason}; fix or unset it")]
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// Its value (`***` for the API key).
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint, the key, the organization or the project cannot be used for the HTTP
    /// request (an invalid URL, https without the `tls` feature, a value that cannot be sent
    /// as a header…); see [`HttpSetupError`].
    #[error(transparent)]
    Http(#[from] HttpSetupError),
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds an [`OpenAiExporter`]; see the [module docs](self).
#[must_use]
#[derive(Default)]
pub struct OpenAiExporterBuilder {
    api_key: Option<String>,
    organization: Option<String>,
    project: Option<String>,
    endpoint: Option<String>,
    timeout: Option<Duration>,
    env: Option<Lookup>,
}

impl fmt::Debug for OpenAiExporterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiExporterBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OpenAiExporterBuilder {
    /// The API key (else `OPENAI_API_KEY`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The `OpenAI-Organization` header (else `OPENAI_ORG_ID`).
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// The `OpenAI-Project` header (else `OPENAI_PROJECT_ID`).
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The ingest URL (else `OPENAI_TRACES_ENDPOINT`, else [`DEFAULT_ENDPOINT`]).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The longest one request may take (default 30 s; 1 ms to 1 h, `Duration::ZERO` meaning
    /// no limit of the exporter's own, i.e. 1 h; a value outside is replaced with a diagnostic).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Reads the variables through `lookup` instead of the process environment.
    ///
    /// ```
    /// use agent_trace_exporters::openai::{OpenAiError, OpenAiExporter};
    /// let err = OpenAiExporter::builder().from_env_lookup(|_| None).build().unwrap_err();
    /// assert_eq!(err, OpenAiError::MissingApiKey);
    /// ```
    pub fn from_env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Some(Box::new(lookup));
        self
    }

    /// Checks the configuration and creates the exporter.
    pub fn build(self) -> Result<OpenAiExporter, OpenAiError> {
        let env = |var: &str| {
            match &self.env {
                Some(lookup) => lookup(var),
                None => std::env::var(var).ok(),
            }
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        };
        // A value from the environment that cannot be used: an error naming the variable.
        let bad_env = |var: &'static str, value: &str, e: HttpSetupError| OpenAiError::InvalidEnv {
            var,
            value: value.to_owned(),
            reason: e.to_string(),
        };
        let (key, key_var) = match self.api_key.clone().filter(|k| !k.trim().is_empty()) {
            Some(key) => (key, None),
            None => (
                env("OPENAI_API_KEY").ok_or(OpenAiError::MissingApiKey)?,
                Some("OPENAI_API_KEY"),
            ),
        };
        let url = match self.endpoint.clone() {
            Some(endpoint) => http::parse_endpoint(&endpoint)?,
            None => match env("OPENAI_TRACES_ENDPOINT") {
                Some(endpoint) => http::parse_endpoint(&endpoint).map_err(|e| {
                    bad_env("OPENAI_TRACES_ENDPOINT", &http::redact_url(&endpoint), e)
                })?,
                None => http::parse_endpoint(DEFAULT_ENDPOINT)?,
            },
        };
        let mut headers = http::content_type("application/json");
        let bearer = format!("Bearer {}", key.trim());
        http::insert_header(&mut headers, "Authorization", &bearer, true).map_err(
            |e| match key_var {
                Some(var) => bad_env(var, "***", e),
                None => e.into(),
            },
        )?;
        http::insert_header(&mut headers, "OpenAI-Beta", "traces=v1", false)?;
        for (given, var, header) in [
            (&self.organization, "OPENAI_ORG_ID", "OpenAI-Organization"),
            (&self.project, "OPENAI_PROJECT_ID", "OpenAI-Project"),
        ] {
            if let Some(value) = given {
                http::insert_header(&mut headers, header, value, false)?;
            } else if let Some(value) = env(var) {
                http::insert_header(&mut headers, header, &value, false)
                    .map_err(|e| bad_env(var, &value, e))?;
            }
        }
        let timeout = match self.timeout {
            Some(t) => {
                http::checked_timeout("OpenAiExporterBuilder::timeout", &format!("{t:?}"), t)
            }
            None => Duration::from_secs(30),
        };
        Ok(OpenAiExporter {
            client: HttpClient::new(url, headers, timeout, false)?,
        })
    }
}

/// Sends batches to the OpenAI traces-ingest endpoint; see the [module docs](self).
pub struct OpenAiExporter {
    client: HttpClient,
}

impl fmt::Debug for OpenAiExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiExporter")
            .field("endpoint", &self.client.shown_url())
            .finish_non_exhaustive()
    }
}

impl OpenAiExporter {
    /// Starts building an exporter.
    pub fn builder() -> OpenAiExporterBuilder {
        OpenAiExporterBuilder::default()
    }

    /// The URL batches are POSTed to.
    pub fn endpoint(&self) -> &str {
        self.client.url().as_str()
    }

    /// The timeout of one request, after the checks of [`OpenAiExporterBuilder::timeout`].
    pub fn timeout(&self) -> Duration {
        self.client.timeout()
    }

    /// The request body for a batch: `{"data": [...]}`, sanitized as the module docs say.
    ///
    /// ```
    /// use agent_trace::{ExportItem, SpanData, SpanRecord, TraceId};
    /// let exporter = agent_trace_exporters::OpenAiExporter::builder()
    ///     .api_key("sk-test")
    ///     .endpoint("http://127.0.0.1:9/v1/traces/ingest")
    ///     .build()
    ///     .unwrap();
    /// let span = SpanRecord::new(TraceId::random(), None, SpanData::custom("step"));
    /// let body = exporter.payload(&[ExportItem::Span(span)]);
    /// assert_eq!(body["data"][0]["object"], "trace.span");
    /// ```
    pub fn payload(&self, batch: &[ExportItem]) -> Value {
        // A trace goes to OpenAI once, when it starts, as the OpenAI Agents SDK sends it; the
        // record sent again when it ends (with `ended_at`, which OpenAI does not take) is
        // skipped.
        let data = batch
            .iter()
            .filter(|i| i.is_trace_start() || matches!(i, ExportItem::Span(_)))
            .filter_map(sanitize_item)
            .collect();
        let mut body = Map::new();
        body.insert("data".to_owned(), Value::Array(data));
        Value::Object(body)
    }
}

impl TracingExporter for OpenAiExporter {
    fn name(&self) -> &str {
        "openai"
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            if batch.is_empty() {
                return Ok(());
            }
            let body = serde_json::to_vec(&self.payload(batch)).map_err(|e| {
                ExportError::permanent(format!("could not encode the batch as JSON: {e}"))
            })?;
            self.client.post(body).await.map(|_| ())
        })
    }
}

/// One item in the OpenAI shape; `None` if it cannot be serialized (never for our types).
fn sanitize_item(item: &ExportItem) -> Option<Value> {
    let Ok(Value::Object(mut obj)) = serde_json::to_value(item) else {
        return None;
    };
    match item {
        ExportItem::Trace(_) => {
            obj.remove("started_at");
            obj.remove("ended_at");
            if let Some(metadata) = obj.get_mut("metadata") {
                *metadata = truncate(std::mem::take(metadata), MAX_FIELD_BYTES);
            }
        }
        ExportItem::Span(_) => {
            obj.remove("links");
            if let Some(Value::Object(data)) = obj.get_mut("span_data") {
                sanitize_span_data(data);
            }
            if let Some(error) = obj.get_mut("error") {
                *error = truncate(std::mem::take(error), MAX_FIELD_BYTES);
            }
        }
    }
    Some(Value::Object(obj))
}

fn sanitize_span_data(data: &mut Map<String, Value>) {
    let is_generation = data.get("type").and_then(Value::as_str) == Some("generation");
    match data.remove("usage") {
        Some(Value::Object(usage)) if is_generation => {
            data.insert("usage".to_owned(), sanitize_usage(usage));
        }
        _ => {}
    }
    for (key, value) in data.iter_mut() {
        if key != "type" {
            *value = truncate(std::mem::take(value), MAX_FIELD_BYTES);
        }
    }
}

/// `{"input_tokens", "output_tokens", "details": {every other non-null key}}`.
fn sanitize_usage(mut usage: Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in ["input_tokens", "output_tokens"] {
        let n = usage.remove(key).and_then(|v| v.as_u64()).unwrap_or(0);
        out.insert(key.to_owned(), Value::from(n));
    }
    let mut details = match usage.remove("details") {
        Some(Value::Object(d)) => d,
        _ => Map::new(),
    };
    details.extend(usage.into_iter().filter(|(_, v)| !v.is_null()));
    if !details.is_empty() {
        out.insert("details".to_owned(), Value::Object(details));
    }
    Value::Object(out)
}

/// Bytes a value takes as compact JSON.
fn json_len(value: &Value) -> usize {
    match value {
        Value::String(s) => str_json_len(s),
        Value::Array(items) => {
            2 + items.len().saturating_sub(1) + items.iter().map(json_len).sum::<usize>()
        }
        Value::Object(map) => {
            2 + map.len().saturating_sub(1)
                + map
                    .iter()
                    .map(|(k, v)| str_json_len(k) + 1 + json_len(v))
                    .sum::<usize>()
        }
        other => other.to_string().len(),
    }
}

/// Bytes of one char once escaped the way `serde_json` escapes it.
fn char_json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{08}' | '\u{0c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

fn str_json_len(s: &str) -> usize {
    2 + s.chars().map(char_json_len).sum::<usize>()
}

/// Cuts a value so that its JSON takes at most `max` bytes (see the module docs).
fn truncate(value: Value, max: usize) -> Value {
    if json_len(&value) <= max {
        return value;
    }
    match value {
        Value::String(s) => Value::String(truncate_str(&s, max)),
        Value::Array(items) => {
            let total = items.len();
            let mut kept = Vec::new();
            let mut used = 2;
            let room = max.saturating_sub(MARKER_ROOM);
            for item in items {
                let len = json_len(&item) + 1;
                if used + len <= room {
                    used += len;
                    kept.push(item);
                    continue;
                }
                if room.saturating_sub(used) > MARKER_ROOM {
                    kept.push(truncate(item, room - used - 1));
                }
                break;
            }
            let left_out = total - kept.len();
            kept.push(Value::String(format!("…[truncated {left_out} more items]")));
            Value::Array(kept)
        }
        Value::Object(map) => {
            let total = map.len();
            let mut kept = Map::new();
            let mut used = 2;
            let room = max.saturating_sub(MARKER_ROOM);
            for (key, item) in map {
                let key_len = str_json_len(&key) + 2;
                let len = key_len + json_len(&item);
                if used + len <= room {
                    used += len;
                    kept.insert(key, item);
                    continue;
                }
                if room.saturating_sub(used + key_len) > MARKER_ROOM {
                    kept.insert(key, truncate(item, room - used - key_len));
                }
                break;
            }
            let left_out = total - kept.len();
            kept.insert(
                "…".to_owned(),
                Value::String(format!("[truncated {left_out} more keys]")),
            );
            Value::Object(kept)
        }
        other => other,
    }
}

/// Room kept for a truncation marker inside a list or object.
const MARKER_ROOM: usize = 64;

/// The longest prefix (on a char boundary) that fits `max` JSON bytes with its marker.
fn truncate_str(s: &str, max: usize) -> String {
    // The marker's length depends on the count it shows; reserve for the widest count.
    let marker_len = str_json_len(&format!("…[truncated {} bytes]", s.len())) - 2;
    let budget = max.saturating_sub(2 + marker_len);
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let len = char_json_len(c);
        if used + len > budget {
            break;
        }
        used += len;
        end = i + c.len_utf8();
    }
    format!("{}…[truncated {} bytes]", &s[..end], s.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_cut_to_the_limit_with_a_marker() {
        let s = "é\"x".repeat(50_000);
        let cut = truncate(Value::String(s.clone()), MAX_FIELD_BYTES);
        let text = cut.as_str().unwrap();
        assert!(json_len(&cut) <= MAX_FIELD_BYTES);
        assert!(json_len(&cut) > MAX_FIELD_BYTES - 100);
        assert!(text.ends_with(" bytes]"), "{}", &text[text.len() - 40..]);
        assert_eq!(serde_json::to_vec(&cut).unwrap().len(), json_len(&cut));
        let short = Value::String("short".into());
        assert_eq!(truncate(short.clone(), MAX_FIELD_BYTES), short);
    }

    #[test]
    fn containers_keep_a_prefix() {
        let list = Value::Array(
            (0..10_000)
                .map(|i| json!({"role": "user", "content": format!("m{i}")}))
                .collect(),
        );
        let cut = truncate(list, 10_000);
        assert!(json_len(&cut) <= 10_000);
        assert_eq!(serde_json::to_vec(&cut).unwrap().len(), json_len(&cut));
        let items = cut.as_array().unwrap();
        assert!(items
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .contains("more items"));
        let obj = json!({"a": "x".repeat(20_000), "b": 1});
        let cut = truncate(obj, 1_000);
        assert!(json_len(&cut) <= 1_000, "{}", json_len(&cut));
        assert!(cut["a"].as_str().unwrap().contains("truncated"));
    }

    #[test]
    fn usage_reduced() {
        let u = json!({"requests": 1, "input_tokens": 3, "output_tokens": 4, "total_tokens": 7, "input_tokens_details": {"cached_tokens": 1}});
        let Value::Object(u) = u else { unreachable!() };
        assert_eq!(
            sanitize_usage(u),
            json!({"input_tokens": 3, "output_tokens": 4, "details": {"requests": 1, "total_tokens": 7, "input_tokens_details": {"cached_tokens": 1}}})
        );
    }
}

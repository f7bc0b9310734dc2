//! Shared HTTP plumbing of the OTLP and OpenAI exporters: one pooled `reqwest` client per
//! exporter, one POST per export attempt, optional gzip, and the mapping of every outcome to
//! an [`ExportError`] the batch processor can act on.
//!
//! - connection errors, timeouts, broken bodies → [`ExportError::Transient`];
//! - an HTTP status → [`ExportError::from_http_status`] (408, 429 and 5xx except 501 retryable),
//!   with `Retry-After` read in both its delta-seconds and HTTP-date forms;
//! - the start of the response body (up to [`MAX_ERROR_BODY`] bytes) goes into the message.

use std::io::Write;
use std::time::{Duration, SystemTime};

use agent_trace::ExportError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};

/// How much of an error response's body is kept for the error message.
pub(crate) const MAX_ERROR_BODY: usize = 2048;

/// One client per exporter: keep-alive connections are pooled and reused across batches, and
/// closed when the exporter is dropped — which the batch processor does when the exporter's
/// lane ends at shutdown.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    url: reqwest::Url,
    /// `url` with its credentials masked, for every message and `Debug` output.
    shown: String,
    headers: HeaderMap,
    gzip: bool,
    timeout: Duration,
}

/// Why an HTTP exporter (OTLP, OpenAI) could not set up its HTTP client: the part of the
/// configuration they share — endpoint URL, headers, TLS. Each exporter's own error type
/// wraps it in its `Http` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpSetupError {
    /// The endpoint is not an absolute http(s) URL with a host.
    #[error("endpoint {url:?} is invalid: {reason}; use an absolute URL with a host, starting with http:// or https://")]
    InvalidEndpoint {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// An https endpoint, but TLS support was not compiled in.
    #[error("endpoint {url:?} uses https, but agent-trace-exporters was built without TLS (its default features were turned off); enable its `tls` feature, or use an http:// endpoint")]
    TlsRequired {
        /// The URL given.
        url: String,
    },
    /// A header name or value that HTTP does not allow (API keys and other credentials are
    /// sent as headers too).
    #[error("HTTP header {name:?} is invalid: {reason}; fix or remove it")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// `reqwest` refused to build the HTTP client.
    #[error("could not create the HTTP client: {0}; this points to the system's TLS or network setup rather than to the exporter's configuration")]
    Client(String),
}

/// `url` with what may be a credential masked: the user and password (`user:pw@`) and the
/// value of every query parameter (`?key=…`) become `***`. Used in every error, diagnostic and
/// `Debug` output that shows an endpoint.
pub(crate) fn redact_url(url: &str) -> String {
    let url = url.trim();
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => head.to_owned(),
            }
        }
        None => head.to_owned(),
    };
    if let Some(query) = query {
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) => format!("{k}=***"),
                None => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&masked.join("&"));
    }
    out
}

/// Parses and checks an endpoint URL.
pub(crate) fn parse_endpoint(url: &str) -> Result<reqwest::Url, HttpSetupError> {
    // `http://` + `/v1/traces` would parse with `v1` as the host (URL parsers repair a
    // missing authority): the host must be there in the text as written.
    let authority = url.trim().split_once("://").map(|(_, rest)| rest);
    if authority.is_none() && !url.trim().to_ascii_lowercase().starts_with("http") {
        return Err(HttpSetupError::InvalidEndpoint {
            url: redact_url(url),
            reason: "it has no scheme (write it as http://HOST:PORT or https://HOST:PORT)"
                .to_owned(),
        });
    }
    if authority.is_none_or(|rest| rest.is_empty() || rest.starts_with('/')) {
        return Err(HttpSetupError::InvalidEndpoint {
            url: redact_url(url),
            reason: "it has no host (write it as http://HOST:PORT)".to_owned(),
        });
    }
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| HttpSetupError::InvalidEndpoint {
        url: redact_url(url),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "http" => {}
        "https" if cfg!(feature = "tls") => {}
        "https" => {
            return Err(HttpSetupError::TlsRequired {
                url: redact_url(url),
            })
        }
        other => {
            return Err(HttpSetupError::InvalidEndpoint {
                url: redact_url(url),
                reason: format!("scheme `{other}` is not supported, use http:// or https://"),
            })
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(HttpSetupError::InvalidEndpoint {
            url: redact_url(url),
            reason: "it has no host".to_owned(),
        });
    }
    Ok(parsed)
}

/// The longest request timeout an exporter takes (1 hour); the batch processor's export
/// timeout bounds each export anyway.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// A request timeout from `source` (an environment variable or a builder method), checked:
/// zero means "no limit of the exporter's own" and, like a value over [`MAX_TIMEOUT`], becomes
/// [`MAX_TIMEOUT`]; anything under a millisecond becomes one. A changed value is reported with a
/// diagnostic naming `source`, the value given and the value used.
pub(crate) fn checked_timeout(source: &str, given: &str, timeout: Duration) -> Duration {
    let (used, why) = if timeout.is_zero() {
        (MAX_TIMEOUT, "0 sets no limit of the exporter's own")
    } else if timeout > MAX_TIMEOUT {
        (MAX_TIMEOUT, "it is above the largest supported timeout")
    } else if timeout < Duration::from_millis(1) {
        (
            Duration::from_millis(1),
            "it is below the smallest supported timeout",
        )
    } else {
        return timeout;
    };
    agent_trace::emit_diagnostic(agent_trace::Diagnostic {
        key: "bad_setting",
        message: format!(
            "{source}={given}: {why} (1 ms to {} ms); using {} ms (each export is still bounded by the batch processor's export timeout)",
            MAX_TIMEOUT.as_millis(),
            used.as_millis()
        ),
        count: 1,
    });
    used
}

/// Adds a header, checking name and value.
pub(crate) fn insert_header(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
    sensitive: bool,
) -> Result<(), HttpSetupError> {
    let header_name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|e| {
        HttpSetupError::InvalidHeader {
            name: name.to_owned(),
            reason: e.to_string(),
        }
    })?;
    let mut header_value =
        HeaderValue::from_str(value).map_err(|e| HttpSetupError::InvalidHeader {
            name: name.to_owned(),
            reason: format!("invalid value ({e}); header values must be visible ASCII"),
        })?;
    header_value.set_sensitive(sensitive);
    headers.insert(header_name, header_value);
    Ok(())
}

impl HttpClient {
    /// A client that POSTs to `url` with these headers (including `Content-Type`).
    pub(crate) fn new(
        url: reqwest::Url,
        headers: HeaderMap,
        timeout: Duration,
        gzip: bool,
    ) -> Result<Self, HttpSetupError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_keepalive(Duration::from_secs(60))
            .user_agent(concat!("agent-trace/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpSetupError::Client(e.to_string()))?;
        Ok(HttpClient {
            client,
            shown: redact_url(url.as_str()),
            url,
            headers,
            gzip,
            timeout,
        })
    }

    /// The URL requests go to.
    pub(crate) fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// The timeout of one request.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether request bodies are gzipped.
    pub(crate) fn gzip(&self) -> bool {
        self.gzip
    }

    /// The URL with its credentials masked (see [`redact_url`]).
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown
    }

    /// One POST of `body`; `Ok` for any 2xx status, with the response body.
    #[cfg(feature = "openai")]
    pub(crate) async fn post(&self, body: Vec<u8>) -> Result<Vec<u8>, ExportError> {
        self.post_status(body).await.map_err(|e| e.error)
    }

    /// [`post`](Self::post), with the HTTP status of a failure (for a caller that handles one
    /// status itself, as the OTLP exporter does 413).
    pub(crate) async fn post_status(&self, body: Vec<u8>) -> Result<Vec<u8>, PostError> {
        let body = if self.gzip {
            gzip(&body).map_err(|e| {
                PostError::from(ExportError::permanent(format!(
                    "could not gzip the request body: {e}"
                )))
            })?
        } else {
            body
        };
        let mut request = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone());
        if self.gzip {
            request = request.header(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let mut response = request
            .body(body)
            .send()
            .await
            .map_err(|e| PostError::from(self.request_error(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let limit = if status.is_success() {
            1 << 20
        } else {
            MAX_ERROR_BODY
        };
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit.saturating_sub(bytes.len());
                    bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if bytes.len() >= limit {
                        break;
                    }
                }
                Ok(None) => break,
                // The status is what matters; a body cut short only shortens the message.
                Err(_) if !status.is_success() => break,
                Err(e) => {
                    return Err(PostError::from(ExportError::transient(format!(
                        "{}: the response body broke off ({e})",
                        self.shown
                    ))))
                }
            }
        }
        if status.is_success() {
            return Ok(bytes);
        }
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        let body = if text.is_empty() {
            status.canonical_reason().unwrap_or("").to_owned()
        } else {
            text.to_owned()
        };
        let error = match ExportError::from_http_status(status.as_u16(), &body, retry_after) {
            ExportError::Permanent(message) => ExportError::Permanent(format!(
                "{message} (from {}; check the endpoint, headers and credentials)",
                self.shown
            )),
            other => other,
        };
        Err(PostError {
            status: Some(status.as_u16()),
            error,
        })
    }

    fn request_error(&self, e: &reqwest::Error) -> ExportError {
        let mut message = if e.is_timeout() {
            format!("{}: the request timed out", self.shown)
        } else if e.is_connect() {
            format!(
                "{}: could not connect — is the collector running and reachable?",
                self.shown
            )
        } else {
            format!("{}: request failed", self.shown)
        };
        // reqwest's Display is terse; the source chain says what really happened.
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(err) = source {
            message.push_str(": ");
            // reqwest names the URL in its errors (as it sent it): never with its credentials.
            let mut text = err.to_string();
            for url in [Some(&self.url), e.url()].into_iter().flatten() {
                text = text.replace(url.as_str(), &redact_url(url.as_str()));
            }
            message.push_str(&text);
            source = err.source();
        }
        if e.is_builder() {
            ExportError::permanent(message)
        } else {
            ExportError::transient(message)
        }
    }
}

/// A failed POST: the error, and the HTTP status if the server answered.
#[derive(Debug)]
pub(crate) struct PostError {
    /// The status of the answer; `None` when there was none (connection, timeout…).
    pub(crate) status: Option<u16>,
    pub(crate) error: ExportError,
}

impl From<ExportError> for PostError {
    fn from(error: ExportError) -> Self {
        PostError {
            status: None,
            error,
        }
    }
}

/// Gzips a body.
pub(crate) fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

/// Reads a `Retry-After` value: delta-seconds (`120`) or an HTTP-date in any of the three
/// forms HTTP recipients must accept (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 850, asctime),
/// relative to `now`; a date in the past gives zero.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Content-Type` as a header map entry.
pub(crate) fn content_type(value: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // Sun, 06 Nov 1994 08:49:30 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn retry_after_obsolete_date_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // Sun, 06 Nov 1994 08:49:30 GMT
        let seven = Some(Duration::from_secs(7));
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now),
            seven
        );
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:37 1994", now), seven);
        assert_eq!(
            parse_retry_after(
                " Wed, 21 Oct 2015 07:28:00 GMT ",
                UNIX_EPOCH + Duration::from_secs(1_445_412_470)
            ),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn credentials_in_urls_are_masked() {
        assert_eq!(
            redact_url("https://user:s3cret@collector:4318/v1/traces?key=abc&x=1"),
            "https://***@collector:4318/v1/traces?key=***&x=***"
        );
        assert_eq!(
            redact_url("http://h:4318/v1/traces"),
            "http://h:4318/v1/traces"
        );
        let e = parse_endpoint("ftp://user:s3cret@h/?token=t0k")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret") && !e.contains("t0k"), "{e}");
    }

    #[test]
    fn endpoints_checked() {
        assert!(parse_endpoint("http://127.0.0.1:4318/v1/traces").is_ok());
        // An empty host is an error, not a host named after the path.
        for url in [
            "http://",
            "http:///v1/traces",
            "http:/v1/traces",
            "https:///",
        ] {
            let e = parse_endpoint(url).unwrap_err().to_string();
            assert!(e.contains("no host"), "{url}: {e}");
        }
        // `localhost:4318` would parse as scheme `localhost`.
        let e = parse_endpoint("localhost:4318").unwrap_err().to_string();
        assert!(e.contains("no scheme"), "{e}");
        assert!(matches!(
            parse_endpoint("ftp://x/"),
            Err(HttpSetupError::InvalidEndpoint { .. })
        ));
        assert!(matches!(
            parse_endpoint("not a url"),
            Err(HttpSetupError::InvalidEndpoint { .. })
        ));
        let https = parse_endpoint("https://api.openai.com/v1/traces/ingest");
        if cfg!(feature = "tls") {
            assert!(https.is_ok(), "{https:?}");
        } else {
            assert!(matches!(https, Err(HttpSetupError::TlsRequired { .. })));
        }
    }

    #[test]
    fn gzip_round_trip() {
        use std::io::Read;
        let body = b"hello hello hello".repeat(100);
        let packed = gzip(&body).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}

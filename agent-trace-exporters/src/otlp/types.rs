//! The body encoding and the build error of the OTLP exporter.

use std::str::FromStr;

use crate::HttpSetupError;

/// How the request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// `http/protobuf`: binary protobuf, `Content-Type: application/x-protobuf`.
    #[default]
    HttpProtobuf,
    /// `http/json`: the OTLP JSON mapping (hex ids, integer enums),
    /// `Content-Type: application/json`.
    HttpJson,
}

impl FromStr for Protocol {
    type Err = OtlpError;

    /// Parses the `OTEL_EXPORTER_OTLP_PROTOCOL` values.
    ///
    /// ```
    /// use agent_trace_exporters::otlp::Protocol;
    /// assert_eq!("http/json".parse::<Protocol>().unwrap(), Protocol::HttpJson);
    /// assert!("grpc".parse::<Protocol>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, OtlpError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            _ => Err(OtlpError::UnsupportedProtocol {
                value: s.trim().to_owned(),
                var: None,
            }),
        }
    }
}

/// Why an [`OtlpExporter`](super::OtlpExporter) could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// An environment variable has a value the exporter cannot use.
    #[error("{var}={value:?} is invalid: {reason}; fix or unset it")]
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A protocol other than `http/protobuf` or `http/json` (such as `grpc`).
    #[error("OTLP protocol {value:?}{} is not supported: this exporter speaks OTLP/HTTP; use `http/protobuf` (default) or `http/json`, and point the endpoint at the collector's HTTP port (usually 4318)", var.map(|v| format!(" (from {v})")).unwrap_or_default())]
    UnsupportedProtocol {
        /// The value given.
        value: String,
        /// The environment variable it came from, if any.
        var: Option<&'static str>,
    },
    /// The endpoint or a header cannot be used for the HTTP request (an invalid URL, https
    /// without the `tls` feature, a header HTTP does not allow…); see [`HttpSetupError`].
    #[error(transparent)]
    Http(#[from] HttpSetupError),
}

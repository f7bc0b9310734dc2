//! Reading the standard `OTEL_*` environment variables, through a lookup function so that the
//! parsing is a pure function (tests pass a map; the exporter passes `std::env::var`).

use std::time::Duration;

use super::{OtlpError, Protocol};

/// What the environment says; `None` where a variable is unset.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct EnvConfig {
    /// The full traces URL (`…_TRACES_ENDPOINT` as is, or `…_ENDPOINT` + `/v1/traces`).
    pub(crate) traces_endpoint: Option<String>,
    /// The variable the endpoint came from, and its value as written.
    pub(crate) endpoint_source: Option<(&'static str, String)>,
    /// Headers with the variable each came from, generic ones first, traces-specific ones
    /// after (later wins).
    pub(crate) headers: Vec<(&'static str, String, String)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) gzip: Option<bool>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) service_name: Option<String>,
    pub(crate) resource_attributes: Vec<(String, String)>,
}

/// Appends `/v1/traces` to a base endpoint, with exactly one slash between.
pub(crate) fn append_traces_path(base: &str) -> String {
    format!("{}/v1/traces", base.trim().trim_end_matches('/'))
}

fn non_empty(lookup: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    lookup(var)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The traces-specific variable if set, else the generic one; with the name it came from.
fn signal_var(
    lookup: &dyn Fn(&str) -> Option<String>,
    suffix: &str,
) -> Option<(&'static str, String)> {
    let (traces, generic): (&'static str, &'static str) = match suffix {
        "TIMEOUT" => (
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ),
        "COMPRESSION" => (
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ),
        _ => (
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
    };
    non_empty(lookup, traces)
        .map(|v| (traces, v))
        .or_else(|| non_empty(lookup, generic).map(|v| (generic, v)))
}

/// Parses every `OTEL_*` variable the OTLP exporter honours.
pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<EnvConfig, OtlpError> {
    let endpoint_source = non_empty(lookup, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .map(|v| ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", v))
        .or_else(|| {
            non_empty(lookup, "OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|v| ("OTEL_EXPORTER_OTLP_ENDPOINT", v))
        });
    let mut config = EnvConfig {
        traces_endpoint: endpoint_source.as_ref().map(|(var, v)| {
            if *var == "OTEL_EXPORTER_OTLP_ENDPOINT" {
                append_traces_path(v)
            } else {
                v.clone()
            }
        }),
        endpoint_source,
        service_name: non_empty(lookup, "OTEL_SERVICE_NAME"),
        ..EnvConfig::default()
    };
    for var in [
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    ] {
        if let Some(v) = non_empty(lookup, var) {
            config.headers.extend(
                parse_key_values(var, &v)?
                    .into_iter()
                    .map(|(k, v)| (var, k, v)),
            );
        }
    }
    if let Some(v) = non_empty(lookup, "OTEL_RESOURCE_ATTRIBUTES") {
        config.resource_attributes = parse_key_values("OTEL_RESOURCE_ATTRIBUTES", &v)?;
    }
    if let Some((var, v)) = signal_var(lookup, "TIMEOUT") {
        let ms: u64 = v.parse().map_err(|_| OtlpError::InvalidEnv {
            var,
            value: v.clone(),
            reason: "expected a whole number of milliseconds, e.g. 10000".to_owned(),
        })?;
        config.timeout = Some(crate::http::checked_timeout(
            var,
            &v,
            Duration::from_millis(ms),
        ));
    }
    if let Some((var, v)) = signal_var(lookup, "COMPRESSION") {
        config.gzip = Some(match v.to_ascii_lowercase().as_str() {
            "gzip" => true,
            "none" => false,
            _ => {
                return Err(OtlpError::InvalidEnv {
                    var,
                    value: v,
                    reason: "expected `gzip` or `none`".to_owned(),
                })
            }
        });
    }
    if let Some((var, v)) = signal_var(lookup, "PROTOCOL") {
        config.protocol = Some(v.parse().map_err(|e| match e {
            OtlpError::UnsupportedProtocol { value, .. } => OtlpError::UnsupportedProtocol {
                value,
                var: Some(var),
            },
            other => other,
        })?);
    }
    Ok(config)
}

/// `k=v,k2=v2` with every value (and any entry without `=`) replaced by `***`.
pub(crate) fn mask_values(text: &str) -> String {
    text.split(',')
        .map(|entry| match entry.split_once('=') {
            Some((k, _)) => format!("{}=***", k.trim()),
            None if entry.trim().is_empty() => String::new(),
            None => "***".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `k=v,k2=v2` (W3C Baggage-like, as the OTel spec defines for headers and resource
/// attributes): keys and values trimmed, values percent-decoded, empty entries skipped.
pub(crate) fn parse_key_values(
    var: &'static str,
    text: &str,
) -> Result<Vec<(String, String)>, OtlpError> {
    let mut out = Vec::new();
    for entry in text.split(',') {
        if entry.trim().is_empty() {
            continue;
        }
        // Header values are credentials (API keys): an error shows their keys only.
        let secret = var.contains("HEADERS");
        let shown = |t: &str| if secret { mask_values(t) } else { t.to_owned() };
        let bad = |reason: &str| OtlpError::InvalidEnv {
            var,
            value: shown(text),
            reason: format!("entry `{}` {reason}", shown(entry.trim())),
        };
        let (key, value) = entry.split_once('=').ok_or_else(|| bad("has no `=`"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("has an empty key"));
        }
        let value = percent_decode(value.trim())
            .ok_or_else(|| bad("has a bad percent-escape or is not UTF-8 once decoded"))?;
        out.push((percent_decode(key).unwrap_or_else(|| key.to_owned()), value));
    }
    Ok(out)
}

/// Decodes `%XX` escapes; `None` for a malformed escape or non-UTF-8 result.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn empty_env_is_all_unset() {
        assert_eq!(from_lookup(&env(&[])).unwrap(), EnvConfig::default());
    }

    #[test]
    fn endpoint_rules() {
        let c = from_lookup(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318/")])).unwrap();
        assert_eq!(
            c.traces_endpoint.as_deref(),
            Some("http://h:4318/v1/traces")
        );
        let c = from_lookup(&env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/custom"),
        ]))
        .unwrap();
        assert_eq!(c.traces_endpoint.as_deref(), Some("http://t:1/custom"));
    }

    #[test]
    fn malformed_headers_never_show_their_values() {
        let e = parse_key_values("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret,Bearer t0ken")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret") && !e.contains("t0ken"), "{e}");
        assert!(e.contains("api-key=***"), "{e}");
        // Resource attributes are not secret: the error shows them as written.
        let e = parse_key_values("OTEL_RESOURCE_ATTRIBUTES", "team")
            .unwrap_err()
            .to_string();
        assert!(e.contains("team"), "{e}");
    }

    #[test]
    fn headers_decoded_and_merged() {
        let c = from_lookup(&env(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b%3Dc, x=1,,"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x=2"),
        ]))
        .unwrap();
        assert_eq!(
            c.headers,
            vec![
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "api-key".to_owned(),
                    "a b=c".to_owned()
                ),
                ("OTEL_EXPORTER_OTLP_HEADERS", "x".to_owned(), "1".to_owned()),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                    "x".to_owned(),
                    "2".to_owned()
                ),
            ]
        );
        let e = from_lookup(&env(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")])).unwrap_err();
        assert!(e.to_string().contains("OTEL_EXPORTER_OTLP_HEADERS"), "{e}");
        assert!(from_lookup(&env(&[("OTEL_EXPORTER_OTLP_HEADERS", "k=%zz")])).is_err());
    }

    #[test]
    fn timeout_compression_protocol() {
        let c = from_lookup(&env(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ]))
        .unwrap();
        assert_eq!(c.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(c.gzip, Some(false));
        assert_eq!(c.protocol, Some(Protocol::HttpJson));
        for (var, value) in [
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"),
        ] {
            let e = from_lookup(&env(&[(var, value)])).unwrap_err();
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    #[test]
    fn timeouts_out_of_range_are_clamped() {
        for (value, ms) in [("0", 3_600_000), ("99999999999999", 3_600_000), ("1", 1)] {
            let c = from_lookup(&env(&[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", value)])).unwrap();
            assert_eq!(c.timeout, Some(Duration::from_millis(ms)), "{value}");
        }
        let e = from_lookup(&env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "-5")])).unwrap_err();
        assert!(e.to_string().contains("OTEL_EXPORTER_OTLP_TIMEOUT"), "{e}");
    }

    #[test]
    fn upper_case_values_are_accepted() {
        let c = from_lookup(&env(&[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/JSON"),
        ]))
        .unwrap();
        assert_eq!((c.gzip, c.protocol), (Some(true), Some(Protocol::HttpJson)));
    }

    #[test]
    fn grpc_is_a_clear_error() {
        let e = from_lookup(&env(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")])).unwrap_err();
        assert!(matches!(e, OtlpError::UnsupportedProtocol { .. }));
        let text = e.to_string();
        assert!(
            text.contains("http/protobuf") && text.contains("grpc"),
            "{text}"
        );
    }

    #[test]
    fn service_and_resource() {
        let c = from_lookup(&env(&[
            ("OTEL_SERVICE_NAME", "svc"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,team=a%2Cb",
            ),
        ]))
        .unwrap();
        assert_eq!(c.service_name.as_deref(), Some("svc"));
        assert_eq!(
            c.resource_attributes[1],
            ("team".to_owned(), "a,b".to_owned())
        );
    }
}

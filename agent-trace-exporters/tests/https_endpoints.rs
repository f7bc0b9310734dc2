//! https endpoints work out of the box: TLS is a default feature, so the OpenAI exporter's
//! default endpoint (https) and an https OTLP collector build their client; with default
//! features off, https is refused at build time with an error that says what to enable.
//! No request leaves the machine: the only connection is to a receiver on 127.0.0.1.
#![cfg(any(feature = "openai", feature = "otlp"))]

mod common;

#[cfg(feature = "openai")]
mod openai {
    use agent_trace_exporters::openai::{OpenAiError, DEFAULT_ENDPOINT};
    use agent_trace_exporters::OpenAiExporter;

    fn default_endpoint() -> Result<OpenAiExporter, OpenAiError> {
        OpenAiExporter::builder()
            .api_key("sk-test")
            .from_env_lookup(|_| None)
            .build()
    }

    #[cfg(feature = "tls")]
    #[test]
    fn the_default_https_endpoint_builds_a_client() {
        assert!(DEFAULT_ENDPOINT.starts_with("https://"));
        let exporter = default_endpoint().unwrap();
        assert_eq!(exporter.endpoint(), DEFAULT_ENDPOINT);
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn without_tls_the_default_endpoint_says_to_enable_it() {
        let err = default_endpoint().unwrap_err();
        assert!(
            matches!(
                err,
                OpenAiError::Http(agent_trace_exporters::HttpSetupError::TlsRequired { ref url })
                    if url == DEFAULT_ENDPOINT
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("`tls` feature"), "{err}");
    }
}

#[cfg(feature = "otlp")]
mod otlp {
    use agent_trace_exporters::OtlpExporter;

    const COLLECTOR: &str = "https://collector.example:4318";

    #[cfg(feature = "tls")]
    #[test]
    fn an_https_collector_builds_a_client() {
        let exporter = OtlpExporter::builder().endpoint(COLLECTOR).build().unwrap();
        assert_eq!(exporter.traces_url(), format!("{COLLECTOR}/v1/traces"));
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn without_tls_an_https_collector_is_refused() {
        let err = OtlpExporter::builder()
            .endpoint(COLLECTOR)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                agent_trace_exporters::otlp::OtlpError::Http(
                    agent_trace_exporters::HttpSetupError::TlsRequired { .. }
                )
            ),
            "{err:?}"
        );
    }
}

/// The client really speaks TLS to an https URL: against a plain-HTTP receiver the handshake
/// fails, the export fails as transient (retried, spooled), and no request reaches the
/// receiver's handler — nothing falls back to plain HTTP.
#[cfg(all(feature = "tls", feature = "openai"))]
#[tokio::test]
async fn https_to_a_plain_http_receiver_fails_the_handshake_transiently() {
    use agent_trace::{ExportError, ExportItem, SpanData, SpanRecord, TraceId, TracingExporter};
    use agent_trace_exporters::OpenAiExporter;

    let (receiver, url) = common::loopback::openai_receiver().await;
    let https = url.replacen("http://", "https://", 1);
    let exporter = OpenAiExporter::builder()
        .api_key("sk-test")
        .endpoint(&https)
        .from_env_lookup(|_| None)
        .build()
        .unwrap();
    let span = SpanRecord::new(TraceId::random(), None, SpanData::custom("s"));
    let err = exporter
        .export(&[ExportItem::Span(span)])
        .await
        .unwrap_err();
    assert!(matches!(err, ExportError::Transient { .. }), "{err:?}");
    assert!(err.to_string().contains(&https), "{err}");
    assert!(receiver.seen.lock().unwrap().is_empty());
}

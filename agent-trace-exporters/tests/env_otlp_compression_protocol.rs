//! `OTEL_EXPORTER_OTLP[_TRACES]_COMPRESSION` and `…_PROTOCOL`: the allowed values in any case,
//! a typed error naming the variable for others. Alone in its binary: it sets the process
//! environment.

use agent_trace_exporters::otlp::{OtlpError, Protocol};
use agent_trace_exporters::OtlpExporter;

#[test]
fn compression_and_protocol_from_the_environment_are_checked() {
    std::env::set_var("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP");
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", " HTTP/JSON ");
    let e = OtlpExporter::builder().from_env().build().unwrap();
    assert!(e.gzip());
    assert_eq!(e.protocol(), Protocol::HttpJson);

    std::env::set_var("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd");
    let err = OtlpExporter::builder().from_env().build().unwrap_err();
    assert!(
        matches!(&err, OtlpError::InvalidEnv { var: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", value, .. } if value == "zstd"),
        "{err:?}"
    );
    std::env::remove_var("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION");

    std::env::set_var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc");
    let err = OtlpExporter::builder().from_env().build().unwrap_err();
    assert!(
        matches!(
            err,
            OtlpError::UnsupportedProtocol {
                var: Some("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
                ..
            }
        ),
        "{err:?}"
    );
}

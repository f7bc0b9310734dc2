//! `OTEL_EXPORTER_OTLP[_TRACES]_HEADERS` that HTTP cannot carry: a typed error naming the
//! variable and the header, never its value. Alone in its binary: it sets the process
//! environment.

use agent_trace_exporters::otlp::OtlpError;
use agent_trace_exporters::OtlpExporter;

#[test]
fn headers_from_the_environment_are_checked() {
    // A control character (decoded from %0A) cannot go into an HTTP header.
    std::env::set_var("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=s3cret%0Aevil");
    let err = OtlpExporter::builder().from_env().build().unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            OtlpError::InvalidEnv {
                var: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(text.contains("api-key"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    // A header name with a space.
    std::env::set_var("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api key=v");
    let err = OtlpExporter::builder().from_env().build().unwrap_err();
    assert!(
        matches!(
            err,
            OtlpError::InvalidEnv {
                var: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                ..
            }
        ),
        "{err:?}"
    );

    // No `=`: the parse error names the variable, and shows keys only.
    std::env::set_var("OTEL_EXPORTER_OTLP_HEADERS", "Bearer t0ken");
    std::env::remove_var("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
    let text = OtlpExporter::builder()
        .from_env()
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_HEADERS") && !text.contains("t0ken"),
        "{text}"
    );

    std::env::set_var("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b, x-team=blue");
    assert!(OtlpExporter::builder().from_env().build().is_ok());
}

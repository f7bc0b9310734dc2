//! `OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT` that cannot be used: a typed error naming the
//! variable, credentials masked. Alone in its binary: it sets the process environment.

use agent_trace_exporters::otlp::OtlpError;
use agent_trace_exporters::OtlpExporter;

fn error_for(var: &str, value: &str) -> OtlpError {
    std::env::set_var(var, value);
    let err = OtlpExporter::builder().from_env().build().unwrap_err();
    std::env::remove_var(var);
    err
}

#[test]
fn endpoints_from_the_environment_are_checked() {
    for (var, value, says) in [
        // Would be scheme `localhost`.
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", "no scheme"),
        // Would be host `v1`.
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://", "no host"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "ftp://h/v1/traces",
            "ftp",
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://u:s3cret@/x",
            "host",
        ),
    ] {
        let err = error_for(var, value);
        let text = err.to_string();
        assert!(
            matches!(&err, OtlpError::InvalidEnv { var: v, .. } if v == &var),
            "{var}={value}: {err:?}"
        );
        assert!(text.contains(says), "{var}={value}: {text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/");
    let e = OtlpExporter::builder().from_env().build().unwrap();
    assert_eq!(e.traces_url(), "http://collector:4318/v1/traces");
}

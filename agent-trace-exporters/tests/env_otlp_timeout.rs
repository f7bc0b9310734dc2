//! `OTEL_EXPORTER_OTLP_TIMEOUT` out of range: clamped with a diagnostic naming the variable and
//! the value used, never an abort. Alone in its binary: it sets the process environment.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_trace_exporters::otlp::OtlpError;
use agent_trace_exporters::OtlpExporter;

#[test]
fn timeouts_from_the_environment_are_checked() {
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = said.clone();
    agent_trace::set_diagnostics_hook(move |d| sink.lock().unwrap().push(d.message.clone()));
    let build = || OtlpExporter::builder().from_env().build();

    std::env::set_var("OTEL_EXPORTER_OTLP_TIMEOUT", "2500");
    assert_eq!(build().unwrap().timeout(), Duration::from_millis(2500));
    assert!(said.lock().unwrap().is_empty());

    // Zero: no limit of the exporter's own (the processor's export timeout bounds it).
    std::env::set_var("OTEL_EXPORTER_OTLP_TIMEOUT", "0");
    assert_eq!(build().unwrap().timeout(), Duration::from_secs(3600));
    let last = said.lock().unwrap().pop().expect("a diagnostic");
    assert!(
        last.contains("OTEL_EXPORTER_OTLP_TIMEOUT=0") && last.contains("using 3600000 ms"),
        "{last}"
    );

    // Far too large: would overflow timers; clamped.
    std::env::set_var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "99999999999999999");
    assert_eq!(build().unwrap().timeout(), Duration::from_secs(3600));
    let last = said.lock().unwrap().pop().expect("a diagnostic");
    assert!(
        last.contains("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=99999999999999999"),
        "{last}"
    );

    // Not a number of milliseconds: a typed error naming the variable.
    std::env::set_var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10s");
    let err = build().unwrap_err();
    assert!(
        matches!(
            err,
            OtlpError::InvalidEnv {
                var: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                ..
            }
        ),
        "{err:?}"
    );

    // A builder value wins, and is checked the same way.
    std::env::remove_var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
    let e = OtlpExporter::builder()
        .from_env()
        .timeout(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(e.timeout(), Duration::from_secs(3600));
    let last = said.lock().unwrap().pop().expect("a diagnostic");
    assert!(last.contains("OtlpExporterBuilder::timeout=0ns"), "{last}");
}

//! The OpenAI exporter's variables (`OPENAI_API_KEY`, `OPENAI_TRACES_ENDPOINT`,
//! `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`): a value that cannot be used is a typed error naming
//! the variable (the key's value never shown), never an abort. Alone in its binary: it sets the
//! process environment.

use std::time::Duration;

use agent_trace_exporters::openai::{OpenAiError, OpenAiExporter};

fn build() -> Result<OpenAiExporter, OpenAiError> {
    OpenAiExporter::builder().build()
}

#[test]
fn openai_variables_are_checked() {
    std::env::remove_var("OPENAI_API_KEY");
    assert_eq!(build().unwrap_err(), OpenAiError::MissingApiKey);
    std::env::set_var("OPENAI_API_KEY", "   ");
    assert_eq!(build().unwrap_err(), OpenAiError::MissingApiKey);

    // A key with a line break inside (a pasted file): refused, without showing it.
    std::env::set_var("OPENAI_API_KEY", "sk-s3cret\nsk-other");
    let err = build().unwrap_err();
    assert!(
        matches!(&err, OpenAiError::InvalidEnv { var: "OPENAI_API_KEY", value, .. } if value == "***"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("s3cret"), "{err}");
    std::env::set_var("OPENAI_API_KEY", "sk-test");

    std::env::set_var("OPENAI_TRACES_ENDPOINT", "api.openai.com/v1/traces/ingest");
    let err = build().unwrap_err();
    assert!(
        matches!(
            err,
            OpenAiError::InvalidEnv {
                var: "OPENAI_TRACES_ENDPOINT",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("no scheme"), "{err}");
    std::env::set_var(
        "OPENAI_TRACES_ENDPOINT",
        "http://127.0.0.1:9/v1/traces/ingest",
    );

    for var in ["OPENAI_ORG_ID", "OPENAI_PROJECT_ID"] {
        std::env::set_var(var, "org\u{7f}x");
        let err = build().unwrap_err();
        assert!(
            matches!(&err, OpenAiError::InvalidEnv { var: v, .. } if v == &var),
            "{var}: {err:?}"
        );
        std::env::set_var(var, "ok-id");
    }

    let e = build().unwrap();
    assert_eq!(e.endpoint(), "http://127.0.0.1:9/v1/traces/ingest");
    assert_eq!(e.timeout(), Duration::from_secs(30));
    let e = OpenAiExporter::builder()
        .timeout(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(e.timeout(), Duration::from_secs(3600));
}

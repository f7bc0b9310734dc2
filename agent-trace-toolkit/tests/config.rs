//! The configuration: file, environment overrides, errors naming key/value/allowed, the
//! generator's round trip, and init_from_config building a working pipeline.

use std::collections::HashMap;
use std::time::Duration;

use agent_trace_toolkit::config::{env_var, generate, Config, ConfigError, GenerateOptions, KEYS};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

#[test]
fn unknown_keys_are_errors_naming_the_key_and_the_allowed_ones() {
    let e = Config::from_toml_str("[logging]\nlevle = \"debug\"\n").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("levle"), "{msg}");
    assert!(msg.contains("level"), "lists what is allowed: {msg}");
    let e = Config::from_toml_str("[exporter.otlp]\nendpoint = \"x\"\n").unwrap_err();
    assert!(e.to_string().contains("exporter"), "{e}");
}

#[test]
fn bad_values_name_key_value_and_what_is_allowed() {
    let cases = [
        ("[sampling]\nratio = 1.5", "sampling.ratio", "1.5", "0.0"),
        (
            "[logging]\nlevel = \"loud\"",
            "logging.level",
            "loud",
            "debug",
        ),
        (
            "[logging]\nrotation = \"hourly\"",
            "logging.rotation",
            "hourly",
            "daily",
        ),
        (
            "[logging]\ntemplate = \"{when}\"",
            "logging.template",
            "{when}",
            "{time}",
        ),
        (
            "[batch]\nmax_batch_size = 0",
            "batch.max_batch_size",
            "0",
            "1 to 65536",
        ),
        (
            "[exporters.otlp]\nendpoint = \"localhost:4318\"",
            "exporters.otlp.endpoint",
            "localhost:4318",
            "http://",
        ),
        (
            "[metrics]\nlisten = \"nine\"",
            "metrics.listen",
            "nine",
            "127.0.0.1:9464",
        ),
    ];
    for (text, key, value, allowed) in cases {
        match Config::from_toml_str(text) {
            Err(ConfigError::Invalid {
                key: k,
                value: v,
                allowed: a,
                ..
            }) => {
                assert_eq!((k.as_str(), v.as_str()), (key, value));
                assert!(a.contains(allowed), "{key}: {a}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let e = Config::from_toml_str("[batch]\nmax_batch_size = \"big\"").unwrap_err();
    assert!(matches!(e, ConfigError::Parse { .. }));
    assert!(e.to_string().contains("max_batch_size"), "{e}");
}

#[test]
fn environment_overrides_the_file_and_is_checked_too() {
    let text = "[logging]\nenabled = false\nlevel = \"warn\"\n[sampling]\nratio = 0.5\n";
    let c = Config::parse(
        text,
        "test.toml",
        env(&[
            ("AGENT_TRACE_LOGGING_ENABLED", "true"),
            ("AGENT_TRACE_LOGGING_LEVEL", "info,agent.triage=debug"),
            (
                "AGENT_TRACE_EXPORTERS_OTLP_ENDPOINT",
                "http://collector:4318",
            ),
        ]),
    )
    .unwrap();
    assert!(c.logging.enabled);
    assert_eq!(c.logging.level, "info,agent.triage=debug");
    assert_eq!(
        c.sampling.ratio, 0.5,
        "the file's value stays where no variable is set"
    );
    assert_eq!(c.exporters.otlp.endpoint, "http://collector:4318");

    let e = Config::parse("", "f", env(&[("AGENT_TRACE_SAMPLING_RATIO", "2")])).unwrap_err();
    match e {
        ConfigError::Invalid {
            key,
            source_name,
            value,
            ..
        } => {
            assert_eq!(key, "sampling.ratio");
            assert_eq!(source_name, "AGENT_TRACE_SAMPLING_RATIO");
            assert_eq!(value, "2");
        }
        other => panic!("{other:?}"),
    }
    let e = Config::parse("", "f", env(&[("AGENT_TRACE_METRICS_ENABLED", "maybe")])).unwrap_err();
    assert!(e.to_string().contains("AGENT_TRACE_METRICS_ENABLED"), "{e}");
    assert!(e.to_string().contains("maybe"), "{e}");
}

#[test]
fn the_generated_file_documents_every_key_and_loads_back() {
    let opts = {
        let mut o = GenerateOptions::default();
        o.log_level = Some("debug".into());
        o.log_file = Some("logs/agent.log".into());
        o.log_format = Some("%(asctime)s {time} - {target} - {level} - {message}".into());
        o.otlp_endpoint = Some("http://localhost:4318".into());
        o.metrics_listen = Some("127.0.0.1:9464".into());
        o.sampling_ratio = Some(0.25);
        o
    };
    let text = generate(&opts);
    for key in KEYS {
        assert!(text.contains(&env_var(key)), "{key} is documented");
    }
    let c = Config::from_toml_str(&text).unwrap();
    assert!(c.logging.enabled);
    assert_eq!(c.logging.level, "debug");
    assert_eq!(c.logging.output, "file");
    assert_eq!(c.logging.file, "logs/agent.log");
    assert_eq!(c.logging.template, opts.log_format.clone().unwrap());
    assert_eq!(c.exporters.otlp.endpoint, "http://localhost:4318");
    assert!(c.metrics.enabled);
    assert_eq!(c.metrics.listen, "127.0.0.1:9464");
    assert_eq!(c.sampling.ratio, 0.25);
    // Defaults generate a file that loads to the defaults.
    assert_eq!(
        Config::from_toml_str(&generate(&GenerateOptions::default())).unwrap(),
        Config::default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_from_config_builds_exporters_metrics_and_privacy() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("traces.jsonl");
    let text = format!(
        "[exporters.jsonl]\npath = {:?}\n[metrics]\nenabled = true\nlisten = \"127.0.0.1:0\"\n[batch]\nschedule_delay_ms = 10\n",
        jsonl.display().to_string()
    );
    let config = Config::from_toml_str(&text).unwrap();
    let toolkit = agent_trace_toolkit::init_from_config(&config).unwrap();
    assert!(toolkit.metrics_server.is_some());
    agent_trace::trace("wf")
        .run(async {
            let mut f = agent_trace::function_span("lookup");
            agent_trace::Record::set_input(&mut f, "secret-canary");
            agent_trace::Record::set_output(&mut f, "result-canary");
        })
        .await;
    toolkit.provider.force_flush().await.unwrap();
    let written = std::fs::read_to_string(&jsonl).unwrap();
    assert!(written.contains("\"lookup\""), "{written}");
    assert!(
        !written.contains("canary"),
        "privacy off by default strips content: {written}"
    );
    let snap = toolkit.metrics.as_ref().unwrap().snapshot();
    assert_eq!(
        snap.get(agent_trace::SpanKind::Function, "lookup")
            .unwrap()
            .count,
        1
    );
    toolkit.shutdown(Duration::from_secs(5)).await.unwrap();
}

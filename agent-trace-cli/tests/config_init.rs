//! `agent-trace config init`: the generated file loads back to what the flags asked for, an
//! existing file is kept unless `--force`, and a value a key does not allow is an error naming
//! the key.

use std::process::Command;

use agent_trace_toolkit::config::Config;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agent-trace"))
}

#[test]
fn the_generated_file_loads_with_the_values_given_by_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent-trace.toml");
    let out = cli()
        .args([
            "config",
            "init",
            "--log-level",
            "warn,agent=debug",
            "--log-file",
            "agent.log",
        ])
        .args([
            "--otlp-endpoint",
            "http://localhost:4318",
            "--sampling-ratio",
            "0.25",
        ])
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("AGENT_TRACE_SAMPLING_RATIO"),
        "keys come with their variable"
    );
    let config = Config::from_toml_str(&text).unwrap();
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["sampling"]["ratio"], 0.25);
    assert_eq!(json["logging"]["level"], "warn,agent=debug");
    assert_eq!(json["logging"]["file"], "agent.log");
    assert_eq!(
        json["exporters"]["otlp"]["endpoint"],
        "http://localhost:4318"
    );

    // Stdout gives the same file.
    let out = cli()
        .args([
            "config",
            "init",
            "--log-level",
            "warn,agent=debug",
            "--log-file",
            "agent.log",
        ])
        .args([
            "--otlp-endpoint",
            "http://localhost:4318",
            "--sampling-ratio",
            "0.25",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}

#[test]
fn an_existing_file_is_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent-trace.toml");
    std::fs::write(&path, "mine").unwrap();
    let out = cli()
        .args(["config", "init", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");

    let out = cli()
        .args(["config", "init", "--force", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(Config::from_toml_str(&std::fs::read_to_string(&path).unwrap()).is_ok());
}

#[test]
fn a_value_the_key_does_not_allow_names_the_key() {
    let out = cli()
        .args(["config", "init", "--sampling-ratio", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sampling.ratio") && err.contains("0.0"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

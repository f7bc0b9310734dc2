//! The config generator: writes a commented `agent-trace.toml` from flags, like the seed's
//! `generate_config` (and, later, `agent-trace config init`).
//!
//! ```text
//! cargo run -p agent-trace-toolkit --example config_init -- \
//!     --log-level debug --log-file agent.log --otlp-endpoint http://localhost:4318 > agent-trace.toml
//! ```
//!
//! Flags: `--log-level L`, `--log-file F`, `--log-format T`, `--log-json`, `--log-rotation R`,
//! `--otlp-endpoint URL`, `--jsonl PATH`, `--console`, `--metrics-listen ADDR`,
//! `--sampling-ratio X`, `--include-sensitive-data`. The file is checked by loading it back.

use agent_trace_toolkit::config::{generate, Config, GenerateOptions};

fn main() {
    let mut o = GenerateOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| {
            args.next().unwrap_or_else(|| {
                eprintln!("{name} needs a value");
                std::process::exit(2)
            })
        };
        match flag.as_str() {
            "--log-level" => o.log_level = Some(value(&flag)),
            "--log-file" => o.log_file = Some(value(&flag)),
            "--log-format" => o.log_format = Some(value(&flag)),
            "--log-json" => o.log_json = true,
            "--log-rotation" => o.log_rotation = Some(value(&flag)),
            "--otlp-endpoint" => o.otlp_endpoint = Some(value(&flag)),
            "--jsonl" => o.jsonl_path = Some(value(&flag)),
            "--console" => o.console = true,
            "--metrics-listen" => o.metrics_listen = Some(value(&flag)),
            "--sampling-ratio" => match value(&flag).parse() {
                Ok(r) => o.sampling_ratio = Some(r),
                Err(_) => {
                    eprintln!("--sampling-ratio takes a number from 0.0 to 1.0");
                    std::process::exit(2)
                }
            },
            "--include-sensitive-data" => o.include_sensitive_data = true,
            other => {
                eprintln!("unknown flag {other}; see the example's doc comment for the flags");
                std::process::exit(2)
            }
        }
    }
    let text = generate(&o);
    if let Err(e) = Config::from_toml_str(&text) {
        eprintln!("{e}");
        std::process::exit(1)
    }
    print!("{text}");
}

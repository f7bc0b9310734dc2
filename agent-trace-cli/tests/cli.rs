//! The commands through the binary, on the fixtures (the OpenAI Agents SDK's sample and files
//! our JsonlExporter wrote). Expected values are computed here from the raw JSON lines.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::Stdio;

use common::*;
use serde_json::Value;

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn spans(path: &str) -> Vec<Value> {
    lines(path)
        .into_iter()
        .filter(|v| v["object"] == "trace.span")
        .collect()
}

fn tokens(span: &Value) -> u64 {
    let u = &span["span_data"]["usage"];
    u["input_tokens"].as_u64().unwrap_or(0) + u["output_tokens"].as_u64().unwrap_or(0)
}

fn json(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap()
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["list", "--help"],
        vec!["view", "--help"],
        vec!["stats", "--help"],
        vec!["report", "--help"],
        vec!["diff", "--help"],
    ] {
        let o = run(&cmd);
        assert!(o.status.success(), "{cmd:?}");
        assert!(stdout(&o).contains("Usage:"), "{cmd:?}");
    }
    let diff = stdout(&run(&["diff", "--help"]));
    for flag in [
        "--max-p95-increase",
        "--max-error-rate-increase",
        "--max-tokens-increase",
        "--max-cost-increase",
        "--prices",
    ] {
        assert!(diff.contains(flag), "{flag}");
    }
    assert!(stdout(&run(&["view", "--help"])).contains("--follow"));
    assert!(!run(&["frobnicate"]).status.success());
}

#[test]
fn list_shows_the_sdk_sample() {
    let o = run(&["list", &sdk()]);
    assert!(o.status.success());
    let out = stdout(&o);
    let row = out.lines().nth(1).unwrap();
    let expected_tokens: u64 = spans(&sdk()).iter().map(tokens).sum();
    for cell in [
        "trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff",
        "peers_check_workflow",
        "thread_123",
        "2026-11-25 11:44:14.259",
        "374.8ms",
        " 12 ",
        &format!(" {expected_tokens}"),
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(out.ends_with("1 trace(s)\n"));
    assert!(
        !out.contains('\x1b'),
        "no colours when stdout is not a terminal"
    );
}

#[test]
fn list_json_of_our_files_counts_spans_errors_and_tokens_per_trace() {
    let rows = json(&run(&["list", "--json", &ours()]));
    let rows = rows.as_array().unwrap();
    let mut want: HashMap<String, (u64, u64, u64)> = HashMap::new();
    for s in spans(&ours()) {
        let e = want
            .entry(s["trace_id"].as_str().unwrap().into())
            .or_default();
        e.0 += 1;
        e.1 += u64::from(!s["error"].is_null());
        e.2 += tokens(&s);
    }
    assert_eq!(rows.len(), want.len());
    for r in rows {
        let w = want[r["id"].as_str().unwrap()];
        assert_eq!(
            (r["spans"].as_u64().unwrap(), r["errors"].as_u64().unwrap()),
            (w.0, w.1)
        );
        let t = &r["tokens"];
        assert_eq!(
            t["input"].as_u64().unwrap() + t["output"].as_u64().unwrap(),
            w.2
        );
        assert_eq!(r["workflow_name"], "customer-support");
    }
    // Sorted by start.
    let starts: Vec<&str> = rows.iter().map(|r| r["start"].as_str().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn globs_and_stdin_are_inputs() {
    let glob = format!("{}/tests/fixtures/ours-*.jsonl", env!("CARGO_MANIFEST_DIR"));
    let rows = json(&run(&["list", "--json", &glob]));
    assert_eq!(rows.as_array().unwrap().len(), 6);

    let mut child = bin()
        .args(["list", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(std::fs::read_to_string(sdk()).unwrap().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let rows = json(&o);
    assert_eq!(rows[0]["workflow_name"], "peers_check_workflow");

    let missing = run(&["list", "/nonexistent/traces-*.jsonl"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no file matches"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn view_draws_one_row_per_span_within_the_width() {
    for width in [60usize, 80, 140] {
        let o = run(&["view", "--width", &width.to_string(), &sdk()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let rows: Vec<&str> = out.lines().collect();
        // Header, axis, 12 spans, 1 error listed.
        assert_eq!(rows.len(), 2 + spans(&sdk()).len() + 1, "{out}");
        for r in &rows[1..14] {
            assert!(r.chars().count() <= width, "{width}: {r:?}");
        }
    }
    let out = stdout(&run(&["view", "--width", "100", &sdk()]));
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows[0].contains("peers_check_workflow") && rows[0].contains("1 error"));
    // Depth-first, indented by depth: task > turn > Triage > its children.
    assert!(rows[2].starts_with("custom       task "));
    assert!(rows[3].starts_with("custom         turn "));
    assert!(rows[4].starts_with("agent            Triage "));
    let refund = rows.iter().find(|r| r.contains("refund")).unwrap();
    assert!(refund.contains("refund ✗"), "error marker: {refund}");
    assert!(rows.last().unwrap().contains("Error running tool"));
    // The root spans the whole axis.
    let bar = rows[2].split("374.8ms").nth(1).unwrap().trim();
    assert!(
        bar.chars().all(|c| c == '█') && bar.chars().count() > 30,
        "{bar}"
    );
}

#[test]
fn view_trace_picks_one_trace_by_id_prefix() {
    let rows = json(&run(&["list", "--json", &ours()]));
    let id = rows[1]["id"].as_str().unwrap();
    let short = &id["trace_".len().."trace_".len() + 8];
    let out = stdout(&run(&["view", "--trace", short, &ours()]));
    assert_eq!(out.matches("trace_").count(), 1);
    assert!(out.starts_with(id));
    let none = run(&["view", "--trace", "ffffffffffff", &ours()]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("no trace matches"));
}

#[test]
fn stats_json_has_paths_percentiles_errors_and_usage() {
    let s = json(&run(&["stats", "--json", "--paths", "1", &ours()]));
    let raw = spans(&ours());
    assert_eq!(s["spans"].as_u64().unwrap() as usize, raw.len());
    assert_eq!(s["traces"], 3);
    // Error rate and messages of the refund tool.
    let refunds: Vec<&Value> = raw
        .iter()
        .filter(|v| v["span_data"]["name"] == "refund")
        .collect();
    let failed = refunds.iter().filter(|v| !v["error"].is_null()).count();
    let row = s["by_span"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "refund")
        .unwrap();
    assert_eq!(row["count"].as_u64().unwrap() as usize, refunds.len());
    assert_eq!(row["errors"].as_u64().unwrap() as usize, failed);
    assert_eq!(row["top_errors"][0][0], "refund service timed out");
    let rate = row["error_rate"].as_f64().unwrap();
    assert!((rate - failed as f64 / refunds.len() as f64).abs() < 1e-9);
    let lat = &row["latency"];
    assert!(lat["p50_ms"].as_f64() <= lat["p95_ms"].as_f64());
    assert!(lat["p95_ms"].as_f64() <= lat["p99_ms"].as_f64());
    // Tokens per model, and per agent (the nearest agent above each generation).
    let mut per_model: HashMap<&str, u64> = HashMap::new();
    for v in &raw {
        if let Some(m) = v["span_data"]["model"].as_str() {
            *per_model.entry(m).or_default() += tokens(v);
        }
    }
    for m in s["by_model"].as_array().unwrap() {
        let t = &m["tokens"];
        let total = t["input"].as_u64().unwrap() + t["output"].as_u64().unwrap();
        assert_eq!(total, per_model[m["name"].as_str().unwrap()]);
    }
    let agent = |name: &str| {
        s["by_agent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .map(|a| {
                a["tokens"]["input"].as_u64().unwrap() + a["tokens"]["output"].as_u64().unwrap()
            })
    };
    assert_eq!(agent("Triage"), Some(per_model["gpt-4o-mini"]));
    assert_eq!(agent("Billing"), Some(per_model["gpt-4o"]));
    // The critical path of the slowest trace runs through Billing's refund and accounts for
    // (almost) all of its duration.
    let path = &s["critical_paths"][0];
    let steps = path["steps"].as_array().unwrap();
    let names: Vec<&str> = steps
        .iter()
        .map(|st| st["name"].as_str().unwrap())
        .collect();
    for n in ["Triage", "Billing", "refund", "gpt-4o"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let on_path: f64 = steps
        .iter()
        .map(|st| st["on_path_ms"].as_f64().unwrap())
        .sum();
    let dur = path["duration_ms"].as_f64().unwrap();
    assert!(
        on_path <= dur + 1e-6 && on_path > 0.9 * dur,
        "{on_path} of {dur}"
    );
}

#[test]
fn stats_text_has_every_section() {
    let out = stdout(&run(&["stats", &ours()]));
    for section in [
        "3 traces",
        "trace duration: p50",
        "Critical path of trace_",
        "Spans by self time",
        "Token usage by model",
        "Token usage by agent",
        "refund service timed out",
    ] {
        assert!(out.contains(section), "{section}:\n{out}");
    }
}

#[test]
fn prices_give_costs_and_bad_tables_are_explained() {
    let dir = tempdir();
    let table = at(&dir, "prices.toml");
    std::fs::write(&table, "[models.\"gpt-4o\"]\ninput = 2.5\noutput = 10.0\n").unwrap();
    let s = json(&run(&[
        "stats",
        "--json",
        "--prices",
        table.to_str().unwrap(),
        &ours(),
    ]));
    let mut want = 0.0;
    for v in spans(&ours()) {
        if v["span_data"]["model"] == "gpt-4o" {
            let u = &v["span_data"]["usage"];
            want += (u["input_tokens"].as_f64().unwrap() * 2.5
                + u["output_tokens"].as_f64().unwrap() * 10.0)
                / 1e6;
        }
    }
    assert!((s["cost"].as_f64().unwrap() - want).abs() < 1e-12);
    assert_eq!(s["unpriced_models"], serde_json::json!(["gpt-4o-mini"]));

    std::fs::write(&table, "[models.x]\ninput = \"cheap\"\n").unwrap();
    let o = run(&["stats", "--prices", table.to_str().unwrap(), &ours()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("prices.toml"), "{}", stderr(&o));
}

#[test]
fn diff_gates_on_thresholds() {
    let (a, b) = (ours(), ours_candidate());
    // No thresholds: a report, exit 0.
    let o = run(&["diff", &a, &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("no threshold exceeded"));
    // The candidate's refund is ~5x slower and fails every time; it uses more tokens.
    for (flag, value, what) in [
        ("--max-p95-increase", "50", "span:function refund: p95"),
        ("--max-error-rate-increase", "10", "error rate"),
        ("--max-tokens-increase", "5", "tokens per trace"),
    ] {
        let o = run(&["diff", &a, &b, flag, value]);
        assert_eq!(o.status.code(), Some(1), "{flag}");
        assert!(stdout(&o).contains(what), "{flag}: {}", stdout(&o));
    }
    // The same runs on both sides pass every threshold.
    let o = run(&[
        "diff",
        &a,
        &a,
        "--max-p50-increase",
        "0",
        "--max-p95-increase",
        "0",
        "--max-p99-increase",
        "0",
        "--max-error-rate-increase",
        "0",
        "--max-tokens-increase",
        "0",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    // JSON: the total first, then the violations (the refund), most significant first.
    let d = json(&run(&["diff", "--json", &a, &b]));
    assert_eq!(d["rows"][0]["scope"], "total");
    assert!(d["violations"].as_array().unwrap().is_empty());
    let o = run(&["diff", "--json", &a, &b, "--max-p95-increase", "50"]);
    let d: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = d["rows"].as_array().unwrap();
    let refund = rows.iter().position(|r| r["name"] == "refund").unwrap();
    let lookup = rows
        .iter()
        .position(|r| r["name"] == "lookup_order")
        .unwrap();
    assert!(refund < lookup);
}

#[test]
fn cost_threshold_needs_and_uses_prices() {
    let dir = tempdir();
    let table = at(&dir, "p.toml");
    std::fs::write(&table, "[models.gpt-4o]\ninput = 2.5\noutput = 10.0\n[models.gpt-4o-mini]\ninput = 0.15\noutput = 0.6\n").unwrap();
    let p = table.to_str().unwrap();
    let o = run(&[
        "diff",
        &ours(),
        &ours_candidate(),
        "--prices",
        p,
        "--max-cost-increase",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("cost per trace"), "{}", stdout(&o));
    let o = run(&[
        "diff",
        &ours(),
        &ours_candidate(),
        "--prices",
        p,
        "--max-cost-increase",
        "500",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let none = run(&[
        "diff",
        &ours(),
        &ours_candidate(),
        "--max-cost-increase",
        "5",
    ]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("needs --prices"),
        "{}",
        stderr(&none)
    );
}

/// The page's data, from the JSON in its <script type="application/json">.
fn page_data(html: &str) -> Value {
    let start = html.find(r#"id="report-data">"#).unwrap() + r#"id="report-data">"#.len();
    let len = html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..start + len]).unwrap()
}

#[test]
fn report_is_one_self_contained_file_keeping_the_slowest_traces() {
    let dir = tempdir();
    let out = at(&dir, "r.html");
    let o = run(&["report", &ours(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 traces"));
    let html = std::fs::read_to_string(&out).unwrap();
    // Nothing is fetched: no external script, style, image or font.
    for fetch in ["src=", "href=", "@import", "url(http", "<link", "<img"] {
        assert!(!html.contains(fetch), "{fetch}");
    }
    assert!(html.contains("<style>") && html.contains("<script>"));
    let data = page_data(&html);
    assert_eq!(data["traces"].as_array().unwrap().len(), 3);
    let first = &data["traces"][0];
    assert_eq!(
        first["spans"].as_array().unwrap().len(),
        first["spans"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["raw"]["span_data"]["type"] == s["kind"])
            .count()
    );
    // Every span on a critical path is marked; the refund's error is there.
    assert!(first["spans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["crit"] == true));

    // --max-traces keeps the slowest for the timeline; the statistics still cover all.
    let o = run(&[
        "report",
        &ours(),
        "-o",
        out.to_str().unwrap(),
        "--max-traces",
        "1",
        "-q",
    ]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
    let data = page_data(&std::fs::read_to_string(&out).unwrap());
    let kept = data["traces"].as_array().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(data["total_traces"], 3);
    assert_eq!(data["summary"]["traces"], 3);
    let rows = json(&run(&["list", "--json", &ours()]));
    let slowest = rows
        .as_array()
        .unwrap()
        .iter()
        .max_by(|a, b| {
            a["duration_ms"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["duration_ms"].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(kept[0]["id"], slowest["id"]);

    let unwritable = run(&["report", &ours(), "-o", "/nonexistent-dir/r.html"]);
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(stderr(&unwritable).contains("cannot write `/nonexistent-dir/r.html`"));
}

//! Damaged input: every bad line is reported on stderr with its line number and skipped; the
//! good lines still count; nothing panics.

mod common;

use common::*;

/// The SDK sample with problems mixed in, and the line number of each problem.
fn damaged(dir: &tempfile::TempDir) -> (String, Vec<(usize, &'static str)>) {
    let good: Vec<String> = std::fs::read_to_string(sdk())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let tid = "trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff";
    let span = |id: &str, parent: &str, ty: &str, end: &str| {
        format!(
            r#"{{"object":"trace.span","id":"{id}","trace_id":"{tid}","parent_id":{parent},"started_at":"2026-11-25T11:44:14.300000+00:00","ended_at":{end},"span_data":{{"type":"{ty}","name":"x"}},"error":null}}"#
        )
    };
    let mut out: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let mut bad = |out: &mut Vec<String>, line: String, what: &'static str| {
        out.push(line);
        problems.push((out.len(), what));
    };
    out.push(good[0].clone());
    bad(
        &mut out,
        "this is not json".into(),
        "not a trace or span record",
    );
    out.extend(good[1..5].iter().cloned());
    out.push(String::new()); // blank lines are fine
    bad(
        &mut out,
        span(
            "span_future",
            "null",
            "telepathy",
            r#""2026-11-25T11:44:14.4+00:00""#,
        ),
        "unknown span type `telepathy`",
    );
    bad(
        &mut out,
        span("span_running", "null", "agent", "null"),
        "has no end time",
    );
    bad(
        &mut out,
        span(
            "span_orphan",
            r#""span_gone""#,
            "custom",
            r#""2026-11-25T11:44:14.4+00:00""#,
        ),
        "is not connected to trace",
    );
    out.push(span(
        "span_orphan_child",
        r#""span_orphan""#,
        "custom",
        r#""2026-11-25T11:44:14.35+00:00""#,
    ));
    bad(
        &mut out,
        r#"{"object":"trace.event","id":"x"}"#.into(),
        "unknown record object",
    );
    bad(
        &mut out,
        span(
            "span_back",
            "null",
            "custom",
            r#""2020-01-01T00:00:00+00:00""#,
        ),
        "ends before it starts",
    );
    out.extend(good[5..].iter().cloned());
    // A torn last line, without its newline.
    let torn = good[3][..40].to_owned();
    let mut text = out.join("\n");
    text.push('\n');
    text.push_str(&torn);
    problems.push((out.len() + 1, "not a trace or span record"));
    let path = at(dir, "damaged.jsonl");
    std::fs::write(&path, text).unwrap();
    (path.to_str().unwrap().to_owned(), problems)
}

#[test]
fn every_command_reports_bad_lines_with_numbers_and_keeps_the_good_ones() {
    let dir = tempdir();
    let (path, problems) = damaged(&dir);
    let report = at(&dir, "r.html");
    for args in [
        vec!["list", "--json", &path],
        vec!["view", &path],
        vec!["stats", "--json", &path],
        vec!["report", &path, "-o", report.to_str().unwrap()],
    ] {
        let o = run(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        for (line, what) in &problems {
            let needle = format!("{path}:{line}: ");
            let hit = err
                .lines()
                .find(|l| l.contains(&needle))
                .unwrap_or_else(|| panic!("{args:?}: no report for line {line}:\n{err}"));
            assert!(hit.contains(what) && hit.contains("skipped"), "{hit}");
        }
        assert!(err.contains("with its 1 descendant span(s)"), "{err}");
        assert!(!err.contains("panicked"));
    }
    // The 12 good spans remain.
    let rows =
        serde_json::from_str::<serde_json::Value>(&stdout(&run(&["list", "--json", "-q", &path])))
            .unwrap();
    assert_eq!(rows[0]["spans"], 12);
    let stats =
        serde_json::from_str::<serde_json::Value>(&stdout(&run(&["stats", "--json", "-q", &path])))
            .unwrap();
    // Every line-level problem is counted as skipped (the orphan's are counted too).
    assert_eq!(stats["skipped"].as_u64().unwrap() as usize, problems.len());
}

#[test]
fn quiet_prints_only_a_count_and_many_problems_are_summarised() {
    let dir = tempdir();
    let path = at(&dir, "junk.jsonl");
    let junk: String = (0..100).map(|i| format!("junk {i}\n")).collect();
    std::fs::write(&path, junk).unwrap();
    let p = path.to_str().unwrap();
    let o = run(&["list", p]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert_eq!(
        err.lines().filter(|l| l.contains("junk.jsonl:")).count(),
        20
    );
    assert!(
        err.contains("100 problems in the input (80 not shown)"),
        "{err}"
    );
    assert!(stdout(&o).contains("0 trace(s)"));
    let quiet = run(&["list", "-q", p]);
    assert_eq!(stderr(&quiet), "");
    let view = run(&["view", "-q", p]);
    assert_eq!(view.status.code(), Some(2));
    assert!(stderr(&view).contains("no traces found"));
}

#[test]
fn odd_but_valid_input_is_fine() {
    let dir = tempdir();
    // CRLF line ends, a trace record without spans, spans without a trace record, and a
    // zero-length span.
    let text = concat!(
        r#"{"object":"trace","id":"trace_empty","workflow_name":"nothing","group_id":null,"metadata":null}"#,
        "\r\n",
        r#"{"object":"trace.span","id":"span_a","trace_id":"trace_norecord","parent_id":null,"started_at":"2026-11-25T11:44:14+00:00","ended_at":"2026-11-25T11:44:14+00:00","span_data":{"type":"function","name":"instant"},"error":null}"#,
        "\r\n"
    );
    let path = at(&dir, "odd.jsonl");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    for args in [vec!["list", p], vec!["view", p], vec!["stats", p]] {
        let o = run(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
    let out = stdout(&run(&["view", p]));
    assert!(
        out.contains("(no trace record)") && out.contains("instant"),
        "{out}"
    );
}

/// Many traces stream through `stats` (each trace's spans are dropped once counted); the
/// counts stay exact.
#[test]
fn many_traces_stream_through_stats() {
    let dir = tempdir();
    let path = at(&dir, "many.jsonl");
    let (traces, per) = (2_000u64, 10u64);
    let mut text = String::new();
    for t in 0..traces {
        let tid = format!("trace_{t:032x}");
        for s in 0..per {
            let parent = if s == 0 {
                "null".to_owned()
            } else {
                format!("\"span_{t}_0\"")
            };
            let err = if s == 3 && t % 10 == 0 {
                r#"{"message":"boom","data":null}"#
            } else {
                "null"
            };
            text.push_str(&format!(
                r#"{{"object":"trace.span","id":"span_{t}_{s}","trace_id":"{tid}","parent_id":{parent},"started_at":"2026-11-25T11:44:{:02}.{:06}+00:00","ended_at":"2026-11-25T11:44:{:02}.{:06}+00:00","span_data":{{"type":"function","name":"f{s}"}},"error":{err}}}"#,
                t % 60, s * 10, t % 60, s * 10 + 5 + (t % 7)
            ));
            text.push('\n');
        }
        text.push_str(&format!(
            r#"{{"object":"trace","id":"{tid}","workflow_name":"wf","group_id":null,"metadata":null,"started_at":"2026-11-25T11:44:{:02}+00:00","ended_at":"2026-11-25T11:44:{:02}.001+00:00"}}"#,
            t % 60, t % 60
        ));
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    let o = run(&["stats", "--json", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["traces"], traces);
    assert_eq!(s["spans"], traces * per);
    assert_eq!(s["errors"], traces / 10);
    let f3 = s["by_span"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "f3")
        .unwrap();
    assert_eq!(f3["count"], traces);
    assert!((f3["error_rate"].as_f64().unwrap() - 0.1).abs() < 1e-9);
}

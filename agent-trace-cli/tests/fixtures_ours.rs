//! Our fixtures are what the real `JsonlExporter` writes today: the test writes the same
//! workflow again and compares everything but ids and times. With
//! `AGENT_TRACE_REGENERATE_FIXTURES=1` it rewrites the committed files instead.

mod common;

use common::*;
use serde_json::Value;

/// `list --json` of a file without ids and times.
fn shape(path: &str) -> Vec<Value> {
    let o = run(&["list", "--json", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    rows.into_iter()
        .map(|mut r| {
            let m = r.as_object_mut().unwrap();
            for k in ["id", "start", "duration_ms"] {
                m.remove(k);
            }
            r
        })
        .collect()
}

#[test]
fn committed_fixtures_are_what_the_exporter_writes() {
    let dir = tempdir();
    for (name, variant) in [
        ("ours-baseline.jsonl", BASELINE),
        ("ours-candidate.jsonl", CANDIDATE),
    ] {
        let fresh = at(&dir, name);
        write_runs(&fresh, variant);
        if std::env::var_os("AGENT_TRACE_REGENERATE_FIXTURES").is_some() {
            std::fs::copy(&fresh, fixture(name)).unwrap();
        }
        let fresh_shape = shape(fresh.to_str().unwrap());
        assert_eq!(fresh_shape.len(), variant.runs as usize);
        assert_eq!(
            fresh_shape,
            shape(&fixture(name)),
            "{name}: regenerate with AGENT_TRACE_REGENERATE_FIXTURES=1"
        );
        // Nothing in what the exporter wrote was skipped.
        let o = run(&["stats", "--json", fresh.to_str().unwrap()]);
        assert_eq!(stderr(&o), "");
        let stats: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(stats["skipped"], 0);
    }
}

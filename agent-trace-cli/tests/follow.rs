//! `view --follow`: the tree is redrawn as a running program appends lines, a line being
//! written is not read half, and a rotated file is read from its start.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// Reads the child's stdout on a thread; `wait_for` collects it until a text appears.
struct Watch {
    rx: mpsc::Receiver<String>,
    seen: String,
}

impl Watch {
    fn wait_for(&mut self, text: &str) {
        // A guard against a hang, not a timing assertion.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.seen.contains(text) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                }
                Err(_) => panic!("`{text}` never appeared; output so far:\n{}", self.seen),
            }
        }
    }

    /// Forgets what was seen (to wait for a later redraw).
    fn clear(&mut self) {
        self.seen.clear();
    }
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn follow_redraws_as_lines_arrive_and_survives_rotation() {
    let dir = tempdir();
    let path = at(&dir, "live.jsonl");
    let sample: Vec<String> = std::fs::read_to_string(sdk())
        .unwrap()
        .lines()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, sample[..3].concat()).unwrap();

    let mut child = bin()
        .args(["view", "--follow", "--width", "100", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut watch = Watch {
        rx,
        seen: String::new(),
    };
    // The first spans, shown while their parent has not arrived.
    watch.wait_for("gpt-4o-mini");
    assert!(watch.seen.contains("peers_check_workflow"));

    // More lines, and the first half of one more in the same write.
    let (head, tail) = sample[9].split_at(60);
    append(&path, &format!("{}{head}", sample[3..9].concat()));
    watch.wait_for("cache_lookup");
    append(&path, &format!("{tail}{}", sample[10..].concat()));
    watch.clear();
    watch.wait_for("agent            Billing");
    // Now the tree is whole: the root at depth 0, Triage under the turn.
    watch.wait_for("agent            Triage");

    // Rotation: the file is renamed and a new one started; the follower reads the new one.
    std::fs::rename(&path, at(&dir, "live.1.jsonl")).unwrap();
    std::fs::write(&path, std::fs::read_to_string(ours()).unwrap()).unwrap();
    watch.wait_for("customer-support");

    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("warning"),
        "a half-written line was read: {err}"
    );
}

#[test]
fn follow_needs_exactly_one_file() {
    for args in [
        vec!["view", "--follow"],
        vec!["view", "--follow", "-"],
        vec!["view", "--follow", "a.jsonl", "b.jsonl"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("exactly one file"), "{args:?}");
    }
}

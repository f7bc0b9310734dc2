//! `view --follow FILE`: the latest traces of a file a running program appends to, redrawn as
//! lines arrive. Spans whose parent has not arrived yet (parents end, and are written, after
//! their children) show at the top level until it does. A truncated or rotated file is read
//! again from its start; the traces already seen stay.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::assemble::{build, Orphans};
use crate::commands::Outcome;
use crate::gantt::render;
use crate::input::{parse_one, Diagnostics};
use crate::parse::{Record, SpanLine, TraceLine};
use crate::style::{width, Painter};
use crate::CliError;

const POLL: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Live {
    info: Option<TraceLine>,
    spans: Vec<SpanLine>,
    first: u64,
}

/// Traces seen so far.
#[derive(Default)]
struct Store {
    traces: HashMap<String, Live>,
    seq: u64,
}

impl Store {
    fn add(&mut self, record: Record) {
        self.seq += 1;
        let seq = self.seq;
        let id = match &record {
            Record::Trace(t) => t.id.clone(),
            Record::Span(s) => s.trace_id.clone(),
        };
        let live = self.traces.entry(id).or_insert_with(|| Live {
            first: seq,
            ..Live::default()
        });
        match record {
            Record::Trace(t) => live.info = Some(t),
            Record::Span(s) => live.spans.push(*s),
        }
    }

    fn render(&self, last: usize, width: usize, paint: &Painter) -> String {
        let mut ids: Vec<(&String, &Live)> = self.traces.iter().collect();
        ids.sort_by_key(|(_, l)| l.first);
        let skip = ids.len().saturating_sub(last);
        let mut out = String::new();
        for (id, live) in ids.into_iter().skip(skip) {
            let trace = build(
                live.info.as_ref(),
                id,
                live.spans.clone(),
                0,
                Orphans::Adopt,
                &mut |_, _| {},
            );
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&render(&trace, width, paint));
        }
        out
    }
}

/// Watches one file until interrupted.
pub fn follow(
    files: &[String],
    last: usize,
    width_flag: Option<usize>,
    quiet: bool,
) -> Result<Outcome, CliError> {
    let [file] = files else {
        return Err(CliError::FollowOneFile);
    };
    if file == "-" {
        return Err(CliError::FollowOneFile);
    }
    let path = PathBuf::from(file);
    let name = path.display().to_string();
    let terminal = std::io::stdout().is_terminal();
    let paint = Painter::for_stdout();
    let mut diag = Diagnostics::new(quiet);
    let mut store = Store::default();
    let mut reader: Option<(std::fs::File, u64)> = None; // file and its identity
    let (mut offset, mut line_no, mut pending) = (0u64, 0u64, Vec::<u8>::new());
    let mut said_waiting = false;
    let mut updates = 0u64;
    loop {
        let meta = std::fs::metadata(&path).ok();
        let identity = meta.as_ref().map(file_id);
        let len = meta.as_ref().map_or(0, |m| m.len());
        let reopen = match &reader {
            None => meta.is_some(),
            Some((_, id)) => Some(*id) != identity || len < offset,
        };
        if reopen {
            reader = None;
            (offset, line_no) = (0, 0);
            pending.clear();
            if let Ok(f) = std::fs::File::open(&path) {
                reader = identity.map(|id| (f, id));
            }
        }
        let mut changed = false;
        if let Some((f, _)) = reader.as_mut() {
            let mut chunk = Vec::new();
            f.seek(SeekFrom::Start(offset))?;
            let n = f.read_to_end(&mut chunk)?;
            offset += n as u64;
            pending.extend_from_slice(&chunk);
            // Complete lines only: a line being written stays pending.
            while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=nl).collect();
                line_no += 1;
                if let Some(rec) = parse_one(&line, false, &name, line_no, &mut diag) {
                    store.add(rec);
                    changed = true;
                }
            }
        } else if !said_waiting {
            eprintln!("waiting for {name} to appear…");
            said_waiting = true;
        }
        if changed {
            updates += 1;
            let w = width(width_flag);
            let body = store.render(last, w, &paint);
            let mut stdout = std::io::stdout().lock();
            if terminal {
                // Home and clear, then the latest state.
                write!(stdout, "\x1b[H\x1b[2J{body}")?;
            } else {
                writeln!(stdout, "── update {updates} ──")?;
                write!(stdout, "{body}")?;
            }
            stdout.flush()?;
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.ino() ^ m.dev().rotate_left(32)
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> u64 {
    0
}

//! Reading JSONL trace files back, tolerating damaged lines.

use std::io::{BufRead, BufReader};
use std::path::Path;

use agent_trace::ExportItem;

use super::JsonlError;

/// What [`read_items`] found besides the items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadReport {
    /// Non-blank lines read.
    pub lines: usize,
    /// Lines that were not a valid trace or span (torn, truncated, not JSON, unknown shape);
    /// they are skipped.
    pub bad_lines: usize,
    /// The 1-based line number of the first bad line.
    pub first_bad_line: Option<usize>,
    /// Whether the file's last line had no trailing `\n` (a write was cut short). The line is
    /// still parsed, and counted as bad if it is not valid.
    pub torn_tail: bool,
}

/// Reads every trace and span of a JSONL file (the OpenAI Agents SDK export shape, as
/// [`JsonlExporter`](super::JsonlExporter) writes it), skipping lines that cannot be parsed so
/// that a torn line never makes a file unreadable. Blank lines are ignored.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("t.jsonl");
/// std::fs::write(&path, concat!(
///     r#"{"object": "trace", "id": "trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff", "workflow_name": "wf", "group_id": null, "metadata": null}"#,
///     "\n{\"object\": \"tra",
/// ))?;
/// let (items, report) = agent_trace_exporters::jsonl::read_items(&path)?;
/// assert_eq!(items.len(), 1);
/// assert_eq!((report.bad_lines, report.torn_tail), (1, true));
/// # Ok(()) }
/// ```
pub fn read_items(path: impl AsRef<Path>) -> Result<(Vec<ExportItem>, ReadReport), JsonlError> {
    let path = path.as_ref();
    let read_err = |source| JsonlError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut items = Vec::new();
    let mut report = ReadReport::default();
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(read_err)?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = line.last() == Some(&b'\n');
        if !complete {
            report.torn_tail = true;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        report.lines += 1;
        match serde_json::from_slice::<ExportItem>(&line) {
            Ok(item) => items.push(item),
            Err(_) => {
                report.bad_lines += 1;
                report.first_bad_line.get_or_insert(number);
            }
        }
    }
    Ok((items, report))
}

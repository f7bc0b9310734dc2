//! The on-disk spool: batches an exporter could not deliver, kept in order as JSONL segment
//! files and replayed when the backend is back, also by a later process.
//!
//! Each batch is one segment `seg-<sequence>.jsonl`, written to a temporary file, synced, then
//! renamed, so a crash leaves either the whole segment or none of it. The total size is capped;
//! a batch that would pass the cap is refused (and counted as dropped by the caller).

use std::collections::VecDeque;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::model::ExportItem;

struct Segment {
    seq: u64,
    path: PathBuf,
    items: u64,
    bytes: u64,
}

pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    segments: VecDeque<Segment>,
    bytes: u64,
    next_seq: u64,
}

/// Why a batch could not be spooled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpoolError {
    #[error("the spool at {dir} is full ({bytes} of {max} bytes); raise spool_max_bytes or fix the backend")]
    Full { dir: String, bytes: u64, max: u64 },
    #[error("cannot write the spool at {dir}: {source}; check the directory's permissions and free space")]
    Io { dir: String, source: io::Error },
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, picking up segments left by an earlier process.
    pub(crate) fn open(dir: &Path, max_bytes: u64) -> io::Result<Spool> {
        create_private_dir(dir)?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".tmp") {
                // A segment whose write did not finish: it was never acknowledged as spooled.
                let _ = fs::remove_file(entry.path());
                continue;
            }
            let Some(seq) = name
                .strip_prefix("seg-")
                .and_then(|s| s.strip_suffix(".jsonl"))
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            let text = fs::read_to_string(entry.path())?;
            segments.push(Segment {
                seq,
                path: entry.path(),
                items: text.lines().filter(|l| !l.trim().is_empty()).count() as u64,
                bytes: text.len() as u64,
            });
        }
        segments.sort_by_key(|s| s.seq);
        let next_seq = segments.last().map_or(0, |s| s.seq + 1);
        let bytes = segments.iter().map(|s| s.bytes).sum();
        Ok(Spool {
            dir: dir.to_owned(),
            max_bytes,
            segments: segments.into(),
            bytes,
            next_seq,
        })
    }

    pub(crate) fn items(&self) -> u64 {
        self.segments.iter().map(|s| s.items).sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Appends a batch as one segment.
    pub(crate) fn push(&mut self, batch: &[ExportItem]) -> Result<(), SpoolError> {
        let mut text = String::new();
        for item in batch {
            // Records hold only strings, numbers and JSON values: serialization cannot fail.
            if let Ok(line) = serde_json::to_string(item) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        let len = text.len() as u64;
        if self.bytes + len > self.max_bytes {
            return Err(SpoolError::Full {
                dir: self.dir.display().to_string(),
                bytes: self.bytes,
                max: self.max_bytes,
            });
        }
        let seq = self.next_seq;
        let path = self.dir.join(format!("seg-{seq:020}.jsonl"));
        let tmp = self.dir.join(format!("seg-{seq:020}.jsonl.tmp"));
        let io_err = |source| SpoolError::Io {
            dir: self.dir.display().to_string(),
            source,
        };
        write_synced(&tmp, text.as_bytes()).map_err(io_err)?;
        fs::rename(&tmp, &path).map_err(io_err)?;
        self.next_seq += 1;
        self.bytes += len;
        self.segments.push_back(Segment {
            seq,
            path,
            items: batch.len() as u64,
            bytes: len,
        });
        Ok(())
    }

    /// Reads the oldest segment. Lines that do not parse (a damaged file) are skipped and
    /// returned as a count.
    pub(crate) fn front(&self) -> Option<io::Result<(Vec<ExportItem>, u64)>> {
        let seg = self.segments.front()?;
        Some(fs::read_to_string(&seg.path).map(|text| {
            let mut items = Vec::new();
            let mut bad = 0;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                match serde_json::from_str(line) {
                    Ok(item) => items.push(item),
                    Err(_) => bad += 1,
                }
            }
            (items, bad)
        }))
    }

    /// The number of items the oldest segment was counted as.
    pub(crate) fn front_items(&self) -> u64 {
        self.segments.front().map_or(0, |s| s.items)
    }

    /// Deletes the oldest segment (after it was delivered).
    pub(crate) fn pop_front(&mut self) {
        if let Some(seg) = self.segments.pop_front() {
            let _ = fs::remove_file(&seg.path);
            self.bytes -= seg.bytes;
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SpanData, SpanRecord};
    use crate::TraceId;

    fn item() -> ExportItem {
        let mut r = SpanRecord::new(TraceId::random(), None, SpanData::custom("s"));
        // JSON keeps microseconds, as the OpenAI format does.
        r.started_at = crate::Timestamp::from_unix_nanos(r.started_at.unix_nanos() / 1000 * 1000);
        ExportItem::Span(r)
    }

    #[test]
    fn keeps_order_across_reopen_and_respects_cap() {
        let dir = std::env::temp_dir().join(format!("agent-trace-spool-{}", fastrand::u64(..)));
        let mut s = Spool::open(&dir, 1 << 20).unwrap();
        let a = vec![item(), item()];
        let b = vec![item()];
        s.push(&a).unwrap();
        s.push(&b).unwrap();
        fs::write(dir.join("seg-00000000000000000099.jsonl.tmp"), "partial").unwrap();
        let mut s = Spool::open(&dir, 1 << 20).unwrap();
        assert_eq!(s.items(), 3);
        assert!(!dir.join("seg-00000000000000000099.jsonl.tmp").exists());
        assert_eq!(s.front().unwrap().unwrap().0, a);
        s.pop_front();
        assert_eq!(s.front().unwrap().unwrap().0, b);
        s.pop_front();
        assert!(s.is_empty());
        let mut tiny = Spool::open(&dir, 10).unwrap();
        assert!(matches!(tiny.push(&a), Err(SpoolError::Full { .. })));
        fs::remove_dir_all(&dir).unwrap();
    }
}

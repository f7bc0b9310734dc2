//! The on-disk spool: batches an exporter could not deliver, kept in order as JSONL segment
//! files and replayed when the backend is back, also by a later process.
//!
//! Each batch is one segment `seg-<sequence>.jsonl`, written to a temporary file, synced, then
//! renamed, so a crash leaves either the whole segment or none of it. What survives real disks
//! and deployments ([`dir`] has the layout):
//! - **Privacy.** Before an item is written, the exporter removes what it never sends
//!   ([`TracingExporter::redact_for_spool`]): with sensitive data off, prompts and tool results
//!   never reach the disk.
//! - **Damaged segments.** A line that does not parse (bytes that are not UTF-8, a torn write) is
//!   skipped and counted as dropped when its segment is replayed; a segment file that cannot be
//!   read at all is set aside as `….bad`, reported, and the rest of the spool is replayed.
//! - **Two processes, one directory.** The directory is locked (fs4); a second process spools to
//!   a sub-directory of its own, and segments left by a process that is gone are adopted and
//!   replayed by the next one to open the spool.
//! - **Undeletable segments.** A delivered segment that cannot be deleted is emptied instead (so
//!   a restart does not send it again); if that fails too, a diagnostic says it will be sent
//!   again.
//! - **The size cap counts bytes on disk** (whole blocks, including set-aside files), not the
//!   length of the JSON; a batch that would pass it is refused (and counted as dropped by the
//!   caller).

mod dir;

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::diag::RateLimited;
use crate::model::ExportItem;
use crate::processor::TracingExporter;

struct Segment {
    path: PathBuf,
    items: u64,
    disk_bytes: u64,
}

pub(crate) struct Spool {
    /// The directory this process writes to.
    root: PathBuf,
    /// Whether `root` is this process's own sub-directory (another process holds the main one).
    private: bool,
    /// The lock on `root`, held while the spool is open.
    _lock: File,
    max_bytes: u64,
    segments: VecDeque<Segment>,
    /// Bytes on disk: the segments' and those of files set aside as damaged.
    bytes: u64,
    next_seq: u64,
    /// Segments skipped as unreadable when the spool was opened.
    skipped: u64,
    /// Removes what the exporter never sends before an item is written.
    exporter: Arc<dyn TracingExporter>,
    undeletable: RateLimited,
}

/// Why a batch could not be spooled.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpoolError {
    #[error("the spool at {dir} is full ({bytes} of {max} bytes on disk); raise spool_max_bytes or fix the backend")]
    Full { dir: String, bytes: u64, max: u64 },
    #[error("cannot write the spool at {dir}: {source}; check the directory's permissions and free space")]
    Io { dir: String, source: io::Error },
    #[error("exporter {exporter} panicked in redact_for_spool; the batch is not spooled, as it could hold data the exporter keeps off the wire")]
    Redaction { exporter: String },
}

impl Spool {
    /// Opens (or creates) the spool in `dir` for `exporter`, picking up segments left by an
    /// earlier process (and by dead processes that shared the directory).
    pub(crate) fn open(
        dir: &Path,
        max_bytes: u64,
        exporter: Arc<dyn TracingExporter>,
    ) -> io::Result<Spool> {
        let opened = dir::open(dir)?;
        let next_seq = opened.segments.last().map_or(0, |s| s.seq + 1);
        let bytes = opened.bad_bytes + opened.segments.iter().map(|s| s.disk_bytes).sum::<u64>();
        Ok(Spool {
            root: opened.root,
            private: opened.private,
            _lock: opened.lock,
            max_bytes,
            segments: opened
                .segments
                .into_iter()
                .map(|s| Segment {
                    path: s.path,
                    items: s.items,
                    disk_bytes: s.disk_bytes,
                })
                .collect(),
            bytes,
            next_seq,
            skipped: opened.skipped,
            exporter,
            undeletable: RateLimited::new("spool_undeletable", Duration::from_secs(10)),
        })
    }

    pub(crate) fn items(&self) -> u64 {
        self.segments.iter().map(|s| s.items).sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Segments skipped as unreadable when the spool was opened (each reported once).
    #[allow(dead_code)]
    pub(crate) fn skipped_segments(&self) -> u64 {
        self.skipped
    }

    /// The batch as segment text: one JSON line per item, each redacted by the exporter first.
    fn encode(&self, batch: &[ExportItem]) -> Result<String, SpoolError> {
        let mut text = String::new();
        for item in batch {
            let mut item = item.clone();
            let exporter = &self.exporter;
            catch_unwind(AssertUnwindSafe(|| exporter.redact_for_spool(&mut item))).map_err(
                |_| SpoolError::Redaction {
                    exporter: exporter.name().to_owned(),
                },
            )?;
            // Records hold only strings, numbers and JSON values: serialization cannot fail.
            if let Ok(line) = serde_json::to_string(&item) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        Ok(text)
    }

    /// Appends a batch as one segment.
    pub(crate) fn push(&mut self, batch: &[ExportItem]) -> Result<(), SpoolError> {
        let text = self.encode(batch)?;
        let full = |bytes| SpoolError::Full {
            dir: self.root.display().to_string(),
            bytes,
            max: self.max_bytes,
        };
        // A first check on the length rounded up to a 4 KiB block; the size on disk is checked
        // once the file is written.
        let estimate = (text.len() as u64).div_ceil(4096) * 4096;
        if self.bytes + estimate > self.max_bytes {
            return Err(full(self.bytes));
        }
        let seq = self.next_seq;
        let path = self.root.join(dir::segment_name(seq));
        let tmp = self.root.join(format!("{}.tmp", dir::segment_name(seq)));
        let io_err = |source| SpoolError::Io {
            dir: self.root.display().to_string(),
            source,
        };
        let disk = match write_synced(&tmp, text.as_bytes()) {
            Ok(disk) => disk,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(io_err(e));
            }
        };
        if self.bytes + disk > self.max_bytes {
            let _ = fs::remove_file(&tmp);
            return Err(full(self.bytes));
        }
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(e));
        }
        self.next_seq += 1;
        self.bytes += disk;
        self.segments.push_back(Segment {
            path,
            items: batch.len() as u64,
            disk_bytes: disk,
        });
        Ok(())
    }

    /// Reads the oldest segment. Lines that do not parse (a damaged file, bytes that are not
    /// UTF-8) are skipped and returned as a count.
    pub(crate) fn front(&self) -> Option<io::Result<(Vec<ExportItem>, u64)>> {
        let seg = self.segments.front()?;
        Some(fs::read(&seg.path).map(|bytes| {
            let mut items = Vec::new();
            let mut bad = 0;
            for line in bytes.split(|b| *b == b'\n') {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice(line) {
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

    /// Deletes the oldest segment (after it was delivered). One that cannot be deleted is
    /// emptied, so that no later process sends it again; if even that fails, a diagnostic says
    /// that its items will be sent again.
    pub(crate) fn pop_front(&mut self) {
        let Some(seg) = self.segments.pop_front() else {
            return;
        };
        match fs::remove_file(&seg.path) {
            Ok(()) => self.bytes = self.bytes.saturating_sub(seg.disk_bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.bytes = self.bytes.saturating_sub(seg.disk_bytes);
            }
            Err(e) => {
                let emptied = fs::OpenOptions::new()
                    .write(true)
                    .open(&seg.path)
                    .and_then(|f| {
                        f.set_len(0)?;
                        f.sync_all()?;
                        dir::disk_bytes(&f)
                    });
                let path = seg.path.display();
                match emptied {
                    Ok(left) => {
                        self.bytes = self.bytes.saturating_sub(seg.disk_bytes) + left;
                        self.undeletable.hit(1, |n| {
                            format!("{n} delivered spool segment(s) could not be deleted (last: {path}: {e}); emptied instead, so they are not sent again; check the directory's permissions")
                        });
                    }
                    Err(e2) => self.undeletable.hit(1, |n| {
                        format!("{n} delivered spool segment(s) could be neither deleted nor emptied (last: {path}: {e}; {e2}); the next process to open the spool sends their {} item(s) again unless they are removed", seg.items)
                    }),
                }
            }
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // A second process's own directory goes once it is empty; with batches left in it, it
        // stays for the next process to adopt.
        if self.private && self.segments.is_empty() {
            dir::remove_if_empty(&self.root);
        }
    }
}

/// Writes and syncs a file; returns the bytes it takes on disk.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<u64> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    dir::disk_bytes(&f)
}

#[cfg(test)]
mod tests;

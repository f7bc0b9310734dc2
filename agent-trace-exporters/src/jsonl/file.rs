//! The active file: opening with owner-only permissions, repairing a torn tail, rotating by size
//! and by UTC day, and pruning old archives.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use time::{Date, OffsetDateTime};

/// Where files go and how they rotate (fixed at build time).
pub(crate) struct Layout {
    /// The active file.
    pub(crate) path: PathBuf,
    /// Its directory.
    pub(crate) dir: PathBuf,
    /// File name without the last extension (`traces` for `traces.jsonl`).
    pub(crate) stem: String,
    /// The last extension, if any (`jsonl`).
    pub(crate) ext: Option<String>,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) rotate_daily: bool,
    pub(crate) retention: Option<usize>,
}

/// The open active file.
pub(crate) struct ActiveFile {
    pub(crate) writer: BufWriter<File>,
    /// Bytes in the file, including what is still buffered.
    pub(crate) size: u64,
    /// The UTC day the file was started (for a file found at open: the day it was last
    /// modified). Archives are named after it.
    pub(crate) date: Date,
}

/// Creates `dir` and missing parents, owner-only (0700) on unix.
pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens (creating owner-only, 0600 on unix) `path` for appending; repairs a torn last line.
/// Returns the file and its length after repair.
pub(crate) fn open_append(path: &Path) -> io::Result<(File, u64)> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let len = repair_tail(&mut file)?;
    Ok((file, len))
}

/// If the file does not end with `\n`, truncates it after its last `\n` (to empty if it has
/// none): the partial line was never completely written. Returns the length afterwards.
pub(crate) fn repair_tail(file: &mut File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    const CHUNK: u64 = 64 * 1024;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut end = len;
    let mut keep = 0;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            keep = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    file.set_len(keep)?;
    file.sync_all()?;
    Ok(keep)
}

/// The UTC day of a file's last modification, if the platform reports it.
pub(crate) fn modified_date(file: &File) -> Option<Date> {
    let modified = file.metadata().ok()?.modified().ok()?;
    Some(OffsetDateTime::from(modified).date())
}

/// Today in UTC, from the system clock.
pub(crate) fn utc_today() -> Date {
    OffsetDateTime::now_utc().date()
}

impl Layout {
    /// `traces.2026-11-25.3.jsonl` for `traces.jsonl`.
    pub(crate) fn archive_name(&self, date: Date, n: u64) -> String {
        let mut name = format!(
            "{}.{:04}-{:02}-{:02}.{n}",
            self.stem,
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        if let Some(ext) = &self.ext {
            name.push('.');
            name.push_str(ext);
        }
        name
    }

    /// Reads the date and sequence number of an archive name; `None` for anything else.
    pub(crate) fn parse_archive(&self, name: &str) -> Option<(Date, u64)> {
        let rest = name.strip_prefix(self.stem.as_str())?.strip_prefix('.')?;
        let middle = match &self.ext {
            Some(ext) => rest.strip_suffix(ext.as_str())?.strip_suffix('.')?,
            None => rest,
        };
        let (date, n) = middle.split_once('.')?;
        if date.len() != 10 || !n.bytes().all(|b| b.is_ascii_digit()) || n.is_empty() {
            return None;
        }
        let year: i32 = date.get(0..4)?.parse().ok()?;
        let month: u8 = date.get(5..7)?.parse().ok()?;
        let day: u8 = date.get(8..10)?.parse().ok()?;
        if date.as_bytes()[4] != b'-' || date.as_bytes()[7] != b'-' {
            return None;
        }
        let date = Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
        Some((date, n.parse().ok()?))
    }

    /// Archives in this directory, oldest first.
    pub(crate) fn archives(&self) -> io::Result<Vec<(Date, u64, PathBuf)>> {
        let mut found = Vec::new();
        let dir = if self.dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.dir
        };
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some((date, n)) = self.parse_archive(name) {
                found.push((date, n, entry.path()));
            }
        }
        found.sort();
        Ok(found)
    }

    /// Opens the active file, creating the directory if needed.
    pub(crate) fn open(&self, today: Date) -> io::Result<ActiveFile> {
        create_dir(&self.dir)?;
        let existed = self.path.exists();
        let (file, size) = open_append(&self.path)?;
        let date = if existed && size > 0 {
            modified_date(&file).unwrap_or(today)
        } else {
            today
        };
        Ok(ActiveFile {
            writer: BufWriter::with_capacity(64 * 1024, file),
            size,
            date,
        })
    }

    /// Whether `file` is still the file at [`path`](Self::path): false once it (or its
    /// directory) was deleted, or replaced by another file — then lines written to it reach no
    /// reader. When the platform cannot tell (not unix, or the path cannot be examined for a
    /// reason other than its absence), true.
    pub(crate) fn still_linked(&self, file: &ActiveFile) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let Ok(open) = file.writer.get_ref().metadata() else {
                return true;
            };
            if open.nlink() == 0 {
                return false;
            }
            match std::fs::metadata(&self.path) {
                Ok(named) => named.dev() == open.dev() && named.ino() == open.ino(),
                Err(e) => e.kind() != io::ErrorKind::NotFound,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = file;
            true
        }
    }

    /// Whether `file` must be archived before `next_line` bytes are appended on `today`. An
    /// empty file is never archived; it takes `today` as its date instead.
    pub(crate) fn needs_rotation(
        &self,
        file: &mut ActiveFile,
        next_line: u64,
        today: Date,
    ) -> bool {
        if file.size == 0 {
            file.date = today;
            return false;
        }
        let too_big = self
            .max_bytes
            .is_some_and(|max| file.size.saturating_add(next_line) > max);
        let new_day = self.rotate_daily && file.date != today;
        too_big || new_day
    }

    /// Flushes, fsyncs and closes `file`, renames it to the next archive name, prunes old
    /// archives (best effort) and opens a fresh active file.
    pub(crate) fn rotate(&self, file: ActiveFile, today: Date) -> io::Result<ActiveFile> {
        let date = file.date;
        let inner = file.writer.into_inner().map_err(|e| e.into_error())?;
        inner.sync_all()?;
        drop(inner);
        let next = self
            .archives()?
            .iter()
            .filter(|(d, _, _)| *d == date)
            .map(|(_, n, _)| *n)
            .max()
            .unwrap_or(0)
            + 1;
        std::fs::rename(&self.path, self.dir.join(self.archive_name(date, next)))?;
        sync_dir(&self.dir);
        let fresh = self.open(today)?;
        self.prune();
        Ok(fresh)
    }

    /// Deletes the oldest archives beyond the retention. Failures are ignored: the next
    /// rotation tries again, and the export itself succeeded.
    pub(crate) fn prune(&self) {
        let Some(keep) = self.retention else { return };
        let Ok(archives) = self.archives() else {
            return;
        };
        let excess = archives.len().saturating_sub(keep);
        for (_, _, path) in archives.into_iter().take(excess) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Makes a rename durable (best effort; unix only).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes one line (without its `\n`) and the `\n`.
pub(crate) fn write_line(file: &mut ActiveFile, line: &str) -> io::Result<()> {
    file.writer.write_all(line.as_bytes())?;
    file.writer.write_all(b"\n")?;
    file.size += line.len() as u64 + 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(ext: Option<&str>) -> Layout {
        Layout {
            path: PathBuf::from("x"),
            dir: PathBuf::new(),
            stem: "traces".into(),
            ext: ext.map(Into::into),
            max_bytes: None,
            rotate_daily: false,
            retention: None,
        }
    }

    #[test]
    fn a_deleted_or_replaced_file_is_no_longer_linked() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = layout(Some("jsonl"));
        l.dir = dir.path().join("sub");
        l.path = l.dir.join("traces.jsonl");
        let today = utc_today();
        let file = l.open(today).unwrap();
        assert!(l.still_linked(&file));
        std::fs::remove_dir_all(&l.dir).unwrap();
        assert!(!l.still_linked(&file));
        // Another file at the same path is not ours either.
        create_dir(&l.dir).unwrap();
        std::fs::write(&l.path, b"").unwrap();
        assert!(!l.still_linked(&file));
        let fresh = l.open(today).unwrap();
        assert!(l.still_linked(&fresh));
    }

    #[test]
    fn archive_names_round_trip() {
        let date = Date::from_calendar_date(2026, time::Month::November, 5).unwrap();
        let l = layout(Some("jsonl"));
        assert_eq!(l.archive_name(date, 3), "traces.2026-11-05.3.jsonl");
        assert_eq!(
            l.parse_archive("traces.2026-11-05.3.jsonl"),
            Some((date, 3))
        );
        assert_eq!(l.parse_archive("traces.jsonl"), None);
        assert_eq!(l.parse_archive("traces.2026-13-05.3.jsonl"), None);
        assert_eq!(l.parse_archive("traces.2026-11-05..jsonl"), None);
        assert_eq!(l.parse_archive("other.2026-11-05.3.jsonl"), None);
        let bare = layout(None);
        assert_eq!(bare.archive_name(date, 1), "traces.2026-11-05.1");
        assert_eq!(bare.parse_archive("traces.2026-11-05.1"), Some((date, 1)));
    }

    #[test]
    fn repair_truncates_after_the_last_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        for (content, expected) in [
            (&b""[..], &b""[..]),
            (b"a\nb\n", b"a\nb\n"),
            (b"a\nb\npart", b"a\nb\n"),
            (b"no newline at all", b""),
        ] {
            std::fs::write(&path, content).unwrap();
            let (_, len) = open_append(&path).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), expected);
            assert_eq!(len, expected.len() as u64);
        }
    }

    #[test]
    fn repair_scans_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let mut content = b"first\n".to_vec();
        content.extend(std::iter::repeat_n(b'x', 200_000));
        std::fs::write(&path, &content).unwrap();
        let (_, len) = open_append(&path).unwrap();
        assert_eq!(len, 6);
    }
}

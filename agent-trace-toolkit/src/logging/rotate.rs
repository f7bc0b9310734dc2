//! A log file that rotates by size or by day (UTC) and keeps a number of old files.
//!
//! Written here rather than taken from a crate: `tracing-appender` rotates by time only, and the
//! size-rotating crates looked at (`file-rotate`, `logroller`) panic when the log directory
//! cannot be created or pull `chrono` and `regex`; this is ~150 lines on `std` and `time`, and
//! every failure is an `io::Error` for the writer thread, never a panic.
//!
//! A rotated file is renamed `<file>.<YYYYMMDD>T<HHMMSS>` (with `-<n>` when that name is taken):
//! the names sort by age, and the oldest past the retention count are deleted.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use time::{Date, OffsetDateTime};

/// When a log file is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// Never: the file grows.
    Never,
    /// At the first write of a new day (UTC).
    Daily,
    /// Before a write that would take the file past this many bytes.
    Size(u64),
}

#[derive(Debug)]
pub(crate) struct RotatingFile {
    path: PathBuf,
    rotation: Rotation,
    retention: usize,
    file: Option<File>,
    written: u64,
    day: Date,
}

impl RotatingFile {
    /// Opens (creating it and its directory) `path` for appending.
    pub(crate) fn open(path: &Path, rotation: Rotation, retention: usize) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let meta = file.metadata()?;
        let day = meta
            .modified()
            .ok()
            .map(OffsetDateTime::from)
            .unwrap_or_else(OffsetDateTime::now_utc)
            .date();
        Ok(RotatingFile {
            path: path.to_owned(),
            rotation,
            retention,
            written: meta.len(),
            file: Some(file),
            day,
        })
    }

    fn due(&self, next: usize, today: Date) -> bool {
        match self.rotation {
            Rotation::Never => false,
            Rotation::Daily => today != self.day && self.written > 0,
            Rotation::Size(max) => self.written > 0 && self.written + next as u64 > max,
        }
    }

    fn rotate(&mut self, now: OffsetDateTime) -> io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        let stamp = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}",
            now.year(),
            now.month() as u8,
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let base = self.path.as_os_str().to_string_lossy().into_owned();
        let mut target = PathBuf::from(format!("{base}.{stamp}"));
        let mut n = 1;
        while target.exists() {
            target = PathBuf::from(format!("{base}.{stamp}-{n}"));
            n += 1;
        }
        std::fs::rename(&self.path, &target)?;
        self.prune();
        self.file = Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?,
        );
        self.written = 0;
        Ok(())
    }

    /// The rotated files of this log, oldest first.
    pub(crate) fn rotated(path: &Path) -> Vec<PathBuf> {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Vec::new();
        };
        let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(d) => d.to_owned(),
            None => PathBuf::from("."),
        };
        let prefix = format!("{name}.");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_prefix(&prefix).is_some_and(is_stamp)
            })
            .map(|e| e.path())
            .collect();
        // By stamp, then by the `-<n>` of files rotated within the same second (numerically).
        found.sort_by_key(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let suffix = name
                .as_deref()
                .and_then(|n| n.strip_prefix(&prefix))
                .unwrap_or("");
            let (stamp, n) = suffix.split_once('-').unwrap_or((suffix, "0"));
            (stamp.to_owned(), n.parse::<u64>().unwrap_or(0))
        });
        found
    }

    fn prune(&self) {
        let rotated = RotatingFile::rotated(&self.path);
        let excess = rotated.len().saturating_sub(self.retention);
        for old in &rotated[..excess] {
            let _ = std::fs::remove_file(old);
        }
    }
}

/// `YYYYMMDDTHHMMSS`, optionally followed by `-<n>`.
fn is_stamp(s: &str) -> bool {
    let (stamp, n) = s.split_once('-').unwrap_or((s, "1"));
    stamp.len() == 15
        && stamp.as_bytes()[8] == b'T'
        && stamp
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 8 || b.is_ascii_digit())
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let now = OffsetDateTime::now_utc();
        if self.due(buf.len(), now.date()) || self.file.is_none() {
            self.rotate(now)?;
        }
        self.day = now.date();
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file is not open"))?;
        let n = file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_rotation_keeps_the_retention_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/agent.log");
        let mut f = RotatingFile::open(&path, Rotation::Size(100), 2).unwrap();
        for i in 0..20 {
            writeln!(f, "line {i:02} padded to about forty bytes......").unwrap();
        }
        let rotated = RotatingFile::rotated(&path);
        assert_eq!(rotated.len(), 2, "{rotated:?}");
        assert!(std::fs::metadata(&path).unwrap().len() <= 100);
        // Only the last lines survive: the newest rotated file holds the lines just before.
        let last = std::fs::read_to_string(&path).unwrap();
        assert!(last.contains("line 19"));
    }

    #[test]
    fn daily_rotation_starts_a_new_file_on_a_new_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.log");
        let mut f = RotatingFile::open(&path, Rotation::Daily, 1).unwrap();
        writeln!(f, "today").unwrap();
        writeln!(f, "still today").unwrap();
        assert!(RotatingFile::rotated(&path).is_empty());
        for day in ["yesterday", "the day before"] {
            f.day = f.day.previous_day().unwrap(); // as if the last write was a day earlier
            writeln!(f, "{day}").unwrap();
        }
        let rotated = RotatingFile::rotated(&path);
        assert_eq!(rotated.len(), 1, "retention 1: {rotated:?}");
        assert_eq!(std::fs::read_to_string(&rotated[0]).unwrap(), "yesterday\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the day before\n");
    }

    #[test]
    fn stamps_are_recognised() {
        assert!(is_stamp("20261130T231504"));
        assert!(is_stamp("20261130T231504-3"));
        assert!(!is_stamp("20261130T2315"));
        assert!(!is_stamp("gz"));
    }
}

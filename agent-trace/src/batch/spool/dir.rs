//! The spool directory on disk: who owns it (an exclusive lock), what is in it (segments,
//! damaged files), and what dead processes left behind (orphans).
//!
//! ```text
//! <spool_dir>/<i>-<exporter>/        one per exporter; owned by the process holding `lock`
//!     lock                           the exclusive lock (fs4: flock / LockFileEx)
//!     seg-<seq>.jsonl                one undelivered batch, one JSON item per line
//!     seg-<seq>.jsonl.tmp            a segment being written (removed at open: never acknowledged)
//!     seg-<seq>.jsonl.bad            a segment that could not be read, set aside (kept for inspection)
//!     proc-<pid>-<n>/                the spool of a second process while another one holds `lock`
//!         lock, seg-<seq>.jsonl …
//! ```
//!
//! A second process on the same directory gets its own `proc-…` sub-directory rather than
//! writing segments under names the first one also uses. Whoever opens the spool adopts the
//! segments of every `proc-…` directory whose lock is free (its process is gone): they are moved
//! into the opener's directory and replayed with its own.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diag::{emit, Diagnostic};

/// The lock file's name.
const LOCK: &str = "lock";
/// The prefix of a second process's sub-directory.
const PROC: &str = "proc-";
/// The prefix of a sub-directory being created (renamed to `proc-…` once locked).
const NEW_PROC: &str = ".new-proc-";

/// One segment found on disk.
pub(super) struct Found {
    pub(super) seq: u64,
    pub(super) path: PathBuf,
    pub(super) items: u64,
    pub(super) disk_bytes: u64,
}

/// What opening a spool directory found.
pub(super) struct Opened {
    /// The directory this process writes to (the exporter's, or its own `proc-…` in it).
    pub(super) root: PathBuf,
    /// Held for the life of the spool: the lock on `root`.
    pub(super) lock: File,
    /// Whether `root` is a `proc-…` sub-directory (removed again when left empty).
    pub(super) private: bool,
    pub(super) segments: Vec<Found>,
    /// Bytes on disk of files set aside as damaged (they still take space).
    pub(super) bad_bytes: u64,
    /// Segments set aside as damaged.
    pub(super) skipped: u64,
}

pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Opens (creating it if needed) and tries to lock `dir/lock`: `Ok(None)` if another process
/// (or another spool in this one) holds it.
fn try_lock(dir: &Path) -> io::Result<Option<File>> {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK))?;
    // Fully qualified: newer std has an inherent `File::try_lock` of its own.
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(Some(file)),
        Err(fs4::TryLockError::WouldBlock) => Ok(None),
        Err(fs4::TryLockError::Error(e)) => Err(e),
    }
}

/// The bytes `file` takes on disk (whole blocks, not its length).
pub(super) fn disk_bytes(file: &File) -> io::Result<u64> {
    fs4::FileExt::allocated_size(file)
}

/// `seg-<seq>.jsonl` → `seq`.
fn segment_seq(name: &str) -> Option<u64> {
    name.strip_prefix("seg-")
        .and_then(|s| s.strip_suffix(".jsonl"))
        .and_then(|s| s.parse::<u64>().ok())
}

/// The segment's file name.
pub(super) fn segment_name(seq: u64) -> String {
    format!("seg-{seq:020}.jsonl")
}

/// Non-blank lines: the items a segment holds (a damaged line counts, and is counted as dropped
/// when the segment is replayed).
pub(super) fn count_items(bytes: &[u8]) -> u64 {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count() as u64
}

/// Opens the spool directory of one exporter: takes its lock, or a sub-directory of its own if
/// another process holds it; adopts the segments of dead processes; reads what is there.
pub(super) fn open(dir: &Path) -> io::Result<Opened> {
    create_private_dir(dir)?;
    let (root, lock, private) = match try_lock(dir)? {
        Some(lock) => (dir.to_owned(), lock, false),
        None => {
            let (root, lock) = own_subdir(dir)?;
            emit(Diagnostic {
                key: "spool_shared",
                message: format!(
                    "the spool at {} is in use by another process; this one spools to {} (adopted by the next process to open the spool if batches are left in it)",
                    dir.display(),
                    root.display()
                ),
                count: 1,
            });
            (root, lock, true)
        }
    };
    let mut opened = Opened {
        root,
        lock,
        private,
        segments: Vec::new(),
        bad_bytes: 0,
        skipped: 0,
    };
    scan(&mut opened)?;
    adopt_orphans(dir, &mut opened);
    Ok(opened)
}

/// Creates and locks `dir/proc-<pid>-<n>`: made under a temporary name and renamed once locked,
/// so no other process ever sees it as an unlocked (orphaned) `proc-…` directory.
fn own_subdir(dir: &Path) -> io::Result<(PathBuf, File)> {
    let tag = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
    let building = dir.join(format!("{NEW_PROC}{tag}"));
    create_private_dir(&building)?;
    let lock = try_lock(&building)?.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::WouldBlock,
            "a freshly made spool sub-directory is locked",
        )
    })?;
    let root = dir.join(format!("{PROC}{tag}"));
    // Where a directory holding an open file cannot be renamed (Windows), it keeps its first
    // name: locked, it is never taken for an orphan either.
    match fs::rename(&building, &root) {
        Ok(()) => Ok((root, lock)),
        Err(_) => Ok((building, lock)),
    }
}

/// Reads `opened.root`: segments in order, damaged ones set aside, unfinished writes removed.
fn scan(opened: &mut Opened) -> io::Result<()> {
    for entry in fs::read_dir(&opened.root)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if name.ends_with(".jsonl.tmp") {
            // A segment whose write did not finish: it was never acknowledged as spooled.
            let _ = fs::remove_file(&path);
            continue;
        }
        if name.ends_with(".jsonl.bad") {
            opened.bad_bytes += fs::File::open(&path)
                .and_then(|f| disk_bytes(&f))
                .unwrap_or(0);
            continue;
        }
        let Some(seq) = segment_seq(&name) else {
            continue;
        };
        match read_segment(&path) {
            Ok((items, disk_bytes)) => opened.segments.push(Found {
                seq,
                path,
                items,
                disk_bytes,
            }),
            Err(e) => {
                opened.skipped += 1;
                set_aside(&path, &e);
            }
        }
    }
    opened.segments.sort_by_key(|s| s.seq);
    Ok(())
}

/// Reads a segment file: its item count and the bytes it takes on disk. Anything but a regular
/// file (a directory, a FIFO that would block the read) is an error.
fn read_segment(path: &Path) -> io::Result<(u64, u64)> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut file = File::open(path)?;
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok((count_items(&bytes), disk_bytes(&file)?))
}

/// Renames an unreadable segment to `….bad` (so it is neither replayed nor reported again) and
/// says so.
fn set_aside(path: &Path, error: &io::Error) {
    let mut bad = path.as_os_str().to_owned();
    bad.push(".bad");
    let outcome = match fs::rename(path, &bad) {
        Ok(()) => format!(
            "set aside as {}; inspect and delete it",
            Path::new(&bad).display()
        ),
        Err(e) => format!("could not set it aside either ({e}); remove it by hand"),
    };
    emit(Diagnostic {
        key: "spool_segment_skipped",
        message: format!(
            "spool segment {} cannot be read ({error}); its items are lost, the rest of the spool is replayed; {outcome}",
            path.display()
        ),
        count: 1,
    });
}

/// Moves the segments of every `proc-…` (or half-made `.new-proc-…`) sub-directory of `dir`
/// whose lock is free into `opened.root`, after the segments already there, and removes the
/// sub-directory. One still locked belongs to a live process and is left alone.
fn adopt_orphans(dir: &Path, opened: &mut Opened) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if !(name.starts_with(PROC) || name.starts_with(NEW_PROC))
            || path == opened.root
            || !entry.file_type().is_ok_and(|t| t.is_dir())
        {
            continue;
        }
        // A `.new-proc-…` directory is locked a moment after it is made: only one left for a
        // minute is a leftover of a process that died while making it.
        if name.starts_with(NEW_PROC) && !older_than(&path, Duration::from_secs(60)) {
            continue;
        }
        // Holding its lock, no one else can write to it or adopt it meanwhile.
        let Ok(Some(_their_lock)) = try_lock(&path) else {
            continue;
        };
        let mut orphan = Opened {
            root: path.clone(),
            lock: _their_lock,
            private: true,
            segments: Vec::new(),
            bad_bytes: 0,
            skipped: 0,
        };
        if scan(&mut orphan).is_err() {
            continue;
        }
        opened.skipped += orphan.skipped;
        let mut next = opened.segments.last().map_or(0, |s| s.seq + 1);
        let mut moved_all = orphan.bad_bytes == 0;
        for seg in orphan.segments {
            let to = opened.root.join(segment_name(next));
            if fs::rename(&seg.path, &to).is_ok() {
                opened.segments.push(Found {
                    seq: next,
                    path: to,
                    items: seg.items,
                    disk_bytes: seg.disk_bytes,
                });
                next += 1;
            } else {
                moved_all = false;
            }
        }
        if moved_all {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Whether `path` was last modified more than `age` ago.
fn older_than(path: &Path, age: Duration) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|e| e > age))
}

/// Removes a `proc-…` directory this process no longer uses, if nothing is left in it.
pub(super) fn remove_if_empty(root: &Path) {
    let has_segments = fs::read_dir(root).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name != LOCK
        })
    });
    if !has_segments {
        let _ = fs::remove_file(root.join(LOCK));
        let _ = fs::remove_dir(root);
    }
}

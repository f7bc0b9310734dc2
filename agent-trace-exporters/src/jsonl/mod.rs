//! Traces as JSON lines in local files, in the OpenAI Agents SDK export shape, with rotation.
//!
//! Each [`ExportItem`] becomes one line: `{"object": "trace", ...}` or
//! `{"object": "trace.span", ...}`. Files are appended to, so several runs accumulate.
//!
//! ## Files
//! - The directory is created if missing (owner-only, 0700 on unix); new files are owner-only
//!   (0600 on unix). Existing files and directories keep their permissions.
//! - **Rotation** (off by default). With [`max_bytes`](JsonlExporterBuilder::max_bytes), when
//!   the next line would take the active file past the limit, the file is closed and renamed; a
//!   line is never split, so a line longer than the limit gets a file of its own. With
//!   [`rotate_daily`](JsonlExporterBuilder::rotate_daily), the file is rotated when the UTC day
//!   changes. Archives are named `<stem>.<YYYY-MM-DD>.<n>.<ext>` next to the active file —
//!   `traces.2026-11-25.1.jsonl`, `traces.2026-11-25.2.jsonl`, … for `traces.jsonl` — where the
//!   date is the UTC day the file was started (for a file found at startup, the day it was last
//!   modified) and `n` counts up within that day. Names sort oldest first; nothing is renamed
//!   twice.
//! - **Retention**: with [`retention(k)`](JsonlExporterBuilder::retention), at most `k` archives
//!   are kept; the oldest are deleted after each rotation. By default all are kept.
//! - One exporter per file: two exporters (or processes) appending to the same file would
//!   interleave rotations.
//!
//! ## Durability and crash safety
//! Lines are buffered and written at the end of each export call; [`force_flush`] and
//! [`shutdown`] also fsync. When a file is opened (at build, and again after a write error),
//! a partial last line — a write cut short by a crash or a full disk — is **truncated**, so the
//! file always ends with a complete line. [`read_items`] additionally skips any line it cannot
//! parse. Delivery is at-least-once: a batch retried after an IO error may appear twice.
//!
//! ## Write failures are errors
//! A write that fails (a full disk: `ENOSPC`) is a transient [`ExportError`]: the batch
//! processor retries it, spools it if it has a spool, and otherwise drops it, counts it and
//! says so in its next flush. The file is also checked after each batch is written and before
//! each fsync: if it (or its directory) was deleted or replaced while open, the lines written
//! to it reach no reader, so the batch fails (transient: the retry recreates the directory and
//! the file) and a `force_flush` returns an error, instead of counting them as exported.
//!
//! [`force_flush`]: agent_trace::TracingExporter::force_flush
//! [`shutdown`]: agent_trace::TracingExporter::shutdown

mod file;
mod read;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use agent_trace::{BoxFuture, ExportError, ExportItem, TracingExporter};
use time::Date;

use file::{ActiveFile, Layout};
pub use read::{read_items, ReadReport};

/// Why a JSONL file could not be set up or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonlError {
    /// The path names no file.
    #[error("the JSONL path `{}` names no file; pass a file path such as `./traces/traces.jsonl`", path.display())]
    NoFileName {
        /// The path given.
        path: PathBuf,
    },
    /// A builder setting is out of range.
    #[error("invalid JSONL exporter setting: {0}")]
    InvalidConfig(&'static str),
    /// The file (or its directory) could not be created or opened.
    #[error("cannot open the trace file `{}`: {source}; check that its directory is writable and the disk has space", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be read.
    #[error("cannot read the trace file `{}`: {source}; check that it exists and is readable", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

type Clock = Arc<dyn Fn() -> Date + Send + Sync>;

/// Builds a [`JsonlExporter`].
///
/// ```
/// # fn main() -> Result<(), agent_trace_exporters::jsonl::JsonlError> {
/// # let dir = tempfile::tempdir().unwrap();
/// let exporter = agent_trace_exporters::JsonlExporter::builder(dir.path().join("traces.jsonl"))
///     .max_bytes(10 << 20)
///     .rotate_daily(true)
///     .retention(7)
///     .build()?;
/// # let _ = exporter; Ok(()) }
/// ```
#[must_use = "call .build() to get the exporter"]
pub struct JsonlExporterBuilder {
    path: PathBuf,
    max_bytes: Option<u64>,
    rotate_daily: bool,
    retention: Option<usize>,
    clock: Clock,
}

impl std::fmt::Debug for JsonlExporterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlExporterBuilder")
            .field("path", &self.path)
            .field("max_bytes", &self.max_bytes)
            .field("rotate_daily", &self.rotate_daily)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl JsonlExporterBuilder {
    /// Rotates the file before it would exceed `n` bytes (at least 1). Off by default.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let b = agent_trace_exporters::JsonlExporter::builder(dir.path().join("t.jsonl")).max_bytes(1 << 20);
    /// # let _ = b;
    /// ```
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = Some(n);
        self
    }

    /// Starts a new file when the UTC day changes. Off by default.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let b = agent_trace_exporters::JsonlExporter::builder(dir.path().join("t.jsonl")).rotate_daily(true);
    /// # let _ = b;
    /// ```
    pub fn rotate_daily(mut self, on: bool) -> Self {
        self.rotate_daily = on;
        self
    }

    /// Keeps at most `k` rotated files, deleting the oldest (default: keep all). `0` keeps only
    /// the active file.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let b = agent_trace_exporters::JsonlExporter::builder(dir.path().join("t.jsonl")).retention(7);
    /// # let _ = b;
    /// ```
    pub fn retention(mut self, k: usize) -> Self {
        self.retention = Some(k);
        self
    }

    /// Replaces the UTC-date clock used for daily rotation. For tests only.
    #[doc(hidden)]
    pub fn clock_for_tests(mut self, today: impl Fn() -> Date + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(today);
        self
    }

    /// Creates the directory if needed, opens the file for appending (repairing a torn last
    /// line) and returns the exporter.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let e = agent_trace_exporters::JsonlExporter::builder(dir.path().join("t.jsonl")).build();
    /// assert!(e.is_ok());
    /// assert!(agent_trace_exporters::JsonlExporter::builder("/").build().is_err());
    /// ```
    pub fn build(self) -> Result<JsonlExporter, JsonlError> {
        if self.max_bytes == Some(0) {
            return Err(JsonlError::InvalidConfig(
                "max_bytes must be at least 1; leave it unset to never rotate by size",
            ));
        }
        let no_name = || JsonlError::NoFileName {
            path: self.path.clone(),
        };
        let file_name = self.path.file_name().ok_or_else(no_name)?;
        let file_name = Path::new(file_name);
        let stem = file_name
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(no_name)?
            .to_owned();
        let ext = file_name
            .extension()
            .map(|e| e.to_string_lossy().into_owned());
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let layout = Layout {
            path: self.path.clone(),
            dir,
            stem,
            ext,
            max_bytes: self.max_bytes,
            rotate_daily: self.rotate_daily,
            retention: self.retention,
        };
        let file = layout
            .open((self.clock)())
            .map_err(|source| JsonlError::Open {
                path: self.path.clone(),
                source,
            })?;
        Ok(JsonlExporter {
            layout,
            clock: self.clock,
            state: Mutex::new(State {
                file: Some(file),
                closed: false,
            }),
        })
    }
}

struct State {
    /// `None` after an IO error (reopened, with repair, by the next export) or after shutdown.
    file: Option<ActiveFile>,
    closed: bool,
}

/// Writes each trace and span as one JSON line to a file, appending, with optional rotation by
/// size and by UTC day. See the [module docs](self) for file names, retention and crash safety.
///
/// IO errors are [`ExportError::Transient`] (a full disk may pass), so the batch processor
/// retries them; their messages name the file.
///
/// ```
/// use agent_trace::{BatchProcessor, TracerProvider};
/// use agent_trace_exporters::JsonlExporter;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let exporter = JsonlExporter::new(dir.path().join("traces.jsonl"))?;
/// let batch = BatchProcessor::new(exporter);
/// let provider = TracerProvider::builder().with_processor(batch.clone()).build();
/// provider.trace("wf").in_scope(|| agent_trace::custom_span("step").end());
/// batch.force_flush_blocking(std::time::Duration::from_secs(5))?;
/// let (items, _) = agent_trace_exporters::jsonl::read_items(dir.path().join("traces.jsonl"))?;
/// assert_eq!(items.len(), 2);
/// # Ok(()) }
/// ```
pub struct JsonlExporter {
    layout: Layout,
    clock: Clock,
    state: Mutex<State>,
}

impl std::fmt::Debug for JsonlExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlExporter")
            .field("path", &self.layout.path)
            .field("max_bytes", &self.layout.max_bytes)
            .field("rotate_daily", &self.layout.rotate_daily)
            .field("retention", &self.layout.retention)
            .finish_non_exhaustive()
    }
}

impl JsonlExporter {
    /// An exporter appending to `path`, without rotation.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let e = agent_trace_exporters::JsonlExporter::new(dir.path().join("traces.jsonl")).unwrap();
    /// # let _ = e;
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Result<JsonlExporter, JsonlError> {
        Self::builder(path).build()
    }

    /// Starts building an exporter writing to `path` (the active file; archives go next to it).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let e = agent_trace_exporters::JsonlExporter::builder(dir.path().join("t.jsonl")).max_bytes(1 << 20).build();
    /// # let _ = e;
    /// ```
    pub fn builder(path: impl Into<PathBuf>) -> JsonlExporterBuilder {
        JsonlExporterBuilder {
            path: path.into(),
            max_bytes: None,
            rotate_daily: false,
            retention: None,
            clock: Arc::new(file::utc_today),
        }
    }

    /// The active file.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let e = agent_trace_exporters::JsonlExporter::new(dir.path().join("t.jsonl")).unwrap();
    /// assert!(e.path().ends_with("t.jsonl"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.layout.path
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn io_error(&self, what: &str, e: std::io::Error) -> ExportError {
        ExportError::transient(format!(
            "cannot {what} the trace file `{}`: {e}; check free space and permissions (the batch is retried)",
            self.layout.path.display()
        ))
    }

    fn shut_down_error(&self) -> ExportError {
        ExportError::permanent(format!(
            "the JSONL exporter for `{}` is shut down; build a new one to write again",
            self.layout.path.display()
        ))
    }

    fn export_now(&self, batch: &[ExportItem]) -> Result<(), ExportError> {
        let mut lines = Vec::with_capacity(batch.len());
        let mut unserializable = None;
        // One line per trace, written when it ends (it then has both timestamps); the record
        // sent at its start is skipped.
        for item in batch.iter().filter(|i| !i.is_trace_start()) {
            match serde_json::to_string(item) {
                Ok(line) => lines.push(line),
                Err(e) => unserializable = Some(e),
            }
        }
        let mut state = self.lock();
        if state.closed {
            return Err(self.shut_down_error());
        }
        let today = (self.clock)();
        let result = self.write_lines(&mut state, &lines, today);
        if result.is_err() {
            discard(&mut state);
        }
        result?;
        match unserializable {
            Some(e) => Err(ExportError::permanent(format!(
                "jsonl exporter: an item could not be turned into JSON ({e}); the other items were written to `{}`",
                self.layout.path.display()
            ))),
            None => Ok(()),
        }
    }

    fn write_lines(
        &self,
        state: &mut State,
        lines: &[String],
        today: Date,
    ) -> Result<(), ExportError> {
        let mut file = match state.file.take() {
            // Still the file at our path: go on appending.
            Some(f) if self.layout.still_linked(&f) => f,
            // Deleted (or its directory) or replaced since the last export, whose lines were
            // all written while it was there: start a new one at the path.
            _ => self
                .layout
                .open(today)
                .map_err(|e| self.io_error("open", e))?,
        };
        for line in lines {
            let len = line.len() as u64 + 1;
            if self.layout.needs_rotation(&mut file, len, today) {
                file = self
                    .layout
                    .rotate(file, today)
                    .map_err(|e| self.io_error("rotate", e))?;
            }
            if let Err(e) = file::write_line(&mut file, line) {
                state.file = Some(file);
                return Err(self.io_error("write to", e));
            }
        }
        let flushed = std::io::Write::flush(&mut file.writer);
        let linked = self.layout.still_linked(&file);
        state.file = Some(file);
        flushed.map_err(|e| self.io_error("write to", e))?;
        if !linked {
            // The lines went to a file no reader will find: retried, into a new file.
            return Err(self.deleted_error());
        }
        Ok(())
    }

    fn deleted_error(&self) -> ExportError {
        ExportError::transient(format!(
            "the trace file `{}` (or its directory) was deleted or replaced while open: the lines written to it are gone; the next write creates a new file (check what deletes it)",
            self.layout.path.display()
        ))
    }

    fn sync(&self, close: bool) -> Result<(), ExportError> {
        let mut state = self.lock();
        let result = match state.file.as_mut() {
            Some(file) if !self.layout.still_linked(file) => Err(self.deleted_error()),
            Some(file) => std::io::Write::flush(&mut file.writer)
                .and_then(|()| file.writer.get_ref().sync_all())
                .map_err(|e| self.io_error("flush", e)),
            None => Ok(()),
        };
        if result.is_err() || close {
            discard(&mut state);
        }
        if close {
            state.closed = true;
        }
        result
    }
}

/// Drops the active file without writing its buffer: after an error the next export reopens
/// it, which truncates any partial line the failed write left.
fn discard(state: &mut State) {
    if let Some(file) = state.file.take() {
        let _ = file.writer.into_parts();
    }
}

impl TracingExporter for JsonlExporter {
    fn name(&self) -> &str {
        "jsonl"
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move { self.export_now(batch) })
    }

    fn force_flush(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async move {
            if self.lock().closed {
                return Ok(());
            }
            self.sync(false)
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async move {
            if self.lock().closed {
                return Ok(());
            }
            self.sync(true)
        })
    }
}

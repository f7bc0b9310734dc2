//! Reading JSONL sources (files, globs, stdin) line by line, with problems reported on stderr
//! with their line numbers and a progress bar for files that take over a second.

use std::fmt::Display;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::parse::{parse_line, Record};

/// Problems printed in full before only counting them.
const SHOWN_PROBLEMS: usize = 20;

/// Why input could not be read at all (a bad line is never an error: it is reported and skipped).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A FILE argument is neither a file nor a glob matching one.
    #[error("`{0}` is not a file and no file matches it as a glob; pass a JSONL file, a glob such as 'traces/*.jsonl', or - for stdin")]
    NoMatch(String),
    /// No FILE was given and stdin is a terminal (nothing is piped in).
    #[error("no input: pass a JSONL file or glob, or pipe the lines in (`cat traces.jsonl | agent-trace list`)")]
    NothingToRead,
    /// A glob pattern is invalid.
    #[error("invalid glob `{pattern}`: {reason}")]
    BadGlob {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be opened or read.
    #[error("cannot read `{name}`: {source}; check that it exists and is readable")]
    Io {
        /// The file.
        name: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// One input: a file or stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".into(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// Turns FILE arguments into sources: `-` is stdin, an existing path is a file, anything else
/// is a glob that must match at least one file. No arguments means stdin.
pub fn expand(args: &[String]) -> Result<Vec<Source>, InputError> {
    if args.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(InputError::NothingToRead);
        }
        return Ok(vec![Source::Stdin]);
    }
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(Source::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        if path.is_file() {
            out.push(Source::File(path));
            continue;
        }
        let paths = glob::glob(arg).map_err(|e| InputError::BadGlob {
            pattern: arg.clone(),
            reason: e.msg.to_string(),
        })?;
        let mut found: Vec<PathBuf> = paths.flatten().filter(|p| p.is_file()).collect();
        if found.is_empty() {
            return Err(InputError::NoMatch(arg.clone()));
        }
        found.sort();
        out.extend(found.into_iter().map(Source::File));
    }
    Ok(out)
}

/// Collects problems with the input and prints them on stderr as they are found: the first
/// few in full (`FILE:LINE: what; skipped`), then only a count at the end.
#[derive(Debug, Default)]
pub struct Diagnostics {
    count: usize,
    quiet: bool,
}

impl Diagnostics {
    /// Diagnostics that print (or, `quiet`, only count).
    pub fn new(quiet: bool) -> Self {
        Diagnostics { count: 0, quiet }
    }

    /// Reports a problem at `source:line`.
    pub fn warn(&mut self, source: &str, line: u64, what: impl Display) {
        self.count += 1;
        if !self.quiet && self.count <= SHOWN_PROBLEMS {
            if line == 0 {
                eprintln!("warning: {source}: {what}");
            } else {
                eprintln!("warning: {source}:{line}: {what}");
            }
        }
    }

    /// How many problems were reported.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Prints the total, if some problems were not printed in full.
    pub fn summary(&self) {
        if !self.quiet && self.count > SHOWN_PROBLEMS {
            eprintln!(
                "warning: {} problems in the input ({} not shown); the lines were skipped",
                self.count,
                self.count - SHOWN_PROBLEMS
            );
        }
    }
}

/// A progress bar that appears only after a second, and only when stderr is a terminal.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
    allowed: bool,
}

impl Progress {
    fn new(len: Option<u64>, name: &str) -> Self {
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(name.to_owned());
        Progress {
            bar,
            started: Instant::now(),
            shown: false,
            allowed: std::io::stderr().is_terminal(),
        }
    }

    fn set(&mut self, pos: u64) {
        if self.allowed && !self.shown && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        if self.shown {
            self.bar.set_position(pos);
        }
    }

    fn finish(self) {
        if self.shown {
            self.bar.finish_and_clear();
        }
    }
}

/// Reads every line of `sources`, in order, calling `each(source_index, record)` for each
/// valid record (with its line number set on spans) and reporting the others to `diag`.
/// Streams: one line is in memory at a time.
pub fn read_all(
    sources: &[Source],
    keep_raw: bool,
    diag: &mut Diagnostics,
    mut each: impl FnMut(usize, Record, &mut Diagnostics),
) -> Result<(), InputError> {
    for (index, source) in sources.iter().enumerate() {
        let name = source.name();
        let io = |source| InputError::Io {
            name: name.clone(),
            source,
        };
        let (reader, len): (Box<dyn Read>, Option<u64>) = match source {
            Source::Stdin => (Box::new(std::io::stdin().lock()), None),
            Source::File(p) => {
                let f = std::fs::File::open(p).map_err(io)?;
                let len = f.metadata().ok().map(|m| m.len());
                (Box::new(f), len)
            }
        };
        let mut reader = BufReader::with_capacity(256 * 1024, reader);
        let mut progress = Progress::new(len, &name);
        let mut buf = Vec::new();
        let (mut number, mut offset) = (0u64, 0u64);
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            number += 1;
            offset += n as u64;
            if number % 4096 == 0 {
                progress.set(offset);
            }
            if let Some(record) = parse_one(&buf, keep_raw, &name, number, diag) {
                each(index, record, diag);
            }
        }
        progress.finish();
    }
    Ok(())
}

/// Parses one raw line; blank lines are skipped silently, bad ones reported.
pub(crate) fn parse_one(
    buf: &[u8],
    keep_raw: bool,
    name: &str,
    number: u64,
    diag: &mut Diagnostics,
) -> Option<Record> {
    if buf.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    match parse_line(buf, keep_raw) {
        Ok(Record::Span(mut s)) => {
            s.line = number;
            Some(Record::Span(s))
        }
        Ok(r) => Some(r),
        Err(e) => {
            diag.warn(name, number, format_args!("{e}; skipped"));
            None
        }
    }
}

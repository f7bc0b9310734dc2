//! A human-readable tree per trace on stdout or stderr, or one JSON object per line.
//!
//! ```text
//! customer-support  trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff  group thread-42  1.20s
//! └─ agent Triage  1.10s  tools: lookup_invoice · handoffs: Billing
//!    ├─ guardrail no_pii  5µs  passed
//!    ├─ generation gpt-4o-mini  12.3ms  in 12 / out 5 tokens
//!    ├─ function lookup_invoice  812µs  ✗ timeout
//!    └─ handoff Triage → Billing  3µs
//! ```
//!
//! ## Buffering (tree format)
//! A trace's spans arrive before its trace item, which is sent when the trace ends, possibly
//! across several batches. The exporter keeps the spans per trace and prints the tree when the
//! trace item arrives. Spans that arrive after their trace was printed (work spawned by the
//! trace that outlived it) are printed as a short `late spans of trace_…` block at the end of the
//! export call that delivered them. On [`force_flush`](TracingExporter::force_flush) and
//! [`shutdown`](TracingExporter::shutdown), traces that have not ended are printed with what is
//! buffered, marked `(trace still running)`. At most
//! [`max_buffered_spans`](ConsoleExporterBuilder::max_buffered_spans) spans are held (10,000 by
//! default); past that, the oldest traces are printed early, marked as such.
//!
//! ## Colour
//! ANSI colours are used when the target is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>); [`ConsoleExporterBuilder::color`] forces them on or off (forcing on
//! wins over `NO_COLOR`, as an explicit setting should). A custom writer gets no colour unless
//! forced. Errors are red, names bold, durations dim.

mod buffer;
mod render;

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, MutexGuard};

use agent_trace::{BoxFuture, ExportError, ExportItem, TracingExporter};

use buffer::TreeBuffer;
use render::Style;

/// What the console exporter prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsoleFormat {
    /// One tree per trace, printed when the trace ends (the default).
    #[default]
    Tree,
    /// One JSON object per line, the [`ExportItem`] JSON (the OpenAI Agents SDK export shape),
    /// printed as items arrive, without buffering.
    JsonLines,
}

/// Whether to use ANSI colours. `true` and `false` convert to [`Always`](ColorChoice::Always)
/// and [`Never`](ColorChoice::Never).
///
/// ```
/// use agent_trace_exporters::console::ColorChoice;
/// assert_eq!(ColorChoice::from(false), ColorChoice::Never);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour when the target is a terminal and `NO_COLOR` is unset or empty (the default).
    #[default]
    Auto,
    /// Always colour, even when `NO_COLOR` is set or the output is not a terminal.
    Always,
    /// Never colour.
    Never,
}

impl From<bool> for ColorChoice {
    fn from(on: bool) -> Self {
        if on {
            ColorChoice::Always
        } else {
            ColorChoice::Never
        }
    }
}

/// Where the console exporter writes.
enum Target {
    Stdout,
    Stderr,
    Writer(Box<dyn Write + Send>),
}

impl Target {
    fn describe(&self) -> &'static str {
        match self {
            Target::Stdout => "stdout",
            Target::Stderr => "stderr",
            Target::Writer(_) => "the console exporter's writer",
        }
    }

    fn is_terminal(&self) -> bool {
        match self {
            Target::Stdout => std::io::stdout().is_terminal(),
            Target::Stderr => std::io::stderr().is_terminal(),
            Target::Writer(_) => false,
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Target::Stderr => {
                let mut out = std::io::stderr().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Target::Writer(w) => {
                w.write_all(bytes)?;
                w.flush()
            }
        }
    }
}

/// Whether `NO_COLOR` (given its value) allows colour: only when unset or empty.
fn no_color_allows(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_none_or(|v| v.is_empty())
}

fn decide_color(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && no_color_allows(no_color),
    }
}

/// Builds a [`ConsoleExporter`].
///
/// ```
/// use agent_trace_exporters::console::{ConsoleExporter, ConsoleFormat};
/// let exporter = ConsoleExporter::builder()
///     .format(ConsoleFormat::JsonLines)
///     .to_stderr()
///     .color(false)
///     .build();
/// # let _ = exporter;
/// ```
#[must_use = "call .build() to get the exporter"]
pub struct ConsoleExporterBuilder {
    format: ConsoleFormat,
    target: Target,
    color: ColorChoice,
    max_buffered_spans: usize,
}

impl std::fmt::Debug for ConsoleExporterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = match &self.target {
            Target::Stdout => "stdout",
            Target::Stderr => "stderr",
            Target::Writer(_) => "writer",
        };
        f.debug_struct("ConsoleExporterBuilder")
            .field("format", &self.format)
            .field("target", &target)
            .field("color", &self.color)
            .field("max_buffered_spans", &self.max_buffered_spans)
            .finish()
    }
}

impl ConsoleExporterBuilder {
    /// Tree or JSON lines (default [`ConsoleFormat::Tree`]).
    ///
    /// ```
    /// # use agent_trace_exporters::console::{ConsoleExporter, ConsoleFormat};
    /// let _ = ConsoleExporter::builder().format(ConsoleFormat::JsonLines).build();
    /// ```
    pub fn format(mut self, format: ConsoleFormat) -> Self {
        self.format = format;
        self
    }

    /// Writes to standard output (the default).
    ///
    /// ```
    /// let _ = agent_trace_exporters::ConsoleExporter::builder().to_stdout().build();
    /// ```
    pub fn to_stdout(mut self) -> Self {
        self.target = Target::Stdout;
        self
    }

    /// Writes to standard error.
    ///
    /// ```
    /// let _ = agent_trace_exporters::ConsoleExporter::builder().to_stderr().build();
    /// ```
    pub fn to_stderr(mut self) -> Self {
        self.target = Target::Stderr;
        self
    }

    /// Writes to any writer (a file, a buffer in tests). Each export writes its output with one
    /// `write_all` and flushes. No colour unless forced with [`color`](Self::color).
    ///
    /// ```
    /// let _ = agent_trace_exporters::ConsoleExporter::builder().to_writer(std::io::sink()).build();
    /// ```
    pub fn to_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.target = Target::Writer(Box::new(writer));
        self
    }

    /// Colour choice: [`ColorChoice::Auto`] (default), or `true`/`false` to force it.
    ///
    /// ```
    /// use agent_trace_exporters::console::ColorChoice;
    /// let _ = agent_trace_exporters::ConsoleExporter::builder().color(ColorChoice::Auto).color(true).build();
    /// ```
    pub fn color(mut self, choice: impl Into<ColorChoice>) -> Self {
        self.color = choice.into();
        self
    }

    /// The most spans held back waiting for their trace to end (default 10,000, at least 1).
    /// Past it, the oldest buffered traces are printed early.
    ///
    /// ```
    /// let _ = agent_trace_exporters::ConsoleExporter::builder().max_buffered_spans(1_000).build();
    /// ```
    pub fn max_buffered_spans(mut self, n: usize) -> Self {
        self.max_buffered_spans = n.max(1);
        self
    }

    /// Builds the exporter; the colour decision is taken now.
    ///
    /// ```
    /// let _ = agent_trace_exporters::ConsoleExporter::builder().build();
    /// ```
    pub fn build(self) -> ConsoleExporter {
        let no_color = std::env::var_os("NO_COLOR");
        let color = decide_color(self.color, self.target.is_terminal(), no_color.as_deref());
        ConsoleExporter {
            format: self.format,
            style: Style { color },
            state: Mutex::new(State {
                target: self.target,
                buffer: TreeBuffer::new(self.max_buffered_spans),
            }),
        }
    }
}

struct State {
    target: Target,
    buffer: TreeBuffer,
}

/// Prints traces for people: a tree per trace (default) or JSON lines, on stdout, stderr or any
/// writer. See the [module docs](self) for buffering and colour.
///
/// ```
/// use agent_trace::{BatchProcessor, TracerProvider};
/// use agent_trace_exporters::ConsoleExporter;
///
/// let batch = BatchProcessor::new(ConsoleExporter::new());
/// let provider = TracerProvider::builder().with_processor(batch).build();
/// # let _ = provider;
/// ```
pub struct ConsoleExporter {
    format: ConsoleFormat,
    style: Style,
    state: Mutex<State>,
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("format", &self.format)
            .field("color", &self.style.color)
            .finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// A tree per trace on stdout, coloured when stdout is a terminal and `NO_COLOR` is unset.
    ///
    /// ```
    /// let _ = agent_trace_exporters::ConsoleExporter::new();
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts building an exporter: tree format, stdout, automatic colour.
    ///
    /// ```
    /// let _ = agent_trace_exporters::ConsoleExporter::builder().to_stderr().build();
    /// ```
    pub fn builder() -> ConsoleExporterBuilder {
        ConsoleExporterBuilder {
            format: ConsoleFormat::Tree,
            target: Target::Stdout,
            color: ColorChoice::Auto,
            max_buffered_spans: 10_000,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn export_now(&self, batch: &[ExportItem]) -> Result<(), ExportError> {
        let mut state = self.lock();
        let mut out = String::new();
        let mut unserializable = None;
        match self.format {
            ConsoleFormat::Tree => state.buffer.export(batch, self.style, &mut out),
            ConsoleFormat::JsonLines => {
                for item in batch {
                    match serde_json::to_string(item) {
                        Ok(line) => {
                            out.push_str(&line);
                            out.push('\n');
                        }
                        Err(e) => unserializable = Some(e),
                    }
                }
            }
        }
        write_out(&mut state.target, &out)?;
        match unserializable {
            Some(e) => Err(ExportError::permanent(format!(
                "console exporter: an item could not be turned into JSON ({e}); the other items were printed"
            ))),
            None => Ok(()),
        }
    }

    fn flush_now(&self) -> Result<(), ExportError> {
        let mut state = self.lock();
        let mut out = String::new();
        state.buffer.flush(self.style, &mut out);
        write_out(&mut state.target, &out)
    }
}

/// Writes `out`. Failures are permanent: retrying would print the same trees twice, and a closed
/// stdout does not come back.
fn write_out(target: &mut Target, out: &str) -> Result<(), ExportError> {
    if out.is_empty() {
        return Ok(());
    }
    target.write_all(out.as_bytes()).map_err(|e| {
        ExportError::permanent(format!(
            "console exporter cannot write to {}: {e}; check that it is still open (a closed pipe drops the output)",
            target.describe()
        ))
    })
}

impl TracingExporter for ConsoleExporter {
    fn name(&self) -> &str {
        "console"
    }

    fn export<'a>(&'a self, batch: &'a [ExportItem]) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move { self.export_now(batch) })
    }

    fn force_flush(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async move { self.flush_now() })
    }

    fn shutdown(&self) -> BoxFuture<'_, Result<(), ExportError>> {
        Box::pin(async move { self.flush_now() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_rules() {
        assert!(decide_color(ColorChoice::Auto, true, None));
        assert!(decide_color(ColorChoice::Auto, true, Some(OsStr::new(""))));
        assert!(!decide_color(
            ColorChoice::Auto,
            true,
            Some(OsStr::new("1"))
        ));
        assert!(!decide_color(ColorChoice::Auto, false, None));
        assert!(decide_color(
            ColorChoice::Always,
            false,
            Some(OsStr::new("1"))
        ));
        assert!(!decide_color(ColorChoice::Never, true, None));
    }
}

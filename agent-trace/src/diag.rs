//! The SDK's own warnings: to stderr (or a hook), rate-limited per kind of message, so a burst of
//! drops prints one line per interval with a count, never one line per span.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A warning the SDK wants someone to see.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// A short stable key (`"processor_panicked"`, `"spans_dropped"`, …).
    pub key: &'static str,
    /// The text, saying what happened and what to do.
    pub message: String,
    /// How many occurrences this line stands for (since the last line with this key).
    pub count: u64,
}

type Hook = Box<dyn Fn(&Diagnostic) + Send + Sync>;
static HOOK: OnceLock<Hook> = OnceLock::new();

/// Sends the SDK's warnings to `hook` instead of stderr (for example into your logger).
/// Can be set once; later calls return `false`.
///
/// ```
/// let first = agent_trace::set_diagnostics_hook(|d| eprintln!("[tracing] {}", d.message));
/// assert!(first);
/// ```
pub fn set_diagnostics_hook(hook: impl Fn(&Diagnostic) + Send + Sync + 'static) -> bool {
    HOOK.set(Box::new(hook)).is_ok()
}

/// A rate limiter for one kind of warning: the first occurrence is reported at once, later
/// ones at most once per interval, with the count of what was held back.
pub(crate) struct RateLimited {
    key: &'static str,
    interval: Duration,
    pending: AtomicU64,
    last_ms: AtomicU64,
}

fn epoch() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl RateLimited {
    pub(crate) const fn new(key: &'static str, interval: Duration) -> Self {
        RateLimited {
            key,
            interval,
            pending: AtomicU64::new(0),
            last_ms: AtomicU64::new(u64::MAX),
        }
    }

    /// Counts `n` occurrences and reports them if the interval has passed.
    pub(crate) fn hit(&self, n: u64, message: impl FnOnce(u64) -> String) {
        self.pending.fetch_add(n, Ordering::Relaxed);
        let now = epoch().elapsed().as_millis() as u64;
        let last = self.last_ms.load(Ordering::Relaxed);
        let due = last == u64::MAX || now.saturating_sub(last) >= self.interval.as_millis() as u64;
        if due
            && self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.flush(message);
        }
    }

    /// Reports what is still held back (also at shutdown).
    pub(crate) fn flush(&self, message: impl FnOnce(u64) -> String) {
        let count = self.pending.swap(0, Ordering::Relaxed);
        if count > 0 {
            emit(Diagnostic {
                key: self.key,
                message: message(count),
                count,
            });
        }
    }
}

/// Reports a warning the way the SDK reports its own (to the hook, else stderr). For exporters
/// and processors that must not fail but should not stay silent either.
///
/// ```
/// agent_trace::emit_diagnostic(agent_trace::Diagnostic {
///     key: "my_exporter",
///     message: "old file could not be deleted; will retry".into(),
///     count: 1,
/// });
/// ```
pub fn emit_diagnostic(d: Diagnostic) {
    emit(d)
}

pub(crate) fn emit(d: Diagnostic) {
    match HOOK.get() {
        Some(hook) => hook(&d),
        None => eprintln!("agent-trace: {}", d.message),
    }
}

//! The SDK's own warnings: to stderr (or a hook), rate-limited per kind of message, so a burst of
//! drops prints one line per interval with a count, never one line per span.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// A warning said once per process: for a mistake in how the SDK is used, which the first
/// report is enough to find and fix.
pub(crate) struct OnceWarning {
    key: &'static str,
    said: AtomicBool,
}

impl OnceWarning {
    pub(crate) const fn new(key: &'static str) -> Self {
        OnceWarning {
            key,
            said: AtomicBool::new(false),
        }
    }

    /// Reports the warning if it has not been reported yet (one relaxed load after that).
    #[inline]
    pub(crate) fn warn(&self, message: impl FnOnce() -> String) {
        if !self.said.load(Ordering::Relaxed) {
            self.warn_first(message);
        }
    }

    #[cold]
    #[inline(never)]
    fn warn_first(&self, message: impl FnOnce() -> String) {
        if !self.said.swap(true, Ordering::Relaxed) {
            emit(Diagnostic {
                key: self.key,
                message: message(),
                count: 1,
            });
        }
    }
}

/// `agent_trace::trace(..)` ran while no global provider is installed, so nothing is recorded.
/// Said once per process.
// Called from `trace()` (trace.rs) on its no-provider path.
#[cold]
#[inline(never)]
pub(crate) fn warn_no_global_provider() {
    static NO_PROVIDER: OnceWarning = OnceWarning::new("no_global_provider");
    NO_PROVIDER.warn(no_global_provider_message);
}

fn no_global_provider_message() -> String {
    "agent_trace::trace(..) ran with no global provider set, so nothing is recorded: call \
     agent_trace::set_global_provider(&provider) once at startup, or start traces with \
     provider.trace(..). (Said once per process.)"
        .to_owned()
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

/// Test support: every diagnostic of this test binary, kept for inspection (installs the hook
/// on first use; later calls reuse it).
#[cfg(test)]
pub(crate) fn captured() -> &'static std::sync::Mutex<Vec<Diagnostic>> {
    use std::sync::Mutex;
    static SEEN: Mutex<Vec<Diagnostic>> = Mutex::new(Vec::new());
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        assert!(
            set_diagnostics_hook(|d| SEEN.lock().unwrap().push(d.clone())),
            "another unit test installed a diagnostics hook: use diag::captured() instead"
        );
    });
    &SEEN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(key: &str) -> Vec<Diagnostic> {
        captured()
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.key == key)
            .cloned()
            .collect()
    }

    #[test]
    fn once_warning_is_said_once() {
        static W: OnceWarning = OnceWarning::new("test_once_warning");
        let _ = captured();
        for i in 0..3 {
            W.warn(|| format!("occurrence {i}"));
        }
        let seen = said("test_once_warning");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].message, "occurrence 0");
        assert_eq!(seen[0].count, 1);
    }

    #[test]
    fn no_global_provider_warning_names_the_fix_once() {
        // The process-wide warning may already have been said by another test; a fresh one
        // of the same kind shows what it says and that it says it once.
        static W: OnceWarning = OnceWarning::new("test_no_global_provider");
        let _ = captured();
        W.warn(no_global_provider_message);
        W.warn(no_global_provider_message);
        warn_no_global_provider();
        let seen = said("test_no_global_provider");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            seen[0].message.contains("set_global_provider(&provider)"),
            "{seen:?}"
        );
        assert!(said("no_global_provider").len() <= 1);
    }
}

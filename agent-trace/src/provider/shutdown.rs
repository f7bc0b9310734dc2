//! What happens when a provider's last reference goes, and at process exit: processors are
//! flushed and shut down, bounded, without blocking a runtime thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::global::global_provider;
use super::ProviderInner;
use crate::processor::TracingProcessor;

impl Drop for ProviderInner {
    /// The last reference is gone: each processor's [`TracingProcessor::on_provider_drop`]
    /// (by default: shut down; a shared `BatchProcessor` only flushes) runs within
    /// `drop_timeout` in all. On a Tokio runtime thread the work moves to a thread of its own,
    /// so that the drop neither blocks the runtime nor needs it; the exit hook waits for such
    /// threads (bounded), so a provider dropped at the end of `#[tokio::main]` still delivers.
    fn drop(&mut self) {
        if self.processors.is_empty() {
            return;
        }
        let processors = std::mem::take(&mut self.processors);
        let timeout = self.drop_timeout;
        if !on_runtime_thread() {
            shut_down_all(&processors, timeout);
            return;
        }
        register_exit_flush();
        PENDING_DROPS.started();
        let spawned = std::thread::Builder::new()
            .name("agent-trace-drop".into())
            .spawn(move || {
                shut_down_all(&processors, timeout);
                PENDING_DROPS.finished();
            });
        if let Err(e) = spawned {
            PENDING_DROPS.finished();
            crate::diag::emit(crate::diag::Diagnostic {
                key: "provider_drop",
                message: format!("a dropped provider could not start its shutdown thread ({e}); its processors were not flushed — call shutdown() before dropping it"),
                count: 1,
            });
        }
    }
}

/// Shutdowns of dropped providers still running on their own threads; the exit hook waits
/// for them.
struct PendingDrops {
    count: std::sync::Mutex<usize>,
    done: std::sync::Condvar,
}

static PENDING_DROPS: PendingDrops = PendingDrops {
    count: std::sync::Mutex::new(0),
    done: std::sync::Condvar::new(),
};

impl PendingDrops {
    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn started(&self) {
        *self.lock() += 1;
    }

    fn finished(&self) {
        let mut n = self.lock();
        *n = n.saturating_sub(1);
        self.done.notify_all();
    }

    /// Waits until none is running, or until `deadline`.
    fn wait(&self, deadline: Instant) {
        let mut n = self.lock();
        while *n > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            n = match self.done.wait_timeout(n, left) {
                Ok((n, _)) => n,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// Runs each processor's drop hook one after the other, sharing one deadline.
fn shut_down_all(processors: &[Arc<dyn TracingProcessor>], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    for p in processors {
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = match catch_unwind(AssertUnwindSafe(|| p.on_provider_drop(left))) {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(payload) => format!("it panicked: {}", crate::panic_message(&*payload)),
        };
        crate::diag::emit(crate::diag::Diagnostic {
            key: "provider_drop",
            message: format!("shutting down a dropped provider's processor failed: {failure}"),
            count: 1,
        });
    }
}

/// Whether this thread runs a Tokio runtime (a worker, or a thread inside `block_on`).
#[cfg(feature = "tokio")]
fn on_runtime_thread() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Without the `tokio` feature no Tokio runtime can be detected.
#[cfg(not(feature = "tokio"))]
fn on_runtime_thread() -> bool {
    false
}

/// The bound on the shutdown of the global provider at process exit.
pub const EXIT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Registers, once, the C `atexit` hook that shuts the global provider down.
pub(super) fn register_exit_flush() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: `atexit` takes a plain `extern "C" fn()` that lives for the process; ours
        // never unwinds (it catches panics) and only uses the global provider, which is never
        // freed.
        if unsafe { libc::atexit(shut_down_global_at_exit) } != 0 {
            crate::diag::emit(crate::diag::Diagnostic {
                key: "exit_hook",
                message: "could not register the exit hook that flushes the global provider; await force_flush() before exiting".to_owned(),
                count: 1,
            });
        }
    });
}

/// Runs at process exit: shuts the global provider down (flushing what it holds) and waits for
/// the shutdowns of dropped providers still running on their own threads, all within
/// [`EXIT_FLUSH_TIMEOUT`].
extern "C" fn shut_down_global_at_exit() {
    let _ = catch_unwind(|| {
        let deadline = Instant::now() + EXIT_FLUSH_TIMEOUT;
        if let Some(provider) = global_provider() {
            if let Err(e) = provider.shutdown_blocking(EXIT_FLUSH_TIMEOUT) {
                eprintln!("agent-trace: flushing at exit: {e}");
            }
        }
        PENDING_DROPS.wait(deadline);
    });
}

//! Calls into an exporter, isolated from its panics.
//!
//! Every call a lane makes into its exporter goes through [`PanicGuard::call`]: the synchronous
//! call (`export()`, `force_flush()`, `shutdown()`, which may panic before returning a future),
//! each poll of the future it returns, and the drop of that future, each under
//! [`std::panic::catch_unwind`]. A panic becomes an error carrying its message, is counted in
//! the lane's `panics`, and is reported as one rate-limited diagnostic line naming the exporter.
//!
//! ## The panic hook
//! The process's panic hook runs for every panic, caught or not: the default one prints the
//! message and, with `RUST_BACKTRACE=1`, a full backtrace. An exporter that panics on every
//! batch would print a backtrace per batch. So:
//! - an exporter's first panic goes through the hook as usual (message and backtrace, useful to
//!   whoever fixes the exporter);
//! - after it, the guard installs, once per process, a hook that wraps the one in place and
//!   skips it while a thread-local flag is set; the guard sets that flag only on a lane's
//!   thread, only around calls into an exporter that has already panicked, and clears it after.
//!   Every other panic, on any thread, goes to the previous hook unchanged.
//!
//! A hook installed later by the application replaces ours (then panics are printed again,
//! nothing else changes). The hook is only touched once some exporter has panicked.

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::diag::RateLimited;
use crate::processor::BoxFuture;

use super::LaneCounters;

thread_local! {
    /// Set while this thread calls into an exporter whose panics are not to reach the hook.
    static SILENCED: Cell<bool> = const { Cell::new(false) };
}

/// Installs the filtering hook, once per process (see the module's documentation).
fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // `try_with`: a panic while this thread's locals are torn down is still printed.
            if !SILENCED.try_with(Cell::get).unwrap_or(false) {
                previous(info);
            }
        }));
    });
}

/// Sets [`SILENCED`] for its lifetime (if asked to), restoring the previous value after.
struct Silence(Option<bool>);

impl Silence {
    fn new(silence: bool) -> Silence {
        Silence(silence.then(|| SILENCED.with(|s| s.replace(true))))
    }
}

impl Drop for Silence {
    fn drop(&mut self) {
        if let Some(before) = self.0 {
            SILENCED.with(|s| s.set(before));
        }
    }
}

/// One lane's guard: whether its exporter has panicked before, and its report.
pub(crate) struct PanicGuard {
    exporter: String,
    panicked_before: AtomicBool,
    report: RateLimited,
    /// The last panic, for the report still held back at shutdown.
    last: Mutex<Option<(&'static str, String)>>,
}

impl PanicGuard {
    pub(crate) fn new(exporter: &str) -> PanicGuard {
        PanicGuard {
            exporter: exporter.to_owned(),
            panicked_before: AtomicBool::new(false),
            report: RateLimited::new("exporter_panicked", Duration::from_secs(10)),
            last: Mutex::new(None),
        }
    }

    /// Runs `f` under `catch_unwind`, silenced if the exporter panicked before.
    fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T, String> {
        let _silence = Silence::new(self.panicked_before.load(Ordering::Relaxed));
        catch_unwind(AssertUnwindSafe(f)).map_err(|p| crate::panic_message(&*p))
    }

    /// Calls the exporter (`what` names the call: `"export"`, `"force_flush"`, `"shutdown"`)
    /// and awaits the future it returns, both isolated from panics. A panic is counted and
    /// reported, and returned as its message.
    pub(crate) async fn call<'a, T>(
        &self,
        counters: &LaneCounters,
        what: &'static str,
        make: impl FnOnce() -> BoxFuture<'a, T>,
    ) -> Result<T, String> {
        let result = match self.run(make) {
            Ok(fut) => {
                Guarded {
                    guard: self,
                    fut: Some(fut),
                }
                .await
            }
            Err(message) => Err(message),
        };
        if let Err(message) = &result {
            self.panicked(counters, what, message);
        }
        result
    }

    fn panicked(&self, counters: &LaneCounters, what: &'static str, message: &str) {
        LaneCounters::add(&counters.panics, 1);
        if !self.panicked_before.swap(true, Ordering::Relaxed) {
            install_hook();
        }
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((what, message.to_owned()));
        let name = &self.exporter;
        self.report.hit(1, |c| panic_report(name, c, what, message));
    }

    /// Reports the panics still held back by the rate limit (at shutdown).
    pub(crate) fn flush_report(&self) {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((what, message)) = last {
            self.report
                .flush(|c| panic_report(&self.exporter, c, what, &message));
        }
    }
}

fn panic_report(exporter: &str, count: u64, what: &str, message: &str) -> String {
    format!(
        "exporter {exporter} panicked {count} time(s) since the last report, last in {what}(): \
         {message}; the panic was caught (its batch is counted in dropped_export_failed, a \
         flush or shutdown returns an error), the exporter keeps being called, and its later \
         panics print no backtrace — fix the exporter"
    )
}

/// The exporter's future, each poll and its drop under the guard.
struct Guarded<'g, 'a, T> {
    guard: &'g PanicGuard,
    fut: Option<BoxFuture<'a, T>>,
}

impl<T> Future for Guarded<'_, '_, T> {
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(Err("polled after completion".to_owned()));
        };
        match this.guard.run(|| fut.as_mut().poll(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => {
                this.drop_future();
                Poll::Ready(Ok(v))
            }
            Err(message) => {
                this.drop_future();
                Poll::Ready(Err(message))
            }
        }
    }
}

impl<T> Guarded<'_, '_, T> {
    /// Drops the exporter's future; a panic in its destructor is swallowed (it was run for a
    /// batch whose outcome is already known, or abandoned on a timeout).
    fn drop_future(&mut self) {
        if let Some(fut) = self.fut.take() {
            let _ = self.guard.run(move || drop(fut));
        }
    }
}

impl<T> Drop for Guarded<'_, '_, T> {
    fn drop(&mut self) {
        self.drop_future();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::BoxFuture;

    fn panics_now() -> BoxFuture<'static, u32> {
        panic!("sync bug")
    }

    #[tokio::test]
    async fn a_panic_before_or_inside_the_future_is_an_error_and_counted() {
        let guard = PanicGuard::new("e");
        let counters = LaneCounters::default();
        let r = guard.call(&counters, "export", panics_now).await;
        assert_eq!(r, Err("sync bug".to_owned()));
        let r: Result<u32, String> = guard
            .call(&counters, "export", || {
                Box::pin(async { panic!("async bug") })
            })
            .await;
        assert_eq!(r, Err("async bug".to_owned()));
        let r = guard
            .call(&counters, "export", || Box::pin(async { 7 }))
            .await;
        assert_eq!(r, Ok(7));
        assert_eq!(counters.panics.load(Ordering::Relaxed), 2);
        // The flag is cleared after each call: other panics on this thread reach the hook.
        assert!(!SILENCED.with(Cell::get));
    }

    #[test]
    fn silence_restores_what_was_there() {
        {
            let _outer = Silence::new(true);
            {
                let _inner = Silence::new(false);
                assert!(SILENCED.with(Cell::get));
            }
            assert!(SILENCED.with(Cell::get));
        }
        assert!(!SILENCED.with(Cell::get));
    }
}

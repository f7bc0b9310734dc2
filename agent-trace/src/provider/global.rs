//! The global provider and the global on/off switch.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

use super::shutdown::register_exit_flush;
use super::{ProviderInner, ProviderRef, TracerProvider};

static GLOBAL: AtomicPtr<ProviderInner> = AtomicPtr::new(std::ptr::null_mut());

/// Installs `provider` as the one [`trace`](crate::trace()) uses. Traces already running keep the
/// provider they started with.
///
/// The global provider lives for the rest of the process (its spans skip the reference count).
/// At a normal exit — `main` returning, or [`std::process::exit`] — it is shut down, which
/// flushes what was ended before, within [`EXIT_FLUSH_TIMEOUT`](crate::EXIT_FLUSH_TIMEOUT) (5 s), as the OpenAI Agents
/// SDK does with its exit hook. Nothing runs on `abort`, a fatal signal, or a panic with
/// `panic = "abort"`: await [`TracerProvider::force_flush`] where losing the tail matters.
///
/// ```
/// let p = agent_trace::TracerProvider::builder().build();
/// agent_trace::set_global_provider(&p);
/// assert!(agent_trace::global_provider().is_some());
/// ```
pub fn set_global_provider(provider: &TracerProvider) {
    provider.inner.pin();
    GLOBAL.store(provider.inner.ptr.as_ptr(), Ordering::Release);
    register_exit_flush();
}

/// The globally installed provider, if any.
///
/// ```
/// let _maybe = agent_trace::global_provider();
/// ```
pub fn global_provider() -> Option<TracerProvider> {
    let p = NonNull::new(GLOBAL.load(Ordering::Acquire))?;
    // SAFETY: GLOBAL only ever holds null or the pointer of a provider pinned before it was
    // stored (`set_global_provider`), which is never freed.
    Some(TracerProvider {
        inner: unsafe { ProviderRef::from_pinned(p) },
    })
}

/// 0 = not read yet, 1 = on, 2 = off.
static GLOBAL_SWITCH: AtomicU8 = AtomicU8::new(0);

fn env_says_disabled() -> bool {
    ["AGENT_TRACE_DISABLED", "OTEL_SDK_DISABLED"]
        .iter()
        .any(|k| {
            std::env::var(k)
                .map(|v| {
                    matches!(
                        v.trim().to_ascii_lowercase().as_str(),
                        "1" | "true" | "yes" | "on"
                    )
                })
                .unwrap_or(false)
        })
}

/// Whether tracing is on globally: off when [`set_enabled`]`(false)` was called, or, until
/// then, when `AGENT_TRACE_DISABLED` or `OTEL_SDK_DISABLED` is `true`, `1`, `yes` or `on`
/// in any case. The variables are read once: at the first provider build or the first call of
/// this function, whichever comes first; set them before either.
///
/// ```
/// let _on = agent_trace::is_enabled();
/// ```
#[inline]
pub fn is_enabled() -> bool {
    // One compare on the path that records; off and not-yet-read share the other branch.
    let s = GLOBAL_SWITCH.load(Ordering::Relaxed);
    s == 1 || (s == 0 && read_switch_from_env())
}

/// The global switch as span starts check it: one compare, "on" only. A switch not read yet
/// counts as off here, which is right because every provider reads it when it is built
/// (`TracerProviderBuilder::build`), and a span only records under a position, which only a
/// provider makes.
#[inline(always)]
pub(crate) fn switch_read_on() -> bool {
    GLOBAL_SWITCH.load(Ordering::Relaxed) == 1
}

/// First use: the environment decides, once.
#[cold]
#[inline(never)]
fn read_switch_from_env() -> bool {
    let on = !env_says_disabled();
    let _ = GLOBAL_SWITCH.compare_exchange(
        0,
        if on { 1 } else { 2 },
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    GLOBAL_SWITCH.load(Ordering::Relaxed) == 1
}

#[inline]
pub(super) fn globally_enabled() -> bool {
    is_enabled()
}

/// Switches all tracing on or off, overriding the environment variables. Off, traces and spans
/// are no-ops that cost a few nanoseconds; code that nests them keeps working.
///
/// ```
/// agent_trace::set_enabled(true);
/// assert!(agent_trace::is_enabled());
/// ```
pub fn set_enabled(on: bool) {
    GLOBAL_SWITCH.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

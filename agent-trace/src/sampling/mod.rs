//! Sampling and selective tracing: which traces and spans are recorded at all.
//!
//! Three stages, each optional, each counted:
//!
//! 1. **Head sampling** ([`Sampler`]): decided once, when a trace starts (or when a remote trace
//!    is continued), from the trace id, its metadata and the caller's sampled flag. A trace not
//!    sampled still has a context (its trace id travels in an outgoing `traceparent` with the
//!    sampled flag off, see [`Context::is_sampled`](crate::Context::is_sampled) and
//!    [`current_sampled`]), but its spans take the same no-op path as spans outside any trace.
//!    Set with [`TracerProviderBuilder::sampler`](crate::TracerProviderBuilder::sampler), or by
//!    `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` when the code sets none
//!    ([`sampler_from_env`]).
//! 2. **Selective tracing** ([`SpanFilter`]): span kinds and name patterns switched off; a
//!    dropped span records nothing and its children attach to the nearest kept ancestor. Set
//!    with [`TracerProviderBuilder::span_filter`](crate::TracerProviderBuilder::span_filter) or
//!    `AGENT_TRACE_SPAN_KINDS` / `AGENT_TRACE_SPAN_FILTER`.
//! 3. **Tail sampling** ([`TailSampler`]): a processor wrapper that holds a trace's spans until
//!    the trace ends and then keeps or drops the whole trace by [`TailPolicy`] rules, in bounded
//!    memory.
//!
//! Head and filter decisions are counted in [`TracerProvider::sampling_stats`](crate::TracerProvider::sampling_stats);
//! tail decisions in [`TailSampler::stats`].
//!
//! ```
//! use agent_trace::sampling::{ParentBased, TraceIdRatio};
//! use agent_trace::{testing::CollectingProcessor, TracerProvider};
//!
//! let spans = CollectingProcessor::new();
//! let provider = TracerProvider::builder()
//!     .sampler(ParentBased::new(TraceIdRatio::new(0.0)))
//!     .with_processor(spans.clone())
//!     .build();
//! provider.trace("wf").in_scope(|| agent_trace::custom_span("x").in_scope(|| {}));
//! assert!(spans.spans().is_empty());
//! assert_eq!(provider.sampling_stats().traces_not_sampled, 1);
//! ```

pub(crate) mod env;
mod filter;
mod head;
mod tail;
mod tail_policy;

use std::sync::atomic::{AtomicU64, Ordering};

pub use env::{sampler_from_env, span_filter_from_env, SamplingEnvError};
pub use filter::SpanFilter;
pub use head::{
    AlwaysOff, AlwaysOn, ParentBased, PriorityRule, PrioritySampler, Sampler, SamplingParams,
    TraceIdRatio,
};
pub use tail::{TailSampler, TailStats};
pub use tail_policy::TailPolicy;

/// Whether the code running now is in a trace that is sampled (recorded): `Some(true)` in a
/// sampled trace, `Some(false)` in a trace a head sampler dropped, `None` outside any trace.
/// A propagation helper writes it as the sampled flag of an outgoing `traceparent`.
///
/// ```
/// assert_eq!(agent_trace::sampling::current_sampled(), None);
/// ```
#[inline]
pub fn current_sampled() -> Option<bool> {
    crate::context::current_sampled()
}

/// Counters of a provider's head sampler and span filter; see
/// [`TracerProvider::sampling_stats`](crate::TracerProvider::sampling_stats).
///
/// Every trace started on an enabled provider is counted once, in `traces_sampled` or
/// `traces_not_sampled`; every span that a [`SpanFilter`] dropped, in `spans_filtered`.
/// Spans inside a trace that was not sampled are not counted one by one (they cost what a span
/// outside any trace costs); their trace is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SamplingStats {
    /// Traces (local roots and continued remote traces) the head sampler kept.
    pub traces_sampled: u64,
    /// Traces the head sampler dropped.
    pub traces_not_sampled: u64,
    /// Spans the span filter dropped (their children went to the nearest kept ancestor).
    pub spans_filtered: u64,
}

/// The provider's counters (see [`SamplingStats`]).
#[derive(Debug, Default)]
pub(crate) struct SamplingCounters {
    pub(crate) traces_sampled: AtomicU64,
    pub(crate) traces_not_sampled: AtomicU64,
    pub(crate) spans_filtered: AtomicU64,
}

impl SamplingCounters {
    #[inline]
    pub(crate) fn count_trace(&self, sampled: bool) {
        let c = if sampled {
            &self.traces_sampled
        } else {
            &self.traces_not_sampled
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SamplingStats {
        SamplingStats {
            traces_sampled: self.traces_sampled.load(Ordering::Relaxed),
            traces_not_sampled: self.traces_not_sampled.load(Ordering::Relaxed),
            spans_filtered: self.spans_filtered.load(Ordering::Relaxed),
        }
    }
}

/// Whether a value in `[0, 2^56)` derived from `bits` falls under `ratio` (deterministic: the
/// same id gives the same answer in every process, as OpenTelemetry's trace-id ratio sampler).
#[inline]
pub(crate) fn ratio_keeps(bits: u64, ratio: f64) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    if ratio.is_nan() || ratio <= 0.0 {
        return false;
    }
    const SCALE: f64 = (1u64 << 56) as f64;
    let threshold = (ratio * SCALE) as u64;
    (bits & ((1u64 << 56) - 1)) < threshold
}

/// A `*`-wildcard match (`search_*`, `*_tool`, `*health*`, `exact`).
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        return rest.is_empty(); // no `*` at all: exact match
    };
    for mid in parts {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("search_*", "search_web"));
        assert!(!glob_match("search_*", "web_search"));
        assert!(glob_match("*_tool", "lookup_tool"));
        assert!(glob_match("*health*", "a_healthcheck"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(!glob_match("ab*ba", "aba"));
    }

    #[test]
    fn ratio_bounds() {
        assert!(ratio_keeps(u64::MAX, 1.0));
        assert!(!ratio_keeps(0, 0.0));
        assert!(!ratio_keeps(0, f64::NAN));
        assert!(ratio_keeps(0, 0.5));
        assert!(!ratio_keeps((1u64 << 56) - 1, 0.5));
        let kept = (0..10_000u64)
            .filter(|i| ratio_keeps(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), 0.25))
            .count();
        assert!((2_000..3_000).contains(&kept), "{kept}");
    }
}

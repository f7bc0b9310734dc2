//! A span started where no trace is current: one start + end per iteration. (opentelemetry
//! and tracing have no such state: a span without a parent starts a new trace, see `root`.)
//!
//! The `no_current_trace` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

use std::hint::black_box;
use std::sync::LazyLock;

use divan::Bencher;

use crate::systems::*;

/// Iterations per sample for every bench of this group. It is set on each bench because
/// `#[divan::bench_group]` cannot take a module kept in its own file; divan applies both
/// the same way (the run's own `sample_size`, in quick mode, still overrides it).
const SAMPLE_SIZE: u32 = 4096;

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace(b: Bencher) {
    LazyLock::force(&AT);
    b.bench_local(|| drop(black_box(agent_trace::custom_span(black_box("x")))));
}

/// A `#[traced]` sync function outside any trace.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace_traced_fn(b: Bencher) {
    LazyLock::force(&AT);
    b.bench_local(|| at_traced_nest(black_box(0)));
}

/// `LocalSpan::enter_with_local_parent` with no local parent.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn fastrace_local_span(b: Bencher) {
    LazyLock::force(&FASTRACE);
    b.bench_local(|| {
        drop(black_box(
            fastrace::local::LocalSpan::enter_with_local_parent(black_box("x")),
        ))
    });
}

/// `Span::enter_with_local_parent` with no local parent.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn fastrace_span(b: Bencher) {
    LazyLock::force(&FASTRACE);
    b.bench_local(|| {
        drop(black_box(fastrace::Span::enter_with_local_parent(
            black_box("x"),
        )))
    });
}

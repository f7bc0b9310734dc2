//! agent-trace only: 10 nested sync spans per iteration inside a trace and root span that stay
//! open (the per-span cost without the per-trace cost). Time per span = median / 10.
//!
//! The `nested_10_in_open_trace` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

use std::hint::black_box;
use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::Bencher;

use crate::systems::*;

/// Iterations per sample for every bench of this group. It is set on each bench because
/// `#[divan::bench_group]` cannot take a module kept in its own file; divan applies both
/// the same way (the run's own `sample_size`, in quick mode, still overrides it).
const SAMPLE_SIZE: u32 = 32;

#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace(b: Bencher) {
    let at = &*AT;
    let trace = at.provider.trace("bench").start();
    let _cx = trace.context().attach();
    agent_trace::custom_span("root").in_scope(|| {
        b.counter(ItemsCount::new(10u32)).bench_local(|| {
            at_nest(black_box(10));
            made(&MADE_AT, 10);
        });
    });
    made(&MADE_AT, 1);
}

/// The same on a provider with no processor: the span machinery (ids, clock, context)
/// without the hand-off to the batch pipeline.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace_no_processor(b: Bencher) {
    static BARE: LazyLock<agent_trace::TracerProvider> =
        LazyLock::new(|| agent_trace::TracerProvider::builder().build().leak());
    let trace = BARE.trace("bench").start();
    let _cx = trace.context().attach();
    agent_trace::custom_span("root").in_scope(|| {
        b.counter(ItemsCount::new(10u32))
            .bench_local(|| at_nest(black_box(10)));
    });
}

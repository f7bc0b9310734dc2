//! A root future with 10 awaited async child spans per iteration, on a current-thread Tokio
//! runtime (`block_on` per iteration): 11 spans. Time per span = median / 11.
//!
//! The `async_root_plus_10` group of the `spans` bench (entry and `main`: `benches/spans.rs`).

use std::hint::black_box;
use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::Bencher;

use crate::systems::*;

/// Iterations per sample for every bench of this group. It is set on each bench because
/// `#[divan::bench_group]` cannot take a module kept in its own file; divan applies both
/// the same way (the run's own `sample_size`, in quick mode, still overrides it).
const SAMPLE_SIZE: u32 = 32;

/// The same futures and `block_on` with no tracing: the floor under every row here.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn baseline_no_tracing(b: Bencher) {
    async fn leaf() {}
    let rt = &*RT;
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        rt.block_on(async {
            for _ in 0..black_box(10) {
                leaf().await
            }
        })
    });
}

/// `#[traced]` async fns under a root span attached with `.in_span()`, in a new trace.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn agent_trace(b: Bencher) {
    LazyLock::force(&AT);
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        at_async_root_plus_10();
        made(&MADE_AT, 11);
    });
}

/// `#[fastrace::trace]` async fns under a root `Span` attached with `in_span`.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn fastrace(b: Bencher) {
    LazyLock::force(&FASTRACE);
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        fr_async_root_plus_10();
        made(&MADE_FASTRACE, 11);
    });
}

/// Spans made current for each future with `FutureExt::with_context`.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn opentelemetry_sdk(b: Bencher) {
    LazyLock::force(&OTEL);
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        otel_async_root_plus_10();
        made(&MADE_OTEL, 11);
    });
}

/// `#[instrument]` async fns under a root span attached with `.instrument()`.
#[divan::bench(sample_size = SAMPLE_SIZE)]
fn tracing_opentelemetry(b: Bencher) {
    use tracing::Instrument as _;
    LazyLock::force(&TRACING);
    let rt = &*RT;
    b.counter(ItemsCount::new(11u32)).bench_local(|| {
        rt.block_on(
            async {
                for _ in 0..black_box(10) {
                    tr_leaf().await
                }
            }
            .instrument(tracing::info_span!("root")),
        );
        made(&MADE_TRACING, 11);
    });
}

//! What the provider's privacy stage costs at span end: a function span recording its input
//! in an open trace, without redaction, with the built-in [`Redactor`] on text that holds no
//! secret (the literal prefilter skips every regex) and on text that holds one; and the
//! redactor alone on 10 KiB of text.
//!
//! ```text
//! cargo bench -p agent-trace-benches --bench redaction
//! AGENT_TRACE_BENCH_QUICK=1 cargo test -p agent-trace-benches --bench redaction   # quick check
//! ```
//!
//! The spans go to a processor that drops them, so the rows measure recording, the privacy
//! stage and the span's end, not an export pipeline.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::LazyLock;

use agent_trace::privacy::Redactor;
use agent_trace::{Record, SpanRecord, TracerProvider, TracingProcessor};
use divan::Bencher;

const CLEAN: &str = "where is my refund for invoice 42? I paid on the 3rd with my usual card";
const SECRET: &str = "where is my refund? my key is sk-proj-abcdefghijklmnopqrstuvwxyz012345";

/// Drops every span.
struct Discard;

impl TracingProcessor for Discard {
    fn on_span_end(&self, span: &SpanRecord) {
        black_box(span);
    }
    fn wants_span_start(&self) -> bool {
        false
    }
}

fn provider(redact: bool) -> TracerProvider {
    let mut b = TracerProvider::builder()
        .include_sensitive_data(true)
        .with_processor(Discard);
    if redact {
        b = b.redactor(Redactor::new());
    }
    b.build().leak()
}

static PLAIN: LazyLock<TracerProvider> = LazyLock::new(|| provider(false));
static REDACTING: LazyLock<TracerProvider> = LazyLock::new(|| provider(true));
static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::new);

fn one_span(b: Bencher, provider: &TracerProvider, input: &'static str) {
    provider.trace("bench").in_scope(|| {
        b.bench_local(|| {
            let mut s = agent_trace::function_span("lookup_invoice");
            s.set_input(black_box(input));
        })
    });
}

#[divan::bench]
fn span_without_redaction(b: Bencher) {
    one_span(b, &PLAIN, SECRET);
}

#[divan::bench]
fn span_redacted_clean_input(b: Bencher) {
    one_span(b, &REDACTING, CLEAN);
}

#[divan::bench]
fn span_redacted_secret_input(b: Bencher) {
    one_span(b, &REDACTING, SECRET);
}

fn ten_kib(with_secret: bool) -> String {
    let mut text = CLEAN.repeat(10 * 1024 / CLEAN.len());
    if with_secret {
        text.push_str(" Bearer abcdefghijklmnopqrstuvwxyz ");
    }
    text
}

#[divan::bench]
fn redact_str_10kib_clean(b: Bencher) {
    let text = ten_kib(false);
    b.bench_local(|| REDACTOR.redact_str(black_box(&text)));
}

#[divan::bench]
fn redact_str_10kib_one_secret(b: Bencher) {
    let text = ten_kib(true);
    b.bench_local(|| REDACTOR.redact_str(black_box(&text)));
}

fn main() {
    let mut divan = divan::Divan::from_args();
    if common::quick() {
        divan = divan.sample_count(5).sample_size(20);
    }
    divan.main();
}

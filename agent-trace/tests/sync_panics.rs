//! Panics through nested synchronous scopes (`in_scope`, `#[traced]` sync fns): every span a
//! panic unwinds through ends with the panic's message, innermost first, and its context is
//! taken off, whether the outermost catching level is a scope or an instrumented poll. Only that
//! outermost level catches the panic; the inner ones hand their spans to it.

mod common;

use agent_trace::{custom_span, Context, Instrument};

fn nested_scopes(n: u32) {
    custom_span("level").in_scope(|| {
        if n == 0 {
            panic!("deep failure");
        }
        nested_scopes(n - 1)
    })
}

#[agent_trace::traced(kind = "custom", name = "level")]
fn nested_traced(n: u32) {
    if n == 0 {
        panic!("deep failure");
    }
    nested_traced(n - 1)
}

#[test]
fn a_panic_through_nested_scopes_ends_each_with_its_message_innermost_first() {
    let forms: [fn(u32); 2] = [nested_scopes, nested_traced];
    for form in forms {
        let (provider, seen) = common::collecting();
        let outside = Context::current().span_id();
        provider.trace("deep").in_scope(|| {
            let caught = std::panic::catch_unwind(|| form(20));
            assert!(caught.is_err(), "the panic goes on");
            assert_eq!(Context::current().span_id(), outside, "contexts taken off");
        });
        let spans = seen.spans();
        assert_eq!(spans.len(), 21);
        common::assert_all_carry(&spans, "deep failure");
        common::assert_innermost_first(&spans);
    }
}

#[test]
fn sync_scopes_inside_an_instrumented_future_hand_their_spans_to_its_poll() {
    use futures::FutureExt;
    let (provider, seen) = common::collecting();
    let caught = futures::executor::block_on(provider.trace("mixed").run(async {
        std::panic::AssertUnwindSafe(async { nested_scopes(5) }.in_span(custom_span("outer")))
            .catch_unwind()
            .await
    }));
    assert!(caught.is_err());
    let spans = seen.spans();
    assert_eq!(spans.len(), 7, "six scopes and the future's span");
    common::assert_all_carry(&spans, "deep failure");
    common::assert_innermost_first(&spans);
    assert_eq!(spans.last().unwrap().data.name(), Some("outer"));
}

#[test]
fn a_panic_caught_between_scopes_ends_the_scopes_it_went_through() {
    let (provider, seen) = common::collecting();
    provider.trace("deep").in_scope(|| {
        custom_span("outer").in_scope(|| {
            let caught = std::panic::catch_unwind(|| nested_scopes(3));
            assert!(caught.is_err());
            // The outer span is current again, and later spans go under it.
            assert!(Context::current().span_id().is_some());
            custom_span("after").end();
        })
    });
    // The panic was caught before the outermost catching level saw it: "panicked".
    common::assert_caught_between_levels(&seen.spans(), 4);
}

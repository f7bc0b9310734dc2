use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;

use super::*;
use crate::testing::CollectingProcessor;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn said(key: &str) -> usize {
    crate::diag::captured()
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.key == key)
        .count()
}

#[test]
fn inject_then_extract_continues_the_callers_span() {
    let spans = CollectingProcessor::new();
    let provider = TracerProvider::builder()
        .with_processor(spans.clone())
        .build();
    let mut carrier = HashMap::new();
    let state = TraceState::parse("vendor=abc").unwrap();
    let (trace, caller) = provider.trace("a").in_scope(|| {
        let span = crate::custom_span("call-b");
        let ids = (span.trace_id().unwrap(), span.id().unwrap());
        span.in_scope(|| inject_with_state(&Context::current(), &state, &mut carrier));
        ids
    });
    assert_eq!(
        carrier[TRACEPARENT],
        format_traceparent(trace, caller, true),
        "sampled while a trace is current"
    );
    let remote = extract(&carrier).unwrap();
    assert_eq!(remote.state, state);
    remote
        .context(&provider)
        .run(|| crate::custom_span("server").in_scope(|| {}));
    let server = spans
        .spans()
        .into_iter()
        .find(|s| s.data.name() == Some("server"))
        .unwrap();
    assert_eq!((server.trace_id, server.parent_id), (trace, Some(caller)));
}

#[test]
fn nothing_is_injected_outside_a_span() {
    let provider = TracerProvider::builder().build();
    let mut carrier = BTreeMap::new();
    inject_current(&mut carrier);
    provider
        .trace("root-only")
        .in_scope(|| inject_current(&mut carrier));
    assert!(carrier.is_empty(), "{carrier:?}");
}

#[test]
fn carriers_find_other_spellings_and_repeated_tracestate() {
    let map = HashMap::from([("Traceparent".to_owned(), TP.to_owned())]);
    assert!(extract(&map).is_some());
    let list = vec![
        ("traceparent".to_owned(), TP.to_owned()),
        ("tracestate".to_owned(), "a=1".to_owned()),
        ("TraceState".to_owned(), "b=2".to_owned()),
    ];
    assert_eq!(extract(&list).unwrap().state.to_string(), "a=1,b=2");
    let mut out: Vec<(String, String)> = Vec::new();
    out.set("traceparent", "x".into());
    out.set("traceparent", "y".into());
    assert_eq!(out, [("traceparent".to_owned(), "y".to_owned())]);
}

#[test]
fn malformed_headers_are_ignored_with_a_diagnostic() {
    let _ = crate::diag::captured();
    let bad = HashMap::from([("traceparent".to_owned(), "00-zz-00-01".to_owned())]);
    assert_eq!(extract(&bad), None);
    assert!(said("malformed_traceparent") >= 1);

    let twice = vec![
        ("traceparent".to_owned(), TP.to_owned()),
        ("traceparent".to_owned(), TP.to_owned()),
    ];
    assert_eq!(
        extract(&twice),
        None,
        "two traceparents make the context invalid"
    );

    let bad_state = HashMap::from([
        ("traceparent".to_owned(), TP.to_owned()),
        ("tracestate".to_owned(), "Not Valid".to_owned()),
    ]);
    let remote = extract(&bad_state).unwrap();
    assert!(remote.state.is_empty(), "the tracestate is dropped");
    assert_eq!(remote.parent, parse_traceparent(TP).unwrap());
    assert!(said("malformed_tracestate") >= 1);
}

proptest! {
    #[test]
    fn extract_never_panics_on_arbitrary_headers(
        tp in proptest::option::of("\\PC{0,80}"),
        ts in proptest::collection::vec("\\PC{0,80}", 0..3),
    ) {
        // The first malformed header of this binary goes to the captured diagnostics (the
        // later ones within the interval are counted into it), whichever test sends it.
        let _ = crate::diag::captured();
        let mut carrier: Vec<(String, String)> = Vec::new();
        if let Some(tp) = tp {
            carrier.push(("traceparent".into(), tp));
        }
        for s in ts {
            carrier.push(("tracestate".into(), s));
        }
        if let Some(remote) = extract(&carrier) {
            // What was accepted formats back to headers that parse to the same thing.
            let header = format_traceparent(remote.parent.trace_id, remote.parent.parent_id, remote.parent.sampled);
            prop_assert_eq!(parse_traceparent(&header), Ok(remote.parent));
            prop_assert_eq!(TraceState::parse(&remote.state.to_string()), Ok(remote.state));
        }
    }
}

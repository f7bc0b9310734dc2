//! `http::HeaderMap` as a propagation carrier.

use agent_trace::propagation::{self, Extractor, Injector, RemoteContext, TraceState};
use agent_trace::Context;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Reads propagation headers from an [`http::HeaderMap`].
#[derive(Debug, Clone, Copy)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

/// A header value that is not visible ASCII, which no propagation header can be: it reaches
/// the parser as this text, fails there and is reported like any other malformed header.
const NOT_ASCII: &str = "<header value is not visible ASCII>";

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.to_str().unwrap_or(NOT_ASCII))
    }

    fn get_all(&self, key: &str) -> Vec<&str> {
        self.0
            .get_all(key)
            .iter()
            .map(|v| v.to_str().unwrap_or(NOT_ASCII))
            .collect()
    }
}

/// Writes propagation headers into an [`http::HeaderMap`] (replacing earlier values).
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // Our keys are valid header names and our values visible ASCII; anything else is
        // skipped rather than sent half-formed.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Writes `cx`'s `traceparent` (and `state` as `tracestate` when not empty) into `headers`.
/// Nothing is written outside a trace or at a trace's root; see
/// [`agent_trace::propagation::inject`].
///
/// ```
/// use agent_trace_http::{inject_headers, TraceState};
/// let provider = agent_trace::TracerProvider::builder().build();
/// let mut headers = http::HeaderMap::new();
/// provider.trace("wf").in_scope(|| agent_trace::custom_span("call").in_scope(|| {
///     inject_headers(&agent_trace::Context::current(), &TraceState::new(), &mut headers);
/// }));
/// assert!(headers.contains_key("traceparent"));
/// ```
pub fn inject_headers(cx: &Context, state: &TraceState, headers: &mut HeaderMap) {
    propagation::inject_with_state(cx, state, &mut HeaderInjector(headers));
}

/// Reads the caller's position from `headers`; `None` without a valid `traceparent` (a
/// malformed one is reported as a diagnostic and ignored). Several `tracestate` headers are
/// read as one list.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// let remote = agent_trace_http::extract_headers(&headers).unwrap();
/// assert!(remote.parent.sampled);
/// ```
pub fn extract_headers(headers: &HeaderMap) -> Option<RemoteContext> {
    propagation::extract(&HeaderExtractor(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn repeated_tracestate_headers_are_one_list() {
        let mut h = HeaderMap::new();
        h.insert("traceparent", HeaderValue::from_static(TP));
        h.append("tracestate", HeaderValue::from_static("a=1"));
        h.append("tracestate", HeaderValue::from_static("b=2"));
        let remote = extract_headers(&h).unwrap();
        assert_eq!(remote.state.to_string(), "a=1,b=2");
        let mut out = HeaderMap::new();
        let provider = agent_trace::TracerProvider::builder().build();
        remote.context(&provider).run(|| {
            agent_trace::custom_span("s")
                .in_scope(|| inject_headers(&Context::current(), &remote.state, &mut out))
        });
        assert_eq!(out.get_all("tracestate").iter().count(), 1);
        assert_eq!(out["tracestate"], "a=1,b=2");
        let sent = propagation::parse_traceparent(out["traceparent"].to_str().unwrap()).unwrap();
        assert_eq!(sent.trace_id, remote.parent.trace_id);
        assert_ne!(
            sent.parent_id, remote.parent.parent_id,
            "our span is the new parent"
        );
    }

    #[test]
    fn non_ascii_and_doubled_traceparents_are_ignored() {
        let mut h = HeaderMap::new();
        h.insert("traceparent", HeaderValue::from_bytes(b"00-\xff").unwrap());
        assert_eq!(extract_headers(&h), None);
        let mut h = HeaderMap::new();
        h.append("traceparent", HeaderValue::from_static(TP));
        h.append("traceparent", HeaderValue::from_static(TP));
        assert_eq!(extract_headers(&h), None);
    }

    proptest::proptest! {
        /// Any bytes a header value can hold, in any number of propagation headers: extraction
        /// never panics, and what it accepts re-injects to headers that extract the same.
        #[test]
        fn extraction_never_panics_on_arbitrary_header_bytes(
            parents in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..90), 0..3),
            states in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..90), 0..3),
        ) {
            let mut h = HeaderMap::new();
            for (name, values) in [("traceparent", parents), ("tracestate", states)] {
                for v in values {
                    if let Ok(v) = HeaderValue::from_bytes(&v) {
                        h.append(name, v);
                    }
                }
            }
            if let Some(remote) = extract_headers(&h) {
                let mut again = HeaderMap::new();
                let mut inj = HeaderInjector(&mut again);
                inj.set("traceparent", propagation::format_traceparent(
                    remote.parent.trace_id, remote.parent.parent_id, remote.parent.sampled));
                if !remote.state.is_empty() {
                    inj.set("tracestate", remote.state.to_string());
                }
                proptest::prop_assert_eq!(extract_headers(&again), Some(remote));
            }
        }
    }
}

//! W3C Trace Context: the `traceparent` and `tracestate` headers, to continue a trace across
//! processes.
//!
//! The sending side injects the current position into a carrier (HTTP headers, a message's
//! metadata, any string map) with [`inject_current`]; the receiving side extracts it with
//! [`extract`] and starts its spans in [`RemoteContext::context`], which makes them children of
//! the caller's span, in the caller's trace. `agent-trace-http` does both for `http::HeaderMap`,
//! `reqwest` and `tower`/axum.
//!
//! ```
//! use std::collections::HashMap;
//! use agent_trace::propagation::{extract, inject};
//! use agent_trace::TracerProvider;
//!
//! let provider = TracerProvider::builder().build();
//! let mut carrier = HashMap::new();
//! provider.trace("caller").in_scope(|| {
//!     agent_trace::custom_span("call").in_scope(|| {
//!         inject(&agent_trace::Context::current(), &mut carrier);
//!     });
//! });
//! let remote = extract(&carrier).expect("a traceparent was injected");
//! let cx = remote.context(&provider); // spans started in `cx` continue the caller's trace
//! assert_eq!(cx.trace_id(), Some(remote.parent.trace_id));
//! ```
//!
//! Malformed headers are ignored (the carrier is treated as if it had none) and reported once
//! in a while as a [`Diagnostic`](crate::Diagnostic) with key `malformed_traceparent` or
//! `malformed_tracestate`; nothing here panics on any input.

mod carrier;
mod traceparent;
mod tracestate;

pub use carrier::{Extractor, Injector};
pub use traceparent::{format_traceparent, parse_traceparent, TraceParent, TraceparentError};
pub use tracestate::{TraceState, TracestateError, MAX_TRACESTATE_ENTRIES};

use std::time::Duration;

use crate::diag::RateLimited;
use crate::model::SpanLink;
use crate::provider::TracerProvider;
use crate::Context;

/// The `traceparent` header's name (lowercase, as HTTP/2 sends it).
pub const TRACEPARENT: &str = "traceparent";
/// The `tracestate` header's name.
pub const TRACESTATE: &str = "tracestate";

/// A caller's position, as read from a carrier by [`extract`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteContext {
    /// The caller's trace, span and sampling flag.
    pub parent: TraceParent,
    /// The caller's vendor entries (empty when none came, or they were malformed).
    pub state: TraceState,
}

impl RemoteContext {
    /// The position under the caller's span on `provider`: spans started in it are children of
    /// the remote span, in the remote trace. The caller's sampled flag goes to the provider's
    /// sampler (the default, parent-based, records nothing under a caller that did not sample).
    ///
    /// ```
    /// use agent_trace::propagation::{parse_traceparent, RemoteContext, TraceState};
    /// let parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    /// let remote = RemoteContext { parent, state: TraceState::new() };
    /// let cx = remote.context(&agent_trace::TracerProvider::builder().build());
    /// assert_eq!(cx.span_id(), Some(parent.parent_id));
    /// ```
    pub fn context(&self, provider: &TracerProvider) -> Context {
        Context::remote_sampled(
            provider,
            self.parent.trace_id,
            Some(self.parent.parent_id),
            self.parent.sampled,
        )
    }

    /// A link to the caller's span, for work that follows from it without being part of it
    /// (a queued job, a batch consumer): start a span in a trace of its own and link it with
    /// [`Span::with_link`](crate::Span::with_link).
    ///
    /// ```
    /// use agent_trace::propagation::{parse_traceparent, RemoteContext, TraceState};
    /// let parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    /// let link = RemoteContext { parent, state: TraceState::new() }.link();
    /// assert_eq!((link.trace_id, link.span_id), (parent.trace_id, parent.parent_id));
    /// ```
    pub fn link(&self) -> SpanLink {
        SpanLink::new(self.parent.trace_id, self.parent.parent_id)
    }
}

static MALFORMED_TRACEPARENT: RateLimited =
    RateLimited::new("malformed_traceparent", Duration::from_secs(10));
static MALFORMED_TRACESTATE: RateLimited =
    RateLimited::new("malformed_tracestate", Duration::from_secs(10));

/// Reads the caller's position from `carrier`: `None` when it has no `traceparent`, or a
/// malformed one (reported as a diagnostic, then ignored: the receiver starts a fresh trace
/// instead). A malformed `tracestate` is dropped the same way and the `traceparent` still
/// counts, as the W3C specification asks.
///
/// ```
/// use std::collections::HashMap;
/// let carrier = HashMap::from([(
///     "traceparent".to_string(),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
/// )]);
/// let remote = agent_trace::propagation::extract(&carrier).unwrap();
/// assert!(remote.parent.sampled);
/// assert!(agent_trace::propagation::extract(&HashMap::<String, String>::new()).is_none());
/// ```
pub fn extract<E: Extractor + ?Sized>(carrier: &E) -> Option<RemoteContext> {
    let parents = carrier.get_all(TRACEPARENT);
    let parent = match parents.as_slice() {
        [] => return None,
        [one] => match parse_traceparent(one) {
            Ok(p) => p,
            Err(e) => {
                MALFORMED_TRACEPARENT.hit(1, |n| {
                    format!(
                        "ignored {n} incoming traceparent header(s) ({e}); those requests start \
                         new traces: fix the caller's propagation"
                    )
                });
                return None;
            }
        },
        _ => {
            MALFORMED_TRACEPARENT.hit(1, |n| {
                format!(
                    "ignored {n} incoming request(s) with several traceparent headers; those \
                     requests start new traces: send one traceparent header"
                )
            });
            return None;
        }
    };
    let states = carrier.get_all(TRACESTATE);
    let state = if states.is_empty() {
        TraceState::new()
    } else {
        match TraceState::parse(&states.join(",")) {
            Ok(s) => s,
            Err(e) => {
                MALFORMED_TRACESTATE.hit(1, |n| {
                    format!(
                        "dropped {n} incoming tracestate header(s) ({e}); the traceparent was \
                         kept: fix the caller's tracestate"
                    )
                });
                TraceState::new()
            }
        }
    };
    Some(RemoteContext { parent, state })
}

/// The sampled flag of an outgoing `traceparent` for the position `cx`: the trace's head
/// sampling decision ([`Context::is_sampled`]), so the next service keeps or drops the same
/// traces (with a parent-based sampler, the default).
///
/// ```
/// assert!(!agent_trace::propagation::outgoing_sampled(&agent_trace::Context::current()));
/// ```
pub fn outgoing_sampled(cx: &Context) -> bool {
    cx.is_sampled()
}

/// Writes `cx`'s `traceparent` into `carrier`. Nothing is written outside a trace or at a
/// trace's root (there is no span to be the remote parent): start a span around the call.
///
/// ```
/// use std::collections::BTreeMap;
/// let mut headers = BTreeMap::new();
/// agent_trace::propagation::inject(&agent_trace::Context::current(), &mut headers);
/// assert!(headers.is_empty()); // no trace is current here
/// ```
pub fn inject<I: Injector + ?Sized>(cx: &Context, carrier: &mut I) {
    inject_with_state(cx, &TraceState::new(), carrier)
}

/// Writes `cx`'s `traceparent` and, when not empty, `state` as `tracestate` (for example the
/// state received with the request being served, which a service forwards unchanged).
///
/// ```
/// use std::collections::HashMap;
/// use agent_trace::propagation::{inject_with_state, TraceState};
/// let provider = agent_trace::TracerProvider::builder().build();
/// let state = TraceState::parse("vendor=abc").unwrap();
/// let mut headers = HashMap::new();
/// provider.trace("wf").in_scope(|| agent_trace::custom_span("call").in_scope(|| {
///     inject_with_state(&agent_trace::Context::current(), &state, &mut headers);
/// }));
/// assert_eq!(headers["tracestate"], "vendor=abc");
/// ```
pub fn inject_with_state<I: Injector + ?Sized>(cx: &Context, state: &TraceState, carrier: &mut I) {
    let Some(header) = cx.traceparent() else {
        return;
    };
    carrier.set(TRACEPARENT, header);
    if !state.is_empty() {
        carrier.set(TRACESTATE, state.to_string());
    }
}

/// [`inject`] with the position of the running code.
///
/// ```
/// let mut headers = std::collections::HashMap::new();
/// agent_trace::propagation::inject_current(&mut headers);
/// assert!(headers.is_empty());
/// ```
pub fn inject_current<I: Injector + ?Sized>(carrier: &mut I) {
    inject(&Context::current(), carrier)
}

#[cfg(test)]
mod tests;

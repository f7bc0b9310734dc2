//! The W3C `traceparent` header: parse and format.

use crate::id::{SpanId, TraceId};

/// A parsed `traceparent` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace to continue.
    pub trace_id: TraceId,
    /// The caller's span: the parent of spans made here.
    pub parent_id: SpanId,
    /// The caller's sampling decision (flag `01`).
    pub sampled: bool,
}

/// Why a `traceparent` header was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceparentError {
    /// Not `version-traceid-parentid-flags` with the W3C lengths.
    #[error("malformed traceparent `{0}`: expected 00-<32 hex>-<16 hex>-<2 hex>")]
    Malformed(String),
    /// Version `ff` is invalid per the specification.
    #[error("traceparent version ff is invalid")]
    InvalidVersion,
    /// An all-zero trace or parent id.
    #[error("traceparent with an all-zero trace or parent id")]
    ZeroId,
}

/// Renders a `traceparent` header (version 00).
///
/// ```
/// use agent_trace::{propagation::format_traceparent, SpanId, TraceId};
/// let h = format_traceparent(TraceId::from_u128(1).unwrap(), SpanId::from_u64(2).unwrap(), false);
/// assert_eq!(h, "00-00000000000000000000000000000001-0000000000000002-00");
/// ```
pub fn format_traceparent(trace_id: TraceId, parent_id: SpanId, sampled: bool) -> String {
    format!(
        "00-{}-{}-{}",
        trace_id.to_hex(),
        parent_id.to_hex(),
        if sampled { "01" } else { "00" }
    )
}

/// Parses a `traceparent` header. Future versions (not `00`, not `ff`) are read by their first
/// four fields, as the specification asks.
///
/// ```
/// assert!(agent_trace::propagation::parse_traceparent("garbage").is_err());
/// ```
pub fn parse_traceparent(header: &str) -> Result<TraceParent, TraceparentError> {
    let malformed = || TraceparentError::Malformed(header.chars().take(80).collect());
    let h = header.trim();
    let mut parts = h.split('-');
    let (Some(version), Some(trace), Some(parent), Some(flags)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    if !hex(version, 2) || !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2) {
        return Err(malformed());
    }
    if version == "ff" {
        return Err(TraceparentError::InvalidVersion);
    }
    if version == "00" && parts.next().is_some() {
        return Err(malformed());
    }
    let trace_id = TraceId::from_hex(trace).map_err(|_| TraceparentError::ZeroId)?;
    let parent_id = SpanId::from_hex(parent).map_err(|_| TraceparentError::ZeroId)?;
    let flags = u8::from_str_radix(flags, 16).map_err(|_| malformed())?;
    Ok(TraceParent {
        trace_id,
        parent_id,
        sampled: flags & 1 == 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_what_the_spec_rejects() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(parse_traceparent(bad).is_err(), "{bad}");
        }
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever";
        assert!(parse_traceparent(future).is_ok());
    }

    proptest! {
        #[test]
        fn round_trip(t in 1u128.., s in 1u64.., sampled: bool) {
            let (t, s) = (TraceId::from_u128(t).unwrap(), SpanId::from_u64(s).unwrap());
            let p = parse_traceparent(&format_traceparent(t, s, sampled)).unwrap();
            prop_assert_eq!((p.trace_id, p.parent_id, p.sampled), (t, s, sampled));
        }

        #[test]
        fn never_panics(h in "\\PC{0,80}") {
            let _ = parse_traceparent(&h);
        }
    }
}

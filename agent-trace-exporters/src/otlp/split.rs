//! Keeping requests under a size limit: a batch whose request would pass it is packed into
//! several requests, and a single span that alone would pass it has its largest attribute
//! values cut, each with a marker saying how much was kept.
//!
//! Sizes are those of the encoded, uncompressed body (protobuf or JSON, whichever is sent),
//! counted exactly per span plus a fixed allowance for the resource and scope around them.

use agent_trace::ExportItem;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::Protocol;

/// Room for the length prefixes of the enclosing messages, which grow with their contents.
const SLACK: usize = 32;

/// A string value shorter than this is never cut (the marker alone is about this long).
const MIN_CUT: usize = 96;

/// The start of the marker that ends a cut value.
const MARK: &str = "…[truncated by agent-trace: ";

/// `N` in a marker `…[truncated by agent-trace: K of N bytes kept]`.
fn original_len(marker: &str) -> Option<usize> {
    marker
        .strip_prefix(MARK)?
        .split(" of ")
        .nth(1)?
        .strip_suffix(" bytes kept]")?
        .parse()
        .ok()
}

/// Tells a batch offered again (after a transient failure, or replayed from the spool) from
/// another: its length and the ids of its first and last items (random 64- and 128-bit ids).
pub(crate) fn fingerprint(batch: &[ExportItem]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    batch.len().hash(&mut h);
    for item in [batch.first(), batch.last()].into_iter().flatten() {
        match item {
            ExportItem::Span(s) => (0u8, s.trace_id, s.id).hash(&mut h),
            ExportItem::Trace(t) => (1u8, t.id, item.is_trace_start()).hash(&mut h),
            // `ExportItem` is non-exhaustive: a kind added later counts by its length only.
            #[allow(unreachable_patterns)]
            _ => 2u8.hash(&mut h),
        }
    }
    h.finish()
}

/// A request without its spans: the resource and scope every part repeats.
pub(crate) struct Shell(ExportTraceServiceRequest);

impl Shell {
    /// Takes the spans out of `request` (built with one resource and one scope).
    pub(crate) fn split(mut request: ExportTraceServiceRequest) -> (Shell, Vec<Span>) {
        let spans = request
            .resource_spans
            .iter_mut()
            .flat_map(|rs| rs.scope_spans.iter_mut())
            .flat_map(|ss| std::mem::take(&mut ss.spans))
            .collect();
        (Shell(request), spans)
    }

    /// A request holding `spans`.
    pub(crate) fn with(&self, spans: Vec<Span>) -> ExportTraceServiceRequest {
        let mut request = self.0.clone();
        if let Some(ss) = request
            .resource_spans
            .first_mut()
            .and_then(|rs| rs.scope_spans.first_mut())
        {
            ss.spans = spans;
        }
        request
    }

    /// The spans of a request made by [`with`](Self::with), back.
    pub(crate) fn take(request: ExportTraceServiceRequest) -> Vec<Span> {
        Shell::split(request).1
    }

    /// The bytes of the request without spans.
    fn overhead(&self, protocol: Protocol) -> usize {
        match protocol {
            Protocol::HttpProtobuf => self.0.encoded_len(),
            Protocol::HttpJson => serde_json::to_vec(&self.0).map_or(0, |v| v.len()),
        }
    }
}

/// The bytes one span adds to a request.
fn span_size(span: &Span, protocol: Protocol) -> usize {
    match protocol {
        // Field tag, length prefix (at most 5 bytes), the message.
        Protocol::HttpProtobuf => span.encoded_len() + 6,
        // The object and a comma.
        Protocol::HttpJson => serde_json::to_vec(span).map_or(0, |v| v.len()) + 1,
    }
}

/// The spans in order, in parts whose requests each fit `limit` bytes; a span that alone would
/// not fit has its largest string attributes cut first. Returns the parts and how many spans
/// were cut.
pub(crate) fn pack(
    shell: &Shell,
    spans: Vec<Span>,
    limit: usize,
    protocol: Protocol,
) -> (Vec<Vec<Span>>, usize) {
    let budget = limit.saturating_sub(shell.overhead(protocol) + SLACK);
    let mut parts: Vec<Vec<Span>> = Vec::new();
    let mut current: Vec<Span> = Vec::new();
    let mut used = 0;
    let mut cut = 0;
    for mut span in spans {
        let mut size = span_size(&span, protocol);
        if size > budget {
            if truncate(&mut span, budget, protocol) {
                cut += 1;
            }
            size = span_size(&span, protocol);
        }
        if !current.is_empty() && used + size > budget {
            parts.push(std::mem::take(&mut current));
            used = 0;
        }
        used += size;
        current.push(span);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    (parts, cut)
}

/// Cuts the largest string attribute values of `span` (its own and its events') until it adds
/// at most `budget` bytes to a request, or nothing long enough is left to cut. Each cut value
/// ends with `…[truncated by agent-trace: K of N bytes kept]`. Returns whether anything was cut.
pub(crate) fn truncate(span: &mut Span, budget: usize, protocol: Protocol) -> bool {
    let mut cut_any = false;
    // Each round sheds at least the excess from one value (JSON escapes can leave some over).
    for _ in 0..256 {
        let size = span_size(span, protocol);
        if size <= budget {
            break;
        }
        let Some(value) = largest_string(span) else {
            break;
        };
        // A value cut in an earlier round: cut its text again, keep its original length.
        let (text_len, original) = match value.rfind(MARK) {
            Some(at) => (at, original_len(&value[at..]).unwrap_or(at)),
            None => (value.len(), value.len()),
        };
        if text_len < MIN_CUT {
            break;
        }
        // Bytes to shed, with room for the marker.
        let excess = size - budget + MARK.len() + 32;
        let mut at = text_len.saturating_sub(excess);
        while !value.is_char_boundary(at) {
            at -= 1;
        }
        value.truncate(at);
        value.push_str(&format!("{MARK}{at} of {original} bytes kept]"));
        cut_any = true;
    }
    cut_any
}

/// The longest string value among the span's attributes and its events' attributes.
fn largest_string(span: &mut Span) -> Option<&mut String> {
    let attrs = span
        .attributes
        .iter_mut()
        .chain(span.events.iter_mut().flat_map(|e| e.attributes.iter_mut()));
    attrs
        .filter_map(
            |kv: &mut KeyValue| match kv.value.as_mut()?.value.as_mut()? {
                any_value::Value::StringValue(s) => Some(s),
                _ => None,
            },
        )
        .max_by_key(|s| s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::attrs::kv_str;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

    fn shell() -> Shell {
        Shell(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans::default()],
                ..ResourceSpans::default()
            }],
        })
    }

    fn span(i: u8, value_len: usize) -> Span {
        Span {
            span_id: vec![i; 8],
            trace_id: vec![1; 16],
            name: format!("s{i}"),
            attributes: vec![
                kv_str("small", "x"),
                kv_str("big", "é".repeat(value_len / 2)),
            ],
            ..Span::default()
        }
    }

    fn encoded(shell: &Shell, spans: Vec<Span>, protocol: Protocol) -> usize {
        let request = shell.with(spans);
        match protocol {
            Protocol::HttpProtobuf => request.encode_to_vec().len(),
            Protocol::HttpJson => serde_json::to_vec(&request).unwrap().len(),
        }
    }

    #[test]
    fn parts_fit_the_limit_and_keep_every_span_in_order() {
        for protocol in [Protocol::HttpProtobuf, Protocol::HttpJson] {
            let s = shell();
            let spans: Vec<Span> = (0..50).map(|i| span(i, 900)).collect();
            let (parts, cut) = pack(&s, spans, 8 * 1024, protocol);
            assert_eq!(cut, 0);
            assert!(parts.len() > 4, "{}", parts.len());
            let ids: Vec<u8> = parts.iter().flatten().map(|s| s.span_id[0]).collect();
            assert_eq!(ids, (0..50).collect::<Vec<u8>>());
            for part in parts {
                let n = encoded(&s, part, protocol);
                assert!(n <= 8 * 1024, "{protocol:?}: {n}");
            }
        }
    }

    #[test]
    fn a_span_over_the_limit_has_its_largest_value_cut_with_a_marker() {
        for protocol in [Protocol::HttpProtobuf, Protocol::HttpJson] {
            let s = shell();
            let (parts, cut) = pack(&s, vec![span(7, 100_000)], 4 * 1024, protocol);
            assert_eq!((parts.len(), cut), (1, 1));
            let one = &parts[0][0];
            assert_eq!(one.name, "s7");
            let values: Vec<String> = one
                .attributes
                .iter()
                .map(
                    |kv| match kv.value.as_ref().unwrap().value.as_ref().unwrap() {
                        any_value::Value::StringValue(s) => s.clone(),
                        _ => unreachable!(),
                    },
                )
                .collect();
            assert_eq!(values[0], "x");
            assert!(
                values[1].contains("[truncated by agent-trace:")
                    && values[1].contains("of 100000 bytes kept]"),
                "{}",
                &values[1][values[1].len() - 60..]
            );
            assert!(encoded(&s, parts[0].clone(), protocol) <= 4 * 1024);
        }
    }
}

//! The protobuf request body written straight from the records: the same bytes as
//! `build_request(..).encode_to_vec()`, without building a prost `Span` (and its ~30 strings
//! and vectors) per span. The mapping is shared: [`mapping::attributes`] writes each
//! attribute through [`Attrs`], here as an encoded `KeyValue`.
//!
//! Only the common span shape is written here (no error, no links); a span with an error or
//! links, and a trace's workflow span, are built as prost messages and encoded by prost. The
//! tests check the bytes against prost's encoding of `build_request` for every span kind.
//!
//! A length-delimited message is written after a placeholder for its length (the size the
//! length usually takes); when the length needs another size, the message is moved by the
//! difference, so every length stays in its shortest form, as prost writes it.

use agent_trace::{ExportItem, SpanRecord};
use prost::encoding::{encoded_len_varint, message, WireType};
use serde_json::{Map, Value};

use super::attrs::{Attrs, Scalar};
use super::json_text;
use super::mapping::{self, MappingConfig, TraceGroups};

/// A field key (every field written here has a number under 16: one byte).
#[inline(always)]
fn encode_key(tag: u32, wire_type: WireType, buf: &mut Vec<u8>) {
    debug_assert!(tag < 16);
    buf.push(((tag << 3) | wire_type as u32) as u8);
}

/// A varint; most are lengths under 16,384, one or two bytes.
#[inline(always)]
fn encode_varint(value: u64, buf: &mut Vec<u8>) {
    if value < 0x80 {
        buf.push(value as u8);
    } else if value < 0x4000 {
        buf.extend_from_slice(&[(value as u8) | 0x80, (value >> 7) as u8]);
    } else {
        prost::encoding::encode_varint(value, buf);
    }
}

// Field numbers, from opentelemetry/proto/{collector/trace,trace,resource,common}/v1/*.proto.
const REQUEST_RESOURCE_SPANS: u32 = 1;
const RESOURCE_SPANS_RESOURCE: u32 = 1;
const RESOURCE_SPANS_SCOPE_SPANS: u32 = 2;
const RESOURCE_ATTRIBUTES: u32 = 1;
const SCOPE_SPANS_SCOPE: u32 = 1;
const SCOPE_SPANS_SPANS: u32 = 2;
const SPAN_TRACE_ID: u32 = 1;
const SPAN_SPAN_ID: u32 = 2;
const SPAN_PARENT_SPAN_ID: u32 = 4;
const SPAN_NAME: u32 = 5;
const SPAN_KIND: u32 = 6;
const SPAN_START_TIME: u32 = 7;
const SPAN_END_TIME: u32 = 8;
const SPAN_ATTRIBUTES: u32 = 9;
const SPAN_STATUS: u32 = 15;
const KEY_VALUE_KEY: u32 = 1;
const KEY_VALUE_VALUE: u32 = 2;
const ANY_VALUE_STRING: u32 = 1;
const ANY_VALUE_BOOL: u32 = 2;
const ANY_VALUE_INT: u32 = 3;
const ANY_VALUE_DOUBLE: u32 = 4;
const ANY_VALUE_ARRAY: u32 = 5;
const ARRAY_VALUE_VALUES: u32 = 1;

/// Appends the `ExportTraceServiceRequest` for `batch` to `buf`.
pub(crate) fn encode_request(
    batch: &[ExportItem],
    config: &MappingConfig,
    groups: &mut TraceGroups,
    buf: &mut Vec<u8>,
) {
    groups.start_all(batch);
    let groups = &*groups;
    // The last span's trace and group id: a trace's spans often come one after the other.
    let mut last: Option<(agent_trace::TraceId, Option<&String>)> = None;
    let mut conversation = |trace| match last {
        Some((t, group)) if t == trace => group,
        _ => {
            let group = groups.get(&trace);
            last = Some((trace, group));
            group
        }
    };
    nested(buf, REQUEST_RESOURCE_SPANS, 3, |buf| {
        nested(buf, RESOURCE_SPANS_RESOURCE, 1, |buf| {
            for kv in &config.resource {
                message::encode(RESOURCE_ATTRIBUTES, kv, buf);
            }
        });
        nested(buf, RESOURCE_SPANS_SCOPE_SPANS, 3, |buf| {
            message::encode(SCOPE_SPANS_SCOPE, &mapping::scope(), buf);
            for item in batch {
                match item {
                    ExportItem::Trace(_) if item.is_trace_start() => {}
                    ExportItem::Trace(t) => {
                        message::encode(SCOPE_SPANS_SPANS, &mapping::workflow_span(t), buf);
                    }
                    ExportItem::Span(s) if s.error.is_some() || !s.links.is_empty() => {
                        let span = mapping::map_span(s, config, groups.get(&s.trace_id));
                        message::encode(SCOPE_SPANS_SPANS, &span, buf);
                    }
                    ExportItem::Span(s) => {
                        span(buf, s, config, conversation(s.trace_id));
                    }
                }
            }
        });
    });
}

/// A span without error or links, as `mapping::map_span` would make it.
fn span(
    buf: &mut Vec<u8>,
    record: &SpanRecord,
    config: &MappingConfig,
    conversation: Option<&String>,
) {
    nested(buf, SCOPE_SPANS_SPANS, 2, |buf| {
        bytes(buf, SPAN_TRACE_ID, &record.trace_id.to_bytes());
        bytes(buf, SPAN_SPAN_ID, &record.id.to_bytes());
        bytes(
            buf,
            SPAN_PARENT_SPAN_ID,
            &mapping::parent(record).to_bytes(),
        );
        let (name, kind) = mapping::name_kind(&record.data);
        if name.len() > 0 {
            encode_key(SPAN_NAME, WireType::LengthDelimited, buf);
            encode_varint(name.len() as u64, buf);
            name.write(buf);
        }
        if kind as i32 != 0 {
            encode_key(SPAN_KIND, WireType::Varint, buf);
            encode_varint(kind as i32 as u64, buf);
        }
        let (start, end) = mapping::times(record);
        fixed64(buf, SPAN_START_TIME, start);
        fixed64(buf, SPAN_END_TIME, end);
        let mut attrs = Writer(buf);
        mapping::attributes(&record.data, config, &mut attrs);
        mapping::common_attrs(record, conversation, &mut attrs);
        // `status: Some(Status::default())`: present, empty.
        encode_key(SPAN_STATUS, WireType::LengthDelimited, buf);
        encode_varint(0, buf);
    });
}

/// Writes field `tag` as a length-delimited message whose contents `body` appends; `guess`
/// is the size its length usually takes.
fn nested(buf: &mut Vec<u8>, tag: u32, guess: usize, body: impl FnOnce(&mut Vec<u8>)) {
    encode_key(tag, WireType::LengthDelimited, buf);
    let at = buf.len();
    buf.resize(at + guess, 0);
    body(buf);
    let len = buf.len() - at - guess;
    let need = encoded_len_varint(len as u64);
    if need > guess {
        buf.resize(buf.len() + need - guess, 0);
        buf.copy_within(at + guess..at + guess + len, at + need);
    } else if need < guess {
        buf.copy_within(at + guess..at + guess + len, at + need);
        buf.truncate(at + need + len);
    }
    // The length, in `need` bytes (the last without the continuation bit).
    let mut rest = len;
    for (i, b) in buf[at..at + need].iter_mut().enumerate() {
        *b = if i + 1 < need {
            (rest as u8) | 0x80
        } else {
            rest as u8
        };
        rest >>= 7;
    }
}

/// A `bytes` field (left out when empty, as proto3 does).
fn bytes(buf: &mut Vec<u8>, tag: u32, value: &[u8]) {
    if !value.is_empty() {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(value.len() as u64, buf);
        buf.extend_from_slice(value);
    }
}

/// A `fixed64` field (left out when zero).
fn fixed64(buf: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        encode_key(tag, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// The size of a length-delimited field of `len` bytes with a one-byte key.
fn delimited(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

/// The size of an `AnyValue` holding `value`.
fn scalar_len(value: Scalar<'_>) -> usize {
    match value {
        Scalar::Str(s) => delimited(s.len()),
        Scalar::Bool(_) => 2,
        Scalar::Int(i) => 1 + encoded_len_varint(i as u64),
        Scalar::Double(_) => 9,
    }
}

/// The contents of an `AnyValue` holding `value` (a oneof field: written even when zero).
fn write_scalar(buf: &mut Vec<u8>, value: Scalar<'_>) {
    match value {
        Scalar::Str(s) => string(buf, s.as_bytes()),
        Scalar::Bool(b) => {
            encode_key(ANY_VALUE_BOOL, WireType::Varint, buf);
            buf.push(u8::from(b));
        }
        Scalar::Int(i) => {
            encode_key(ANY_VALUE_INT, WireType::Varint, buf);
            encode_varint(i as u64, buf);
        }
        Scalar::Double(d) => {
            encode_key(ANY_VALUE_DOUBLE, WireType::SixtyFourBit, buf);
            buf.extend_from_slice(&d.to_le_bytes());
        }
    }
}

/// `AnyValue.string_value` with the given (UTF-8) bytes.
fn string(buf: &mut Vec<u8>, text: &[u8]) {
    encode_key(ANY_VALUE_STRING, WireType::LengthDelimited, buf);
    encode_varint(text.len() as u64, buf);
    buf.extend_from_slice(text);
}

/// Writes a span's attributes as encoded `KeyValue`s (field `attributes`).
struct Writer<'a>(&'a mut Vec<u8>);

/// One `KeyValue` whose `AnyValue` has `value_len` bytes, written by `value`.
fn key_value(buf: &mut Vec<u8>, key: &str, value_len: usize, value: impl FnOnce(&mut Vec<u8>)) {
    let key_len = if key.is_empty() {
        0
    } else {
        delimited(key.len())
    };
    encode_key(SPAN_ATTRIBUTES, WireType::LengthDelimited, buf);
    encode_varint((key_len + delimited(value_len)) as u64, buf);
    bytes(buf, KEY_VALUE_KEY, key.as_bytes());
    encode_key(KEY_VALUE_VALUE, WireType::LengthDelimited, buf);
    encode_varint(value_len as u64, buf);
    value(buf);
}

impl Attrs for Writer<'_> {
    fn scalar(&mut self, key: &str, value: Scalar<'_>) {
        key_value(self.0, key, scalar_len(value), |buf| {
            write_scalar(buf, value)
        });
    }

    fn scalars<'v, I>(&mut self, key: &str, values: I)
    where
        I: Iterator<Item = Scalar<'v>> + Clone,
    {
        let array_len: usize = values.clone().map(|v| delimited(scalar_len(v))).sum();
        key_value(self.0, key, delimited(array_len), |buf| {
            encode_key(ANY_VALUE_ARRAY, WireType::LengthDelimited, buf);
            encode_varint(array_len as u64, buf);
            for v in values {
                encode_key(ARRAY_VALUE_VALUES, WireType::LengthDelimited, buf);
                encode_varint(scalar_len(v) as u64, buf);
                write_scalar(buf, v);
            }
        });
    }

    fn json_text(&mut self, key: &str, value: &Value) {
        // Messages, mostly: lengths of 128 bytes and more.
        text_value(self.0, key, 2, |buf| json_text::write_value(buf, value));
    }

    fn json_map(&mut self, key: &str, map: &Map<String, Value>) {
        // A model config, mostly: a few settings, under 128 bytes.
        text_value(self.0, key, 1, |buf| json_text::write_map(buf, map));
    }
}

/// A `KeyValue` with a string value that `text` writes, straight into the body (its three
/// lengths, unknown until it is written, are placed as [`nested`] places them, `guess` bytes
/// first).
fn text_value(buf: &mut Vec<u8>, key: &str, guess: usize, text: impl FnOnce(&mut Vec<u8>)) {
    nested(buf, SPAN_ATTRIBUTES, guess, |buf| {
        bytes(buf, KEY_VALUE_KEY, key.as_bytes());
        nested(buf, KEY_VALUE_VALUE, guess, |buf| {
            nested(buf, ANY_VALUE_STRING, guess, text);
        });
    });
}

#[cfg(test)]
mod tests;

//! A JSON value's compact text, byte for byte what `serde_json::to_writer` writes, with a faster
//! string escape: serde_json looks up every byte of a string in its escape table; this writer
//! checks 16 bytes at a time and copies runs that need no escape at once. Prompts and
//! completions are most of an exported generation span, so their text is most of its cost.

use serde_json::{Map, Value};

/// Appends `value` as compact JSON.
pub(crate) fn write_value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => buf.extend_from_slice(b"null"),
        Value::Bool(true) => buf.extend_from_slice(b"true"),
        Value::Bool(false) => buf.extend_from_slice(b"false"),
        // serde_json's own number formatting (itoa, and its shortest float form).
        Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *buf, n);
        }
        Value::String(s) => write_str(buf, s),
        Value::Array(items) => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write_value(buf, item);
            }
            buf.push(b']');
        }
        Value::Object(map) => write_map(buf, map),
    }
}

/// Appends `map` as a compact JSON object (as `Value::Object` of it).
pub(crate) fn write_map(buf: &mut Vec<u8>, map: &Map<String, Value>) {
    buf.push(b'{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_str(buf, k);
        buf.push(b':');
        write_value(buf, v);
    }
    buf.push(b'}');
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// High bits set in the bytes of `w` that are control characters, `"` or `\` (and maybe in
/// bytes after such a byte; none when there is none).
#[inline]
fn escape_mask(w: u64) -> u64 {
    // Bytes under 0x20: `b - 0x20` borrows into the high bit only when b < 0x20 (b < 0x80);
    // a zero byte of `w ^ c` is a byte equal to `c`.
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    (w.wrapping_sub(ONES * 0x20) & !w)
        | (quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
}

/// Whether any of the 16 bytes needs an escape.
#[inline]
fn needs_escape(chunk: &[u8; 16]) -> bool {
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(&chunk[..8]);
    hi.copy_from_slice(&chunk[8..]);
    (escape_mask(u64::from_ne_bytes(lo)) | escape_mask(u64::from_ne_bytes(hi))) & HIGHS != 0
}

/// Eight bytes of `b` (at least eight long) from its start.
#[inline]
fn load8(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_ne_bytes(w)
}

/// Four bytes of `b` from its start, and four spaces (which need no escape).
#[inline]
fn load4(b: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u64::from(u32::from_ne_bytes(w)) | (ONES * 0x20) << 32
}

/// Whether a string shorter than 16 bytes needs an escape: two overlapping words (no copy to
/// the stack, which would stall the load that reads it back).
#[inline]
fn short_needs_escape(t: &[u8]) -> bool {
    let n = t.len();
    let mask = if n >= 8 {
        escape_mask(load8(t)) | escape_mask(load8(&t[n - 8..]))
    } else if n >= 4 {
        escape_mask(load4(t)) | escape_mask(load4(&t[n - 4..]))
    } else {
        return t.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    };
    mask & HIGHS != 0
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
pub(crate) fn write_str(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let len = bytes.len();
    buf.reserve(len + 2);
    buf.push(b'"');
    // Bytes before `start` are written.
    let mut start = 0;
    let mut i = 0;
    while i + 16 <= len {
        if needs_escape(bytes[i..i + 16].try_into().unwrap_or(&[0; 16])) {
            escape(buf, bytes, &mut start, i, i + 16);
        }
        i += 16;
    }
    if i < len {
        // The last 16 bytes (some seen already), or a string shorter than 16.
        let clean = if len >= 16 {
            !needs_escape(bytes[len - 16..].try_into().unwrap_or(&[0; 16]))
        } else {
            !short_needs_escape(bytes)
        };
        if !clean {
            escape(buf, bytes, &mut start, i, len);
        }
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Escapes what needs it in `bytes[from..to]`, writing what came before each escape.
fn escape(buf: &mut Vec<u8>, bytes: &[u8], start: &mut usize, from: usize, to: usize) {
    for (i, &b) in bytes.iter().enumerate().take(to).skip(from) {
        let short = match b {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'\n' => Some(b'n'),
            b'\r' => Some(b'r'),
            b'\t' => Some(b't'),
            0x08 => Some(b'b'),
            0x0c => Some(b'f'),
            0x00..=0x1f => None,
            _ => continue,
        };
        buf.extend_from_slice(&bytes[*start..i]);
        match short {
            Some(c) => buf.extend_from_slice(&[b'\\', c]),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(b >> 4)]);
                buf.push(HEX[usize::from(b & 0xf)]);
            }
        }
        *start = i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same(value: &Value) {
        let mut ours = Vec::new();
        write_value(&mut ours, value);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(value).unwrap()
        );
    }

    #[test]
    fn every_ascii_byte_at_every_offset_is_escaped_as_serde_json_does() {
        for b in 0u8..0x80 {
            for len in [1, 2, 15, 16, 17, 31, 32, 33, 40] {
                for at in 0..len {
                    let mut s = "a".repeat(at);
                    s.push(char::from(b));
                    s.push_str(&"é".repeat(len - 1 - at));
                    same(&Value::String(s));
                }
            }
        }
        // Two escapes, one in the last full chunk and one in the rest.
        same(&Value::String(format!(
            "{}\n{}\"{}",
            "a".repeat(14),
            "b".repeat(5),
            "c".repeat(3)
        )));
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        same(&json!(null));
        same(&json!([]));
        same(&json!({}));
        same(&json!(""));
        same(&json!(
            "é, ✓, 😀 and \u{7f} \u{2028} pass through; \"quotes\", \\ and\ttabs\n do not"
        ));
        same(&json!([
            {"role": "system", "content": "You are helpful.\r\n\u{0}\u{1f}"},
            {"role": "user", "content": "x".repeat(1000), "n": [1, -2, 3.5, 1e300, 0.1, u64::MAX, i64::MIN]},
            true, false, null, {"nested": {"a": [[], {}]}, "é\"key": 1}
        ]));
        let map = json!({"temperature": 0.2, "max_tokens": 512});
        let mut ours = Vec::new();
        write_map(&mut ours, map.as_object().unwrap());
        assert_eq!(ours, serde_json::to_vec(&map).unwrap());
    }
}

//! Trace and span identifiers.
//!
//! A [`TraceId`] is 128 bits and a [`SpanId`] 64 bits, as in W3C Trace Context and OTLP. Both are
//! generated from a thread-local PRNG (no lock, no syscall after the first use on a thread) and
//! render in the OpenAI Agents SDK form: `trace_<32 hex>` and `span_<16 hex>`.
//!
//! Span ids read from foreign files may be longer than 16 hex digits (the Python SDK writes 24);
//! [`SpanId`] keeps such ids exactly, so a file read and written again is unchanged. Their
//! OTLP form ([`SpanId::to_bytes`]) is the low 64 bits.

use std::fmt;
use std::num::{NonZeroU128, NonZeroU64};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a trace or span id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdParseError {
    /// The text did not start with the expected prefix.
    #[error("expected an id starting with `{expected}` (for example `{expected}0af7651916cd43dd`), got `{got}`")]
    MissingPrefix {
        /// The prefix that was expected (`trace_` or `span_`).
        expected: &'static str,
        /// The text that was given (cut to 64 characters).
        got: String,
    },
    /// The hex part had a bad length.
    #[error("expected {expected} hex digits after the prefix, got {got}")]
    BadLength {
        /// What lengths are accepted.
        expected: &'static str,
        /// How many characters were there.
        got: usize,
    },
    /// The hex part had a non-hex character.
    #[error("`{0}` is not a hexadecimal id")]
    NotHex(String),
    /// The id was all zeros, which W3C and OTLP reserve for "no id".
    #[error("an all-zero id is invalid (W3C Trace Context reserves it)")]
    Zero,
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

fn parse_hex_u128(hex: &str) -> Result<u128, IdParseError> {
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IdParseError::NotHex(clip(hex)));
    }
    u128::from_str_radix(hex, 16).map_err(|_| IdParseError::NotHex(clip(hex)))
}

/// A 128-bit trace id. Never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(NonZeroU128);

impl TraceId {
    /// A fresh random id from the thread-local generator.
    ///
    /// ```
    /// let a = agent_trace::TraceId::random();
    /// assert_ne!(a, agent_trace::TraceId::random());
    /// ```
    #[inline]
    pub fn random() -> Self {
        loop {
            let v = ((fastrand::u64(..) as u128) << 64) | fastrand::u64(..) as u128;
            if let Some(v) = NonZeroU128::new(v) {
                return TraceId(v);
            }
        }
    }

    /// Builds an id from its integer value; `None` for zero.
    ///
    /// ```
    /// assert!(agent_trace::TraceId::from_u128(0).is_none());
    /// assert_eq!(agent_trace::TraceId::from_u128(7).unwrap().to_u128(), 7);
    /// ```
    pub const fn from_u128(v: u128) -> Option<Self> {
        match NonZeroU128::new(v) {
            Some(v) => Some(TraceId(v)),
            None => None,
        }
    }

    /// The integer value.
    ///
    /// ```
    /// let id = agent_trace::TraceId::random();
    /// assert_eq!(agent_trace::TraceId::from_u128(id.to_u128()), Some(id));
    /// ```
    pub const fn to_u128(self) -> u128 {
        self.0.get()
    }

    /// The 16 big-endian bytes used by OTLP (`Span.trace_id`).
    ///
    /// ```
    /// let id = agent_trace::TraceId::from_u128(1).unwrap();
    /// assert_eq!(id.to_bytes()[15], 1);
    /// assert_eq!(agent_trace::TraceId::from_bytes(id.to_bytes()), Some(id));
    /// ```
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.get().to_be_bytes()
    }

    /// Reads the OTLP form; `None` for the all-zero id.
    ///
    /// ```
    /// assert!(agent_trace::TraceId::from_bytes([0; 16]).is_none());
    /// ```
    pub const fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        Self::from_u128(u128::from_be_bytes(bytes))
    }

    /// The 32 lowercase hex digits used by W3C `traceparent` (no prefix).
    ///
    /// ```
    /// let id = agent_trace::TraceId::from_u128(0xab).unwrap();
    /// assert_eq!(id.to_hex(), "000000000000000000000000000000ab");
    /// ```
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0.get())
    }

    /// Parses 32 hex digits without prefix (the `traceparent` form).
    ///
    /// ```
    /// let id = agent_trace::TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    /// assert_eq!(id.to_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// ```
    pub fn from_hex(hex: &str) -> Result<Self, IdParseError> {
        if hex.len() != 32 {
            return Err(IdParseError::BadLength {
                expected: "32",
                got: hex.len(),
            });
        }
        Self::from_u128(parse_hex_u128(hex)?).ok_or(IdParseError::Zero)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trace_{:032x}", self.0.get())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for TraceId {
    type Err = IdParseError;

    /// Parses `trace_<32 hex>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix("trace_")
            .ok_or_else(|| IdParseError::MissingPrefix {
                expected: "trace_",
                got: clip(s),
            })?;
        Self::from_hex(hex)
    }
}

/// A span id: 64 random bits for spans made here; foreign ids of up to 30 hex digits are kept
/// exactly (see the module docs). Never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId {
    /// The id's low 64 bits.
    lo: NonZeroU64,
    /// Zero for a native 64-bit id; otherwise `digits << 56 | high bits` of a foreign id.
    hi: u64,
}

impl SpanId {
    /// A fresh random 64-bit id from the thread-local generator.
    ///
    /// ```
    /// let a = agent_trace::SpanId::random();
    /// assert_eq!(a.to_string().len(), "span_".len() + 16);
    /// ```
    #[inline]
    pub fn random() -> Self {
        loop {
            if let Some(lo) = NonZeroU64::new(fastrand::u64(..)) {
                return SpanId { lo, hi: 0 };
            }
        }
    }

    /// Builds a native id from its integer value; `None` for zero.
    ///
    /// ```
    /// assert_eq!(agent_trace::SpanId::from_u64(0xff).unwrap().to_string(), "span_00000000000000ff");
    /// ```
    pub const fn from_u64(v: u64) -> Option<Self> {
        match NonZeroU64::new(v) {
            Some(lo) => Some(SpanId { lo, hi: 0 }),
            None => None,
        }
    }

    /// The low 64 bits: the whole id for ids made here.
    ///
    /// ```
    /// assert_eq!(agent_trace::SpanId::from_u64(9).unwrap().to_u64(), 9);
    /// ```
    pub const fn to_u64(self) -> u64 {
        self.lo.get()
    }

    /// The 8 big-endian bytes used by OTLP (`Span.span_id`); for a foreign id longer than
    /// 16 hex digits, its low 64 bits.
    ///
    /// ```
    /// let id = agent_trace::SpanId::from_u64(0x0102).unwrap();
    /// assert_eq!(id.to_bytes(), [0, 0, 0, 0, 0, 0, 1, 2]);
    /// assert_eq!(agent_trace::SpanId::from_bytes(id.to_bytes()), Some(id));
    /// ```
    pub const fn to_bytes(self) -> [u8; 8] {
        self.lo.get().to_be_bytes()
    }

    /// Reads the OTLP form; `None` for the all-zero id.
    ///
    /// ```
    /// assert!(agent_trace::SpanId::from_bytes([0; 8]).is_none());
    /// ```
    pub const fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        Self::from_u64(u64::from_be_bytes(bytes))
    }

    /// Whether this id came from a foreign source in another width than 16 hex digits.
    ///
    /// ```
    /// let id: agent_trace::SpanId = "span_161bc6059a144deebbdf4d20".parse().unwrap();
    /// assert!(id.is_extended());
    /// ```
    pub const fn is_extended(self) -> bool {
        self.hi != 0
    }

    /// The 16 lowercase hex digits of the OTLP / `traceparent` form (no prefix).
    ///
    /// ```
    /// let id = agent_trace::SpanId::from_u64(0xab).unwrap();
    /// assert_eq!(id.to_hex(), "00000000000000ab");
    /// ```
    pub fn to_hex(self) -> String {
        format!("{:016x}", self.lo.get())
    }

    /// Parses 1 to 30 hex digits without prefix. Exactly 16 digits give a native id.
    ///
    /// ```
    /// let id = agent_trace::SpanId::from_hex("00f067aa0ba902b7").unwrap();
    /// assert_eq!(id.to_hex(), "00f067aa0ba902b7");
    /// ```
    pub fn from_hex(hex: &str) -> Result<Self, IdParseError> {
        if hex.is_empty() || hex.len() > 30 {
            return Err(IdParseError::BadLength {
                expected: "1 to 30 (16 for ids made here)",
                got: hex.len(),
            });
        }
        let v = parse_hex_u128(hex)?;
        let hi = if hex.len() == 16 {
            0
        } else {
            ((hex.len() as u64) << 56) | (v >> 64) as u64
        };
        // A foreign id whose low 64 bits are zero cannot be represented: treat it like zero.
        let lo = NonZeroU64::new(v as u64).ok_or(IdParseError::Zero)?;
        Ok(SpanId { lo, hi })
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hi == 0 {
            return write!(f, "span_{:016x}", self.lo.get());
        }
        let digits = (self.hi >> 56) as usize;
        let value = (((self.hi & ((1 << 56) - 1)) as u128) << 64) | self.lo.get() as u128;
        write!(f, "span_{value:0digits$x}")
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for SpanId {
    type Err = IdParseError;

    /// Parses `span_<hex>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix("span_")
            .ok_or_else(|| IdParseError::MissingPrefix {
                expected: "span_",
                got: clip(s),
            })?;
        Self::from_hex(hex)
    }
}

macro_rules! serde_via_display {
    ($ty:ty, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse()
                    .map_err(|e| serde::de::Error::custom(format_args!("{}: {e}", $what)))
            }
        }
    };
}
serde_via_display!(TraceId, "trace id");
serde_via_display!(SpanId, "span id");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fixture_ids_round_trip() {
        for s in [
            "span_161bc6059a144deebbdf4d20",
            "span_0000000000000001",
            "span_00ab",
        ] {
            let id: SpanId = s.parse().unwrap();
            assert_eq!(id.to_string(), s);
        }
        let t: TraceId = "trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff".parse().unwrap();
        assert_eq!(t.to_string(), "trace_1ae9c80f9e5e4bef82dfc44dfba1c6ff");
    }

    #[test]
    fn rejects_bad_ids() {
        assert!(matches!(
            "x_00".parse::<SpanId>(),
            Err(IdParseError::MissingPrefix { .. })
        ));
        assert!(matches!(
            "span_".parse::<SpanId>(),
            Err(IdParseError::BadLength { .. })
        ));
        assert!(matches!(
            "span_zz".parse::<SpanId>(),
            Err(IdParseError::NotHex(_))
        ));
        assert!(matches!(
            "span_+1".parse::<SpanId>(),
            Err(IdParseError::NotHex(_))
        ));
        assert!(matches!(
            "span_0000".parse::<SpanId>(),
            Err(IdParseError::Zero)
        ));
        assert!(matches!(
            "trace_00".parse::<TraceId>(),
            Err(IdParseError::BadLength { .. })
        ));
    }

    proptest! {
        #[test]
        fn span_id_text_round_trip(hex in "[0-9a-f]{1,30}") {
            match format!("span_{hex}").parse::<SpanId>() {
                Ok(id) => prop_assert_eq!(id.to_string(), format!("span_{hex}")),
                Err(e) => prop_assert_eq!(e, IdParseError::Zero),
            }
        }

        #[test]
        fn native_span_id_bytes_round_trip(v in 1u64..) {
            let id = SpanId::from_u64(v).unwrap();
            prop_assert_eq!(SpanId::from_bytes(id.to_bytes()), Some(id));
            prop_assert_eq!(id.to_string().parse::<SpanId>().unwrap(), id);
        }

        #[test]
        fn trace_id_round_trip(v in 1u128..) {
            let id = TraceId::from_u128(v).unwrap();
            prop_assert_eq!(id.to_string().parse::<TraceId>().unwrap(), id);
            prop_assert_eq!(TraceId::from_bytes(id.to_bytes()), Some(id));
            prop_assert_eq!(TraceId::from_hex(&id.to_hex()).unwrap(), id);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<SpanId>();
            let _ = s.parse::<TraceId>();
        }
    }
}

//! Timestamps: Unix nanoseconds read from the CPU's time-stamp counter.
//!
//! Span start and end are read with [`minstant`] (a TSC read where the CPU has a stable one,
//! else the coarse monotonic clock), converted to wall-clock time through one anchor taken at
//! first use. That is about 5 ns a read here against about 20 ns for `SystemTime::now()`.
//! JSON renders them as ISO-8601 UTC with microseconds, as the OpenAI Agents SDK does.

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time as nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(u64);

fn anchor() -> &'static minstant::Anchor {
    static ANCHOR: OnceLock<minstant::Anchor> = OnceLock::new();
    ANCHOR.get_or_init(minstant::Anchor::new)
}

/// minstant's counter to Unix nanoseconds as one integer multiply: the counter reading at an
/// anchor, the Unix time minstant gives it, and minstant's rate in nanoseconds per 2^40 counts
/// (so a day of readings converts to within a microsecond of minstant's own `f64` result).
struct Conversion {
    cycle0: u64,
    unix0: u64,
    nanos_per_2_40: u64,
}

static CONVERSION: OnceLock<Conversion> = OnceLock::new();

#[inline]
fn conversion() -> &'static Conversion {
    match CONVERSION.get() {
        Some(c) => c,
        None => conversion_init(),
    }
}

#[cold]
#[inline(never)]
fn conversion_init() -> &'static Conversion {
    CONVERSION.get_or_init(|| {
        let a = anchor();
        let cycle0 = raw(minstant::Instant::now());
        let unix0 = instant(cycle0).as_unix_nanos(a);
        let nanos_per_2_40 = instant(cycle0.saturating_add(1 << 40))
            .as_unix_nanos(a)
            .saturating_sub(unix0);
        Conversion {
            cycle0,
            unix0,
            nanos_per_2_40,
        }
    })
}

/// The counter value of a minstant reading.
#[inline]
fn raw(i: minstant::Instant) -> u64 {
    // SAFETY: `minstant::Instant` is `#[repr(transparent)]` over its `u64` counter value.
    unsafe { std::mem::transmute::<minstant::Instant, u64>(i) }
}

/// A minstant reading with counter value `cycle`.
fn instant(cycle: u64) -> minstant::Instant {
    // SAFETY: as in `raw`; every `u64` is a valid counter value.
    unsafe { std::mem::transmute::<u64, minstant::Instant>(cycle) }
}

/// Why a timestamp could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an ISO-8601 / RFC 3339 timestamp after 1970 (expected e.g. 2026-11-25T11:44:14.259263+00:00): {reason}")]
pub struct TimestampParseError {
    text: String,
    reason: String,
}

impl Timestamp {
    /// The current time.
    ///
    /// ```
    /// let a = agent_trace::Timestamp::now();
    /// let b = agent_trace::Timestamp::now();
    /// assert!(b >= a);
    /// ```
    #[inline]
    pub fn now() -> Self {
        let cycle = raw(minstant::Instant::now());
        let c = conversion();
        match cycle.checked_sub(c.cycle0) {
            // Integer multiply and shift: minstant's own conversion goes through `f64`, which
            // costs twice the instructions of the rest of this function.
            Some(ahead) => {
                Timestamp(c.unix0.wrapping_add(
                    ((u128::from(ahead) * u128::from(c.nanos_per_2_40)) >> 40) as u64,
                ))
            }
            None => Self::now_slow(cycle),
        }
    }

    /// A counter reading before the conversion's anchor (another core's counter a little
    /// behind): minstant's own conversion, which handles it.
    #[cold]
    fn now_slow(cycle: u64) -> Self {
        Timestamp(instant(cycle).as_unix_nanos(anchor()))
    }

    /// From nanoseconds since the Unix epoch.
    ///
    /// ```
    /// assert_eq!(agent_trace::Timestamp::from_unix_nanos(5).unix_nanos(), 5);
    /// ```
    pub const fn from_unix_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    ///
    /// ```
    /// assert_eq!(agent_trace::Timestamp::from_unix_nanos(0).unix_nanos(), 0);
    /// ```
    pub const fn unix_nanos(self) -> u64 {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    ///
    /// ```
    /// use agent_trace::Timestamp;
    /// let d = Timestamp::from_unix_nanos(3_000).saturating_duration_since(Timestamp::from_unix_nanos(1_000));
    /// assert_eq!(d.as_nanos(), 2_000);
    /// ```
    pub fn saturating_duration_since(self, earlier: Timestamp) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// Parses RFC 3339 (any offset, any fraction); the result is UTC.
    ///
    /// ```
    /// let t = agent_trace::Timestamp::parse("2026-11-25T11:44:14.259263+00:00").unwrap();
    /// assert_eq!(t.to_string(), "2026-11-25T11:44:14.259263+00:00");
    /// ```
    pub fn parse(text: &str) -> Result<Self, TimestampParseError> {
        let err = |reason: String| TimestampParseError {
            text: text.chars().take(64).collect(),
            reason,
        };
        let dt = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| err(e.to_string()))?;
        let nanos = dt.unix_timestamp_nanos();
        u64::try_from(nanos)
            .map(Timestamp)
            .map_err(|_| err("out of range".into()))
    }
}

impl fmt::Display for Timestamp {
    /// ISO-8601 UTC with microseconds and a `+00:00` offset, like Python's `isoformat()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = (self.0 / 1_000_000_000) as i64;
        let micros = (self.0 % 1_000_000_000) / 1_000;
        // Unwrap-free: any u64 of nanoseconds is within time's range (year < 2555).
        let Ok(dt) = OffsetDateTime::from_unix_timestamp(secs) else {
            return write!(f, "{}", self.0);
        };
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
            dt.year(),
            dt.month() as u8,
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            micros
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_integer_conversion_agrees_with_minstants_own() {
        let c = conversion();
        for ahead in [0u64, 1, 1_000, 3_000_000_000, 86_400 * 4_000_000_000] {
            let cycle = c.cycle0 + ahead;
            let ours = c.unix0 + ((u128::from(ahead) * u128::from(c.nanos_per_2_40)) >> 40) as u64;
            let theirs = instant(cycle).as_unix_nanos(anchor());
            // A day of 4 GHz counts: within a microsecond (f64 rounding on their side).
            assert!(
                ours.abs_diff(theirs) <= 1_000,
                "{ahead}: {ours} vs {theirs}"
            );
        }
        // Before the anchor: minstant's path.
        let before = Timestamp::now_slow(c.cycle0.saturating_sub(10));
        assert!(before.unix_nanos() <= c.unix0);
    }

    #[test]
    fn a_minstant_reading_is_its_counter_value() {
        // `raw` and `instant` rely on `minstant::Instant` being its `u64` counter (it is
        // `#[repr(transparent)]` in 0.1.7): a version that changed that fails here.
        assert_eq!(raw(minstant::Instant::ZERO), 0);
        let now = minstant::Instant::now();
        assert_eq!(raw(instant(raw(now))), raw(now));
        let later = instant(raw(now) + 1_000_000);
        assert!(later > now);
        // A million counts: minstant's own conversion and ours agree to the nanosecond.
        let theirs = later.duration_since(now).as_nanos();
        let ours = (1_000_000u128 * u128::from(conversion().nanos_per_2_40)) >> 40;
        assert!(theirs.abs_diff(ours) <= 1, "{theirs} vs {ours}");
    }

    #[test]
    fn now_is_wall_clock() {
        let sys = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let ours = Timestamp::now().unix_nanos();
        assert!(ours.abs_diff(sys) < 1_000_000_000, "{ours} vs {sys}");
    }

    #[test]
    fn parses_other_offsets_and_no_fraction() {
        let a = Timestamp::parse("2026-11-25T12:44:14+01:00").unwrap();
        assert_eq!(a.to_string(), "2026-11-25T11:44:14.000000+00:00");
        assert!(Timestamp::parse("1969-12-31T23:59:59Z").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    proptest! {
        #[test]
        fn micro_aligned_round_trip(micros in 0u64..16_000_000_000_000_000) {
            let t = Timestamp::from_unix_nanos(micros * 1000);
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Timestamp::parse(&s);
        }
    }
}

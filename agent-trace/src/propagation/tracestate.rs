//! The W3C `tracestate` header: vendor entries that travel with `traceparent`.

use std::fmt;

/// The most entries a `tracestate` carries (W3C Trace Context, "list").
pub const MAX_TRACESTATE_ENTRIES: usize = 32;

/// A parsed `tracestate` header: `key=value` entries, most recently updated first.
///
/// ```
/// use agent_trace::propagation::TraceState;
/// let mut s = TraceState::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE").unwrap();
/// assert_eq!(s.get("congo"), Some("t61rcWkgMzE"));
/// s.insert("ours", "1").unwrap();
/// assert_eq!(s.to_string(), "ours=1,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceState {
    entries: Vec<(String, String)>,
}

/// Why a `tracestate` header (or one entry) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TracestateError {
    /// An entry that is not `key=value` with the W3C key and value characters.
    #[error("malformed tracestate entry `{0}`: expected key=value (lowercase key, printable value without `,` or `=`)")]
    Malformed(String),
    /// The same key twice.
    #[error("tracestate key `{0}` appears twice")]
    DuplicateKey(String),
    /// More than [`MAX_TRACESTATE_ENTRIES`] entries.
    #[error("tracestate has more than 32 entries")]
    TooManyEntries,
}

fn is_key(k: &str) -> bool {
    let simple = |s: &str, max: usize| {
        let b = s.as_bytes();
        !b.is_empty()
            && b.len() <= max
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter().all(|&c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || matches!(c, b'_' | b'-' | b'*' | b'/')
            })
    };
    match k.split_once('@') {
        None => simple(k, 256),
        Some((tenant, system)) => simple(tenant, 241) && simple(system, 14),
    }
}

fn is_value(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.iter()
            .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        && b[b.len() - 1] != b' '
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

impl TraceState {
    /// An empty state.
    ///
    /// ```
    /// assert!(agent_trace::propagation::TraceState::new().is_empty());
    /// ```
    pub fn new() -> TraceState {
        TraceState::default()
    }

    /// Parses a `tracestate` header (several headers joined with `,` are one list). Empty
    /// list members are skipped, as the specification allows.
    ///
    /// ```
    /// use agent_trace::propagation::TraceState;
    /// assert_eq!(TraceState::parse("a=1, ,b=2").unwrap().len(), 2);
    /// assert!(TraceState::parse("A=1").is_err());
    /// ```
    pub fn parse(header: &str) -> Result<TraceState, TracestateError> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for member in header.split(',') {
            let member = member.trim_matches(|c| c == ' ' || c == '\t');
            if member.is_empty() {
                continue;
            }
            let Some((k, v)) = member.split_once('=') else {
                return Err(TracestateError::Malformed(clip(member)));
            };
            if !is_key(k) || !is_value(v) {
                return Err(TracestateError::Malformed(clip(member)));
            }
            if entries.iter().any(|(key, _)| key == k) {
                return Err(TracestateError::DuplicateKey(clip(k)));
            }
            if entries.len() == MAX_TRACESTATE_ENTRIES {
                return Err(TracestateError::TooManyEntries);
            }
            entries.push((k.to_owned(), v.to_owned()));
        }
        Ok(TraceState { entries })
    }

    /// The value of `key`.
    ///
    /// ```
    /// let s = agent_trace::propagation::TraceState::parse("a=1").unwrap();
    /// assert_eq!(s.get("a"), Some("1"));
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `key` (moved to the front, as the specification asks of an updated entry). When
    /// the list is full, the last entry is dropped to make room.
    ///
    /// ```
    /// let mut s = agent_trace::propagation::TraceState::new();
    /// s.insert("a", "1").unwrap();
    /// assert!(s.insert("A", "1").is_err());
    /// ```
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), TracestateError> {
        let (key, value) = (key.into(), value.into());
        if !is_key(&key) || !is_value(&value) {
            return Err(TracestateError::Malformed(clip(&format!("{key}={value}"))));
        }
        self.entries.retain(|(k, _)| *k != key);
        self.entries.truncate(MAX_TRACESTATE_ENTRIES - 1);
        self.entries.insert(0, (key, value));
        Ok(())
    }

    /// Removes `key`, returning its value.
    ///
    /// ```
    /// let mut s = agent_trace::propagation::TraceState::parse("a=1").unwrap();
    /// assert_eq!(s.remove("a").as_deref(), Some("1"));
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    /// The entries, first to last.
    ///
    /// ```
    /// let s = agent_trace::propagation::TraceState::parse("a=1,b=2").unwrap();
    /// assert_eq!(s.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many entries there are.
    ///
    /// ```
    /// assert_eq!(agent_trace::propagation::TraceState::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries (then no `tracestate` header is sent).
    ///
    /// ```
    /// assert!(agent_trace::propagation::TraceState::parse("").unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The header value: entries joined with `,`.
impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_spec_examples_and_rejects_bad_members() {
        let s = TraceState::parse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7").unwrap();
        assert_eq!(s.to_string(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
        assert_eq!(
            TraceState::parse("fw529a3039@dt=t61rcWkgMzE")
                .unwrap()
                .len(),
            1
        );
        for bad in [
            "novalue", "=v", "k=", "K=v", "k=a,k=b", "k=v=w", "k=\u{7f}", "k=é",
        ] {
            assert!(TraceState::parse(bad).is_err(), "{bad}");
        }
        let many = (0..33)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            TraceState::parse(&many),
            Err(TracestateError::TooManyEntries)
        );
    }

    #[test]
    fn insert_moves_to_front_and_keeps_the_bound() {
        let many = (0..32)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let mut s = TraceState::parse(&many).unwrap();
        s.insert("k5", "new").unwrap();
        assert_eq!(s.iter().next(), Some(("k5", "new")));
        assert_eq!(s.len(), 32);
        s.insert("fresh", "1").unwrap();
        assert_eq!(s.len(), 32);
        assert_eq!(s.get("k31"), None, "the last entry made room");
    }

    proptest! {
        #[test]
        fn never_panics_and_what_parses_round_trips(h in "\\PC{0,300}") {
            if let Ok(s) = TraceState::parse(&h) {
                prop_assert_eq!(TraceState::parse(&s.to_string()), Ok(s));
            }
        }

        #[test]
        fn valid_lists_round_trip(entries in proptest::collection::btree_map("[a-z][a-z0-9_*/-]{0,20}", "[!-+--<>-~]{1,30}", 0..32usize)) {
            let header = entries.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let s = TraceState::parse(&header).unwrap();
            prop_assert_eq!(s.len(), entries.len());
            prop_assert_eq!(s.to_string(), header);
        }
    }
}

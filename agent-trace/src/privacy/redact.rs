//! [`Redactor`]: secrets out of every string of a record, by built-in and user patterns.

use regex_lite::Regex;
use serde_json::Value;

/// Why a redaction pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrivacyError {
    /// The pattern is not a valid regular expression (the `regex-lite` syntax).
    #[error("redaction pattern {pattern:?} is not a valid regular expression: {reason}; fix the pattern (regex-lite syntax, no look-around)")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What the parser said.
        reason: String,
    },
}

/// One pattern: what it finds, and the label of its replacement.
#[derive(Debug, Clone)]
struct Pattern {
    label: String,
    regex: Regex,
    /// For a built-in pattern: the literals a match starts with, and the pattern anchored at
    /// the start of the text. Matches are looked for only where a literal occurs, so text
    /// without one costs a substring search, and the regex runs over the match alone.
    start: Option<Start>,
}

#[derive(Debug, Clone)]
struct Start {
    literals: &'static [&'static str],
    /// Whether the literals (and the pattern) ignore ASCII case.
    any_case: bool,
    anchored: Regex,
}

/// The built-in patterns, in the order they run (the most specific first): label, pattern,
/// the literals every match starts with (lowercase when case is ignored), whether case is
/// ignored.
const BUILTIN: &[(&str, &str, &[&str], bool)] = &[
    (
        "private_key",
        r"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY-----|.*)",
        &["-----BEGIN"],
        false,
    ),
    (
        "anthropic_key",
        r"sk-ant-[A-Za-z0-9_\-]{16,}",
        &["sk-ant-"],
        false,
    ),
    (
        "openai_key",
        r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        &["sk-"],
        false,
    ),
    (
        "google_api_key",
        r"AIza[0-9A-Za-z_\-]{35}",
        &["AIza"],
        false,
    ),
    (
        "aws_access_key",
        r"(?:AKIA|ASIA)[0-9A-Z]{16}",
        &["AKIA", "ASIA"],
        false,
    ),
    (
        "aws_secret_key",
        r#"(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}"#,
        &["aws"],
        true,
    ),
    (
        "github_token",
        r"gh[pousr]_[A-Za-z0-9]{36,}",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        false,
    ),
    (
        "jwt",
        r"eyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
        &["eyJ"],
        false,
    ),
    (
        "bearer_token",
        r"(?i)bearer\s+[A-Za-z0-9\-._~+/]{8,}=*",
        &["bearer"],
        true,
    ),
];

/// Where the next of `literals` starts in `text` at or after `from`.
fn next_literal(text: &str, from: usize, literals: &[&str], any_case: bool) -> Option<usize> {
    literals
        .iter()
        .filter_map(|lit| {
            if any_case {
                find_ascii_any_case(&text.as_bytes()[from..], lit.as_bytes())
            } else {
                text[from..].find(lit)
            }
        })
        .min()
        .map(|at| at + from)
}

/// Where `needle` (lowercase ASCII letters and other ASCII) occurs in `hay`, ignoring ASCII
/// case.
fn find_ascii_any_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let last_start = hay.len().checked_sub(needle.len())?;
    hay[..=last_start]
        .iter()
        .enumerate()
        .filter(|(_, b)| b.to_ascii_lowercase() == needle[0])
        .map(|(i, _)| i)
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Replaces secrets in strings with `[REDACTED:<label>]`: the built-in patterns find the
/// common ones (OpenAI `sk-…`/`sk-proj-…`, Anthropic `sk-ant-…`, Google `AIza…` keys, GitHub
/// tokens, AWS access keys and `aws_secret_access_key=…`, bearer tokens, PEM private-key blocks,
/// JWTs), and [`with_pattern`](Redactor::with_pattern) adds your own.
///
/// Set it on a provider with
/// [`TracerProviderBuilder::redactor`](crate::TracerProviderBuilder::redactor): it then runs on
/// every string of every record — span data at any depth of its JSON values, errors (message
/// and data), links, trace metadata and group id — before any processor sees the record, so no
/// exporter, spool or custom processor ever holds the secret.
///
/// ```
/// use agent_trace::privacy::Redactor;
///
/// let r = Redactor::new().with_pattern(r"cust-\d{6}").unwrap();
/// let out = r.redact_str("key sk-proj-abcdefghijklmnopqrstuvwx for cust-123456");
/// assert_eq!(out.as_deref(), Some("key [REDACTED:openai_key] for [REDACTED:custom]"));
/// assert_eq!(r.redact_str("nothing secret"), None);
/// ```
#[derive(Debug, Clone)]
pub struct Redactor {
    patterns: Vec<Pattern>,
    /// By byte: the built-in patterns (bit `i`: `patterns[i]`) one of whose literals starts
    /// with that byte — one pass over the text finds which patterns can match at all.
    first_bytes: Box<[u32; 256]>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

impl Redactor {
    /// A redactor with the built-in patterns.
    ///
    /// ```
    /// let r = agent_trace::privacy::Redactor::new();
    /// assert!(r.redact_str("AKIAIOSFODNN7EXAMPLE").is_some());
    /// ```
    pub fn new() -> Redactor {
        let patterns = BUILTIN
            .iter()
            .filter_map(|(label, re, literals, any_case)| {
                // The built-in patterns are constants checked by a unit test.
                let regex = Regex::new(re).ok()?;
                let anchored = Regex::new(&format!("^(?:{re})")).ok()?;
                Some(Pattern {
                    label: (*label).to_owned(),
                    regex,
                    start: Some(Start {
                        literals,
                        any_case: *any_case,
                        anchored,
                    }),
                })
            })
            .collect::<Vec<_>>();
        let mut first_bytes = Box::new([0u32; 256]);
        for (i, p) in patterns.iter().enumerate() {
            for lit in p.start.iter().flat_map(|s| s.literals.iter()) {
                let b = lit.as_bytes()[0];
                first_bytes[b as usize] |= 1 << i;
                if p.start.as_ref().is_some_and(|s| s.any_case) {
                    first_bytes[b.to_ascii_uppercase() as usize] |= 1 << i;
                }
            }
        }
        Redactor {
            patterns,
            first_bytes,
        }
    }

    /// A redactor without the built-in patterns (add yours with
    /// [`with_pattern`](Redactor::with_pattern)).
    ///
    /// ```
    /// let r = agent_trace::privacy::Redactor::empty();
    /// assert_eq!(r.redact_str("AKIAIOSFODNN7EXAMPLE"), None);
    /// ```
    pub fn empty() -> Redactor {
        Redactor {
            patterns: Vec::new(),
            first_bytes: Box::new([0; 256]),
        }
    }

    /// Adds a pattern (regex-lite syntax); matches become `[REDACTED:custom]`.
    ///
    /// ```
    /// assert!(agent_trace::privacy::Redactor::new().with_pattern("(unclosed").is_err());
    /// ```
    pub fn with_pattern(self, pattern: &str) -> Result<Redactor, PrivacyError> {
        self.with_labeled_pattern("custom", pattern)
    }

    /// Adds a pattern whose matches become `[REDACTED:<label>]`.
    ///
    /// ```
    /// let r = agent_trace::privacy::Redactor::empty()
    ///     .with_labeled_pattern("email", r"[\w.+-]+@[\w-]+\.[\w.]+")
    ///     .unwrap();
    /// assert_eq!(r.redact_str("mail a.b@c.org").as_deref(), Some("mail [REDACTED:email]"));
    /// ```
    pub fn with_labeled_pattern(
        mut self,
        label: &str,
        pattern: &str,
    ) -> Result<Redactor, PrivacyError> {
        let regex = Regex::new(pattern).map_err(|e| PrivacyError::BadPattern {
            pattern: pattern.to_owned(),
            reason: e.to_string(),
        })?;
        self.patterns.push(Pattern {
            label: label.to_owned(),
            regex,
            start: None,
        });
        Ok(self)
    }

    /// The text with every match replaced, or `None` when nothing matched (no allocation).
    ///
    /// ```
    /// let r = agent_trace::privacy::Redactor::new();
    /// assert_eq!(
    ///     r.redact_str("Authorization: Bearer abc.def-123456").as_deref(),
    ///     Some("Authorization: [REDACTED:bearer_token]")
    /// );
    /// ```
    pub fn redact_str(&self, text: &str) -> Option<String> {
        let possible = self.possible(text);
        let mut out: Option<String> = None;
        for (i, p) in self.patterns.iter().enumerate() {
            let current = out.as_deref().unwrap_or(text);
            let replaced = match &p.start {
                Some(_) if possible & (1 << i) == 0 => None,
                Some(start) => replace_from_literals(current, start, &p.label),
                None => p.regex.is_match(current).then(|| {
                    p.regex
                        .replace_all(current, format!("[REDACTED:{}]", p.label).as_str())
                        .into_owned()
                }),
            };
            if replaced.is_some() {
                out = replaced;
            }
        }
        out
    }

    /// The built-in patterns (bit `i`: `patterns[i]`) one of whose literals occurs in `text`.
    fn possible(&self, text: &str) -> u32 {
        let bytes = text.as_bytes();
        let mut found = 0u32;
        for (at, &b) in bytes.iter().enumerate() {
            let mut candidates = self.first_bytes[b as usize] & !found;
            while candidates != 0 {
                let i = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                let Some(start) = &self.patterns[i].start else {
                    continue;
                };
                let rest = &bytes[at..];
                if start.literals.iter().any(|lit| {
                    let lit = lit.as_bytes();
                    rest.len() >= lit.len()
                        && if start.any_case {
                            rest[..lit.len()].eq_ignore_ascii_case(lit)
                        } else {
                            &rest[..lit.len()] == lit
                        }
                }) {
                    found |= 1 << i;
                }
            }
        }
        found
    }

    /// Redacts a string in place; whether it changed.
    pub(crate) fn redact_in_place(&self, text: &mut String) -> bool {
        match self.redact_str(text) {
            Some(r) => {
                *text = r;
                true
            }
            None => false,
        }
    }
}

/// `text` with each match of an anchored pattern that starts at one of its literals replaced;
/// `None` when nothing matched.
fn replace_from_literals(text: &str, start: &Start, label: &str) -> Option<String> {
    let mut out = String::new();
    let (mut copied, mut from) = (0, 0);
    while from < text.len() {
        let Some(at) = next_literal(text, from, start.literals, start.any_case) else {
            break;
        };
        match start.anchored.find(&text[at..]) {
            Some(m) if !m.is_empty() => {
                out.push_str(&text[copied..at]);
                out.push_str("[REDACTED:");
                out.push_str(label);
                out.push(']');
                copied = at + m.end();
                from = copied;
            }
            // The literals are ASCII: the next byte starts a character.
            _ => from = at + 1,
        }
    }
    (copied > 0).then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// Cuts `text` to at most `max` bytes (at a character boundary) and appends a marker saying how
/// much was cut; whether it was cut.
#[inline]
pub(crate) fn truncate_in_place(text: &mut String, max: usize) -> bool {
    // The look is inlined where every recorded string passes; the cut is not.
    text.len() > max && truncate_long(text, max)
}

#[cold]
#[inline(never)]
fn truncate_long(text: &mut String, max: usize) -> bool {
    let mut at = max;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let cut = text.len() - at;
    let total = text.len();
    text.truncate(at);
    text.push_str(&format!(
        "…[truncated by agent-trace: {cut} of {total} bytes cut]"
    ));
    true
}

/// Runs `f` on every string at any depth of `value` (object keys excepted), without recursion.
pub(crate) fn for_each_string(value: &mut Value, f: &mut impl FnMut(&mut String)) {
    // Most values are a string or a scalar: no stack to allocate for them.
    match value {
        Value::String(s) => return f(s),
        Value::Array(_) | Value::Object(_) => {}
        _ => return,
    }
    let mut stack: Vec<&mut Value> = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => f(s),
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.iter_mut().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_pattern_compiles() {
        for (label, re, literals, any_case) in BUILTIN {
            assert!(Regex::new(re).is_ok(), "{label}: {re}");
            if *any_case {
                assert!(
                    literals.iter().all(|l| *l == l.to_ascii_lowercase()),
                    "{label}"
                );
            }
        }
        assert_eq!(Redactor::new().patterns.len(), BUILTIN.len());
        assert!(BUILTIN.len() <= 32, "one bit per built-in pattern");
    }

    #[test]
    fn builtin_patterns_find_each_secret() {
        let r = Redactor::new();
        let cases = [
            ("sk-proj-Ab3_dEf-GhIjKlMnOpQrStUv", "openai_key"),
            ("sk-0123456789abcdefghijKLMN", "openai_key"),
            ("sk-ant-api03-abcdefghijklmnopqrstuv", "anthropic_key"),
            ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "google_api_key"),
            ("AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "aws_secret_key",
            ),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_token"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nature-1",
                "jwt",
            ),
            ("bearer abcdefghijkl", "bearer_token"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAA\n-----END RSA PRIVATE KEY-----",
                "private_key",
            ),
            ("-----BEGIN PRIVATE KEY-----\nMIIE cut off", "private_key"),
        ];
        for (secret, label) in cases {
            let text = format!("before {secret} after");
            let out = r
                .redact_str(&text)
                .unwrap_or_else(|| panic!("{label}: missed"));
            assert!(!out.contains(secret), "{label}: {out}");
            assert!(
                out.contains(&format!("[REDACTED:{label}]")),
                "{label}: {out}"
            );
            assert!(out.starts_with("before "), "{label}: {out}");
        }
    }

    /// The same patterns run unanchored over the whole text, one after the other.
    fn oracle(text: &str) -> Option<String> {
        let mut cur = text.to_owned();
        for (label, re, _, _) in BUILTIN {
            let re = Regex::new(re).unwrap();
            cur = re
                .replace_all(&cur, format!("[REDACTED:{label}]").as_str())
                .into_owned();
        }
        (cur != text).then_some(cur)
    }

    proptest::proptest! {
        #[test]
        fn looking_from_the_literals_finds_what_the_whole_regex_finds(
            parts in proptest::collection::vec(0usize..14, 0..12)
        ) {
            const FRAGMENTS: [&str; 14] = [
                "sk-", "sk-proj-abcdefghijklmnopqrstuvwxyz", "task-list ", "BEARER tokentoken1",
                "Bearer x", "AKIAABCDEFGHIJKLMNOP", "AKIA", " é ", "eyJabcd.eyJefgh.ij",
                "-----BEGIN PRIVATE KEY-----\nxyz", "-----END PRIVATE KEY-----", "gho_", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "AWS_SECRET_ACCESS_KEY=abcdefghijabcdefghijabcdefghijabcdefghij",
            ];
            let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
            proptest::prop_assert_eq!(Redactor::new().redact_str(&text), oracle(&text));
        }
    }

    #[test]
    fn every_occurrence_and_any_case() {
        let r = Redactor::new();
        assert_eq!(
            r.redact_str("sk- no; BEARER abcdefghij and bearer klmnopqrst; sk-abcdefghijklmnopqrstuvwxyz")
                .as_deref(),
            Some("sk- no; [REDACTED:bearer_token] and [REDACTED:bearer_token]; [REDACTED:openai_key]")
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let r = Redactor::new();
        for text in [
            "ask-me anything",
            "the bearer of bad news",
            "AKIA is short",
            "a task-list of 3 items",
            "",
        ] {
            assert_eq!(r.redact_str(text), None, "{text}");
        }
    }

    #[test]
    fn truncation_keeps_char_boundaries_and_says_how_much() {
        let mut s = "é".repeat(10); // 20 bytes
        assert!(truncate_in_place(&mut s, 5));
        assert!(s.starts_with("éé"), "{s}");
        assert!(
            s.ends_with("[truncated by agent-trace: 16 of 20 bytes cut]"),
            "{s}"
        );
        let mut short = "abc".to_owned();
        assert!(!truncate_in_place(&mut short, 3));
        assert_eq!(short, "abc");
    }

    #[test]
    fn strings_at_any_depth_are_visited() {
        let mut deep = Value::String("x".into());
        for _ in 0..10_000 {
            deep = Value::Array(vec![deep]);
        }
        let mut n = 0;
        for_each_string(&mut deep, &mut |_| n += 1);
        assert_eq!(n, 1);
        // serde_json's Drop of a deep value recurses: take it apart from the outside.
        let mut v = deep;
        while let Value::Array(mut a) = v {
            v = a.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn a_bad_user_pattern_is_an_error_naming_it() {
        let e = Redactor::new().with_pattern("a(").unwrap_err();
        assert!(e.to_string().contains("\"a(\""), "{e}");
    }
}

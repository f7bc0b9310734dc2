//! Selective tracing: span kinds and name patterns switched on or off.

use super::glob_match;
use crate::model::{SpanData, SpanKind};

/// Which spans are recorded, by kind and by name. A span the filter drops records nothing
/// (it costs what a span outside a trace costs, plus the check) and is not current while it
/// runs, so its children attach to the nearest kept ancestor (or to the trace's root).
///
/// Name rules come first, in the order added; the first whose pattern (`*` wildcards) matches
/// the span's name decides. A span no name rule matches is kept when its kind is on. Every
/// kind is on by default.
///
/// From the environment (see [`span_filter_from_env`](super::span_filter_from_env)):
/// `AGENT_TRACE_SPAN_KINDS=agent,generation` keeps only those kinds,
/// `AGENT_TRACE_SPAN_KINDS=-function,-custom` drops those; `AGENT_TRACE_SPAN_FILTER=+search_docs,-search_*`
/// is a list of name rules (`+` keeps, `-` drops, first match wins).
///
/// ```
/// use agent_trace::{sampling::SpanFilter, SpanKind};
/// let f = SpanFilter::new().drop_kind(SpanKind::Custom).keep_name("search_*");
/// assert!(!f.keeps(&agent_trace::SpanData::custom("lookup")));
/// assert!(f.keeps(&agent_trace::SpanData::custom("search_web")));
/// assert!(f.keeps(&agent_trace::SpanData::empty(SpanKind::Agent)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanFilter {
    /// Bit `i` set: kind `SpanKind::ALL[i]` is off.
    kinds_off: u16,
    names: Vec<(String, bool)>,
}

fn bit(kind: SpanKind) -> u16 {
    let i = SpanKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    1 << i
}

impl SpanFilter {
    /// A filter that keeps every span.
    ///
    /// ```
    /// assert!(agent_trace::sampling::SpanFilter::new().keeps(&agent_trace::SpanData::custom("x")));
    /// ```
    pub fn new() -> Self {
        SpanFilter::default()
    }

    /// Keeps only the given kinds (replaces earlier kind settings).
    ///
    /// ```
    /// use agent_trace::{sampling::SpanFilter, SpanKind};
    /// let f = SpanFilter::new().only_kinds([SpanKind::Agent, SpanKind::Generation]);
    /// assert!(!f.keeps(&agent_trace::SpanData::custom("x")));
    /// ```
    pub fn only_kinds(mut self, kinds: impl IntoIterator<Item = SpanKind>) -> Self {
        let on = kinds.into_iter().fold(0u16, |acc, k| acc | bit(k));
        self.kinds_off = !on & ((1u16 << SpanKind::ALL.len()) - 1);
        self
    }

    /// Switches a kind off.
    ///
    /// ```
    /// let f = agent_trace::sampling::SpanFilter::new().drop_kind(agent_trace::SpanKind::Custom);
    /// assert!(!f.keeps(&agent_trace::SpanData::custom("x")));
    /// ```
    pub fn drop_kind(mut self, kind: SpanKind) -> Self {
        self.kinds_off |= bit(kind);
        self
    }

    /// Switches a kind back on.
    ///
    /// ```
    /// use agent_trace::{sampling::SpanFilter, SpanKind};
    /// let f = SpanFilter::new().drop_kind(SpanKind::Custom).keep_kind(SpanKind::Custom);
    /// assert!(f.keeps(&agent_trace::SpanData::custom("x")));
    /// ```
    pub fn keep_kind(mut self, kind: SpanKind) -> Self {
        self.kinds_off &= !bit(kind);
        self
    }

    /// Adds a rule keeping spans whose name matches `pattern`, whatever their kind.
    ///
    /// ```
    /// let f = agent_trace::sampling::SpanFilter::new().keep_name("important_*");
    /// # let _ = f;
    /// ```
    pub fn keep_name(mut self, pattern: impl Into<String>) -> Self {
        self.names.push((pattern.into(), true));
        self
    }

    /// Adds a rule dropping spans whose name matches `pattern`.
    ///
    /// ```
    /// let f = agent_trace::sampling::SpanFilter::new().drop_name("*healthcheck*");
    /// assert!(!f.keeps(&agent_trace::SpanData::custom("db_healthcheck")));
    /// ```
    pub fn drop_name(mut self, pattern: impl Into<String>) -> Self {
        self.names.push((pattern.into(), false));
        self
    }

    /// Whether a span with this data is recorded.
    ///
    /// ```
    /// assert!(agent_trace::sampling::SpanFilter::new().keeps(&agent_trace::SpanData::custom("x")));
    /// ```
    pub fn keeps(&self, data: &SpanData) -> bool {
        if !self.names.is_empty() {
            if let Some(name) = data.name() {
                if let Some((_, keep)) = self.names.iter().find(|(p, _)| glob_match(p, name)) {
                    return *keep;
                }
            }
        }
        self.kinds_off & bit(data.kind()) == 0
    }

    /// Whether the filter keeps everything (then the provider skips it).
    pub(crate) fn is_noop(&self) -> bool {
        self.kinds_off == 0 && self.names.iter().all(|(_, keep)| *keep)
    }

    /// Replaces the kind settings with `other`'s.
    pub(crate) fn with_kinds_of(mut self, other: &SpanFilter) -> Self {
        self.kinds_off = other.kinds_off;
        self
    }

    /// Replaces the name rules with `other`'s.
    pub(crate) fn with_names_of(mut self, other: &SpanFilter) -> Self {
        self.names = other.names.clone();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &'static str) -> SpanData {
        let mut d = SpanData::empty(SpanKind::Function);
        if let SpanData::Function(f) = &mut d {
            f.name = name.into();
        }
        d
    }

    #[test]
    fn names_before_kinds_first_match_wins() {
        let f = SpanFilter::new()
            .only_kinds([SpanKind::Agent])
            .keep_name("search_docs")
            .drop_name("search_*")
            .keep_name("search_web");
        assert!(f.keeps(&function("search_docs")));
        assert!(!f.keeps(&function("search_web")));
        assert!(!f.keeps(&function("other")));
        assert!(f.keeps(&SpanData::empty(SpanKind::Agent)));
        assert!(!f.is_noop());
        assert!(SpanFilter::new().keep_name("x").is_noop());
    }
}

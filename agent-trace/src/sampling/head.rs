//! Head samplers: decided once when a trace starts.

use serde_json::{Map, Value};

use super::{glob_match, ratio_keeps};
use crate::id::TraceId;
use crate::model::{SpanKind, SpanRecord};

/// What a head sampler sees when a trace starts.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SamplingParams<'a> {
    /// The trace's id.
    pub trace_id: TraceId,
    /// The workflow name (empty for a continued remote trace).
    pub workflow_name: &'a str,
    /// The trace's metadata, if any.
    pub metadata: Option<&'a Map<String, Value>>,
    /// The remote caller's sampled flag when the trace continues one (`traceparent`), `None`
    /// for a trace started here.
    pub parent_sampled: Option<bool>,
}

impl<'a> SamplingParams<'a> {
    /// Parameters for a trace started here (no remote parent).
    ///
    /// ```
    /// use agent_trace::sampling::{Sampler, SamplingParams, AlwaysOn};
    /// let p = SamplingParams::root(agent_trace::TraceId::random(), "wf", None);
    /// assert!(AlwaysOn.should_sample(&p));
    /// ```
    pub fn root(
        trace_id: TraceId,
        workflow_name: &'a str,
        metadata: Option<&'a Map<String, Value>>,
    ) -> Self {
        SamplingParams {
            trace_id,
            workflow_name,
            metadata,
            parent_sampled: None,
        }
    }

    /// The same parameters with the remote caller's sampled flag.
    ///
    /// ```
    /// use agent_trace::sampling::SamplingParams;
    /// let p = SamplingParams::root(agent_trace::TraceId::random(), "wf", None).with_parent(false);
    /// assert_eq!(p.parent_sampled, Some(false));
    /// ```
    pub fn with_parent(mut self, sampled: bool) -> Self {
        self.parent_sampled = Some(sampled);
        self
    }
}

/// Decides, when a trace starts, whether it is recorded. Implementations must be cheap (once
/// per trace) and must not panic.
pub trait Sampler: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the trace is recorded (and exported, and propagated as sampled).
    fn should_sample(&self, params: &SamplingParams<'_>) -> bool;
}

impl<S: Sampler + ?Sized> Sampler for Box<S> {
    fn should_sample(&self, params: &SamplingParams<'_>) -> bool {
        (**self).should_sample(params)
    }
}

impl<S: Sampler + ?Sized> Sampler for std::sync::Arc<S> {
    fn should_sample(&self, params: &SamplingParams<'_>) -> bool {
        (**self).should_sample(params)
    }
}

/// Records every trace (`always_on`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysOn;

impl Sampler for AlwaysOn {
    fn should_sample(&self, _: &SamplingParams<'_>) -> bool {
        true
    }
}

/// Records no trace (`always_off`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysOff;

impl Sampler for AlwaysOff {
    fn should_sample(&self, _: &SamplingParams<'_>) -> bool {
        false
    }
}

/// Records a fraction of traces, decided from the trace id alone (`traceidratio`): every
/// service with the same ratio keeps the same traces. The low 56 bits of the id are compared
/// with `ratio · 2^56`, as OpenTelemetry's samplers do (W3C trace ids are random there).
#[derive(Debug, Clone, Copy)]
pub struct TraceIdRatio {
    ratio: f64,
}

impl TraceIdRatio {
    /// A sampler keeping `ratio` of the traces (clamped to `[0, 1]`; NaN keeps none).
    ///
    /// ```
    /// use agent_trace::sampling::{Sampler, SamplingParams, TraceIdRatio};
    /// let id = agent_trace::TraceId::random();
    /// assert!(TraceIdRatio::new(1.0).should_sample(&SamplingParams::root(id, "wf", None)));
    /// assert!(!TraceIdRatio::new(0.0).should_sample(&SamplingParams::root(id, "wf", None)));
    /// ```
    pub fn new(ratio: f64) -> Self {
        TraceIdRatio {
            ratio: if ratio.is_nan() {
                0.0
            } else {
                ratio.clamp(0.0, 1.0)
            },
        }
    }

    /// The ratio kept.
    ///
    /// ```
    /// assert_eq!(agent_trace::sampling::TraceIdRatio::new(2.0).ratio(), 1.0);
    /// ```
    pub fn ratio(&self) -> f64 {
        self.ratio
    }
}

impl Sampler for TraceIdRatio {
    fn should_sample(&self, p: &SamplingParams<'_>) -> bool {
        ratio_keeps(p.trace_id.to_u128() as u64, self.ratio)
    }
}

/// Follows the remote caller's sampled flag when a trace continues one, and asks `root` for
/// traces started here (`parentbased_*`). Spans inside a trace always follow their trace.
#[derive(Debug)]
pub struct ParentBased {
    root: Box<dyn Sampler>,
}

impl ParentBased {
    /// A parent-based sampler with `root` for traces started here.
    ///
    /// ```
    /// use agent_trace::sampling::{AlwaysOn, ParentBased, Sampler, SamplingParams};
    /// let s = ParentBased::new(AlwaysOn);
    /// let p = SamplingParams::root(agent_trace::TraceId::random(), "", None);
    /// assert!(s.should_sample(&p));
    /// assert!(!s.should_sample(&p.with_parent(false)));
    /// ```
    pub fn new(root: impl Sampler) -> Self {
        ParentBased {
            root: Box::new(root),
        }
    }
}

impl Sampler for ParentBased {
    fn should_sample(&self, p: &SamplingParams<'_>) -> bool {
        match p.parent_sampled {
            Some(sampled) => sampled,
            None => self.root.should_sample(p),
        }
    }
}

/// A priority rule: traces matching it are kept at its ratio (1.0 unless
/// [`keep_ratio`](PriorityRule::keep_ratio) says otherwise).
///
/// A rule has a metadata condition, a span condition (kind and/or name pattern with `*`
/// wildcards), or both. A [`PrioritySampler`] (at trace start) only knows the metadata and
/// skips rules with a span condition; a [`TailPolicy`](super::TailPolicy) sees the whole
/// trace: the span condition matches when any span of the trace matches it.
///
/// ```
/// use agent_trace::{sampling::PriorityRule, SpanKind};
/// let high = PriorityRule::metadata("priority", "high");
/// let searches = PriorityRule::span(Some(SpanKind::Function), Some("search_*")).keep_ratio(0.1);
/// # let _ = (high, searches);
/// ```
#[derive(Debug, Clone)]
pub struct PriorityRule {
    metadata: Option<(String, Value)>,
    kind: Option<SpanKind>,
    name: Option<String>,
    ratio: f64,
}

impl PriorityRule {
    /// Matches traces whose metadata has `key` equal to `value`.
    ///
    /// ```
    /// let r = agent_trace::sampling::PriorityRule::metadata("tier", "gold");
    /// # let _ = r;
    /// ```
    pub fn metadata(key: impl Into<String>, value: impl Into<Value>) -> Self {
        PriorityRule {
            metadata: Some((key.into(), value.into())),
            kind: None,
            name: None,
            ratio: 1.0,
        }
    }

    /// Matches traces with a span of `kind` (any when `None`) whose name matches `name` (any
    /// when `None`; `*` is a wildcard).
    ///
    /// ```
    /// let r = agent_trace::sampling::PriorityRule::span(None, Some("*payment*"));
    /// # let _ = r;
    /// ```
    pub fn span(kind: Option<SpanKind>, name: Option<&str>) -> Self {
        PriorityRule {
            metadata: None,
            kind,
            name: name.map(str::to_owned),
            ratio: 1.0,
        }
    }

    /// Adds (or replaces) the metadata condition of a span rule.
    ///
    /// ```
    /// use agent_trace::sampling::PriorityRule;
    /// let r = PriorityRule::span(None, Some("refund*")).and_metadata("tier", "gold");
    /// # let _ = r;
    /// ```
    pub fn and_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata = Some((key.into(), value.into()));
        self
    }

    /// The fraction of matching traces kept (decided from the trace id; clamped to `[0, 1]`).
    ///
    /// ```
    /// let r = agent_trace::sampling::PriorityRule::metadata("priority", "low").keep_ratio(0.0);
    /// # let _ = r;
    /// ```
    pub fn keep_ratio(mut self, ratio: f64) -> Self {
        self.ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        self
    }

    pub(crate) fn has_span_condition(&self) -> bool {
        self.kind.is_some() || self.name.is_some()
    }

    pub(crate) fn metadata_matches(&self, metadata: Option<&Map<String, Value>>) -> bool {
        match &self.metadata {
            None => true,
            Some((k, v)) => metadata.and_then(|m| m.get(k)) == Some(v),
        }
    }

    pub(crate) fn span_matches(&self, span: &SpanRecord) -> bool {
        if let Some(kind) = self.kind {
            if span.data.kind() != kind {
                return false;
            }
        }
        match &self.name {
            None => true,
            Some(p) => span.data.name().is_some_and(|n| glob_match(p, n)),
        }
    }

    pub(crate) fn decides(&self, trace_id: TraceId) -> bool {
        ratio_keeps(trace_id.to_u128() as u64, self.ratio)
    }
}

/// Priority rules on a trace's metadata first, then a fallback sampler: the first rule whose
/// metadata condition holds decides (at its ratio); rules with a span condition are skipped
/// (see [`PriorityRule`]).
///
/// ```
/// use agent_trace::sampling::{PriorityRule, PrioritySampler, Sampler, SamplingParams, TraceIdRatio};
/// let s = PrioritySampler::new(TraceIdRatio::new(0.0)).rule(PriorityRule::metadata("priority", "high"));
/// let mut md = serde_json::Map::new();
/// md.insert("priority".into(), "high".into());
/// let id = agent_trace::TraceId::random();
/// assert!(s.should_sample(&SamplingParams::root(id, "wf", Some(&md))));
/// assert!(!s.should_sample(&SamplingParams::root(id, "wf", None)));
/// ```
#[derive(Debug)]
pub struct PrioritySampler {
    rules: Vec<PriorityRule>,
    fallback: Box<dyn Sampler>,
}

impl PrioritySampler {
    /// No rules yet; `fallback` decides.
    ///
    /// ```
    /// let s = agent_trace::sampling::PrioritySampler::new(agent_trace::sampling::AlwaysOn);
    /// # let _ = s;
    /// ```
    pub fn new(fallback: impl Sampler) -> Self {
        PrioritySampler {
            rules: Vec::new(),
            fallback: Box::new(fallback),
        }
    }

    /// Adds a rule (rules are tried in the order added).
    ///
    /// ```
    /// use agent_trace::sampling::{AlwaysOn, PriorityRule, PrioritySampler};
    /// let s = PrioritySampler::new(AlwaysOn).rule(PriorityRule::metadata("env", "test").keep_ratio(0.0));
    /// # let _ = s;
    /// ```
    pub fn rule(mut self, rule: PriorityRule) -> Self {
        self.rules.push(rule);
        self
    }
}

impl Sampler for PrioritySampler {
    fn should_sample(&self, p: &SamplingParams<'_>) -> bool {
        for r in &self.rules {
            if r.metadata.is_some() && !r.has_span_condition() && r.metadata_matches(p.metadata) {
                return r.decides(p.trace_id);
            }
        }
        self.fallback.should_sample(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_deterministic_and_close() {
        let s = TraceIdRatio::new(0.3);
        let ids: Vec<TraceId> = (0..20_000).map(|_| TraceId::random()).collect();
        let kept = ids
            .iter()
            .filter(|id| s.should_sample(&SamplingParams::root(**id, "", None)))
            .count();
        assert!((5_000..7_000).contains(&kept), "{kept}");
        for id in &ids[..100] {
            let p = SamplingParams::root(*id, "", None);
            assert_eq!(
                s.should_sample(&p),
                TraceIdRatio::new(0.3).should_sample(&p)
            );
        }
        // A larger ratio keeps a superset.
        let wider = TraceIdRatio::new(0.6);
        assert!(ids.iter().all(|id| {
            let p = SamplingParams::root(*id, "", None);
            !s.should_sample(&p) || wider.should_sample(&p)
        }));
    }

    #[test]
    fn parent_based_follows_the_parent() {
        let s = ParentBased::new(AlwaysOff);
        let p = SamplingParams::root(TraceId::random(), "", None);
        assert!(!s.should_sample(&p));
        assert!(s.should_sample(&p.with_parent(true)));
        assert!(!s.should_sample(&p.with_parent(false)));
    }
}

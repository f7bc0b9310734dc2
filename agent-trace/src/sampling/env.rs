//! Samplers and span filters from environment variables.

use super::{AlwaysOff, AlwaysOn, ParentBased, Sampler, SpanFilter, TraceIdRatio};
use crate::model::SpanKind;

/// A sampling variable with a value this SDK does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplingEnvError {
    /// `OTEL_TRACES_SAMPLER` names a sampler this SDK does not have.
    #[error("OTEL_TRACES_SAMPLER=`{0}` is not supported: use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")]
    UnknownSampler(String),
    /// `OTEL_TRACES_SAMPLER_ARG` is not a number in `[0, 1]`.
    #[error("OTEL_TRACES_SAMPLER_ARG=`{0}` is not a ratio between 0 and 1; using 1.0")]
    BadRatio(String),
    /// A kind in `AGENT_TRACE_SPAN_KINDS` is unknown, or `+`/`-` forms are mixed.
    #[error("AGENT_TRACE_SPAN_KINDS=`{0}`: expected kinds to keep (`agent,generation`) or to drop (`-function,-custom`), from agent, function, generation, response, handoff, custom, guardrail, transcription, speech, speech_group, mcp_tools")]
    BadKinds(String),
    /// A rule in `AGENT_TRACE_SPAN_FILTER` lacks its `+` or `-`.
    #[error("AGENT_TRACE_SPAN_FILTER=`{0}`: expected comma-separated rules `+pattern` (keep) or `-pattern` (drop), `*` as wildcard")]
    BadFilter(String),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The sampler named by `OTEL_TRACES_SAMPLER` (with `OTEL_TRACES_SAMPLER_ARG` for the ratio
/// samplers), or `None` when the variable is not set. The provider's builder reads it when the
/// code sets no sampler; an error there is reported as a diagnostic and the default
/// (`parentbased_always_on`) is used, or for a bad ratio the sampler with ratio 1.0.
///
/// ```
/// // Unset in this doc test:
/// assert!(agent_trace::sampling::sampler_from_env().unwrap().is_none());
/// ```
pub fn sampler_from_env() -> Result<Option<Box<dyn Sampler>>, SamplingEnvError> {
    match var("OTEL_TRACES_SAMPLER") {
        None => Ok(None),
        Some(name) => parse_sampler(&name, var("OTEL_TRACES_SAMPLER_ARG").as_deref()).map(Some),
    }
}

/// A sampler from its OpenTelemetry name and argument. `Err(BadRatio)` comes with nothing
/// built: callers fall back to [`sampler_with_ratio_one`].
pub(crate) fn parse_sampler(
    name: &str,
    arg: Option<&str>,
) -> Result<Box<dyn Sampler>, SamplingEnvError> {
    let ratio = || -> Result<f64, SamplingEnvError> {
        match arg.map(str::trim) {
            None => Ok(1.0),
            Some(a) => match a.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(SamplingEnvError::BadRatio(a.to_owned())),
            },
        }
    };
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "always_on" => Box::new(AlwaysOn),
        "always_off" => Box::new(AlwaysOff),
        "traceidratio" => Box::new(TraceIdRatio::new(ratio()?)),
        "parentbased_always_on" => Box::new(ParentBased::new(AlwaysOn)),
        "parentbased_always_off" => Box::new(ParentBased::new(AlwaysOff)),
        "parentbased_traceidratio" => Box::new(ParentBased::new(TraceIdRatio::new(ratio()?))),
        _ => return Err(SamplingEnvError::UnknownSampler(name.to_owned())),
    })
}

/// The sampler the variables name with ratio 1.0 (after a bad `OTEL_TRACES_SAMPLER_ARG`).
pub(crate) fn sampler_with_ratio_one(name: &str) -> Option<Box<dyn Sampler>> {
    parse_sampler(name, None).ok()
}

/// The span filter the environment asks for: `AGENT_TRACE_SPAN_KINDS` sets the kinds (only
/// the listed ones, or all but the `-`-prefixed ones) and `AGENT_TRACE_SPAN_FILTER` the name
/// rules (`+pattern` keeps, `-pattern` drops, first match wins). `Ok(None)` when neither is
/// set. The provider's builder applies each variable that is set over what the code set (so
/// an operator can switch spans off without a rebuild); an error is reported as a diagnostic
/// and that variable ignored.
///
/// ```
/// assert!(agent_trace::sampling::span_filter_from_env().unwrap().is_none());
/// ```
pub fn span_filter_from_env() -> Result<Option<SpanFilter>, SamplingEnvError> {
    let kinds = var("AGENT_TRACE_SPAN_KINDS");
    let names = var("AGENT_TRACE_SPAN_FILTER");
    if kinds.is_none() && names.is_none() {
        return Ok(None);
    }
    let mut f = SpanFilter::new();
    if let Some(k) = kinds {
        f = parse_kinds(&k)?;
    }
    if let Some(n) = names {
        f = f.with_names_of(&parse_names(&n)?);
    }
    Ok(Some(f))
}

/// Applies the environment's filter variables over `code` (each variable set replaces its part).
pub(crate) fn apply_env_filter(code: Option<SpanFilter>) -> Option<SpanFilter> {
    let report = |e: SamplingEnvError| {
        crate::diag::emit(crate::Diagnostic {
            key: "sampling_env",
            message: format!("{e}; the variable is ignored"),
            count: 1,
        })
    };
    let mut f = code;
    if let Some(k) = var("AGENT_TRACE_SPAN_KINDS") {
        match parse_kinds(&k) {
            Ok(kinds) => f = Some(f.unwrap_or_default().with_kinds_of(&kinds)),
            Err(e) => report(e),
        }
    }
    if let Some(n) = var("AGENT_TRACE_SPAN_FILTER") {
        match parse_names(&n) {
            Ok(names) => f = Some(f.unwrap_or_default().with_names_of(&names)),
            Err(e) => report(e),
        }
    }
    f
}

/// The sampler for a provider whose code set none: the environment's, else `None` (the
/// default, parent-based always-on).
pub(crate) fn env_sampler_or_default() -> Option<Box<dyn Sampler>> {
    match sampler_from_env() {
        Ok(s) => s,
        Err(e) => {
            crate::diag::emit(crate::Diagnostic {
                key: "sampling_env",
                message: e.to_string(),
                count: 1,
            });
            match e {
                SamplingEnvError::BadRatio(_) => {
                    var("OTEL_TRACES_SAMPLER").and_then(|n| sampler_with_ratio_one(&n))
                }
                _ => None,
            }
        }
    }
}

fn parse_kind(s: &str) -> Option<SpanKind> {
    SpanKind::ALL.into_iter().find(|k| k.as_str() == s)
}

pub(crate) fn parse_kinds(value: &str) -> Result<SpanFilter, SamplingEnvError> {
    let bad = || SamplingEnvError::BadKinds(value.to_owned());
    let items: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let negative = items.iter().filter(|s| s.starts_with('-')).count();
    if negative != 0 && negative != items.len() {
        return Err(bad());
    }
    let mut kinds = Vec::new();
    for item in &items {
        let k = item.trim_start_matches('-').to_ascii_lowercase();
        kinds.push(parse_kind(&k).ok_or_else(bad)?);
    }
    Ok(if negative == 0 {
        SpanFilter::new().only_kinds(kinds)
    } else {
        kinds
            .into_iter()
            .fold(SpanFilter::new(), |f, k| f.drop_kind(k))
    })
}

pub(crate) fn parse_names(value: &str) -> Result<SpanFilter, SamplingEnvError> {
    let mut f = SpanFilter::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        f = if let Some(p) = item.strip_prefix('+') {
            f.keep_name(p)
        } else if let Some(p) = item.strip_prefix('-') {
            f.drop_name(p)
        } else {
            return Err(SamplingEnvError::BadFilter(value.to_owned()));
        };
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanData;

    #[test]
    fn sampler_names() {
        for ok in [
            "always_on",
            "ALWAYS_OFF",
            "traceidratio",
            "parentbased_always_on",
            "parentbased_always_off",
            "parentbased_traceidratio",
        ] {
            assert!(parse_sampler(ok, Some("0.5")).is_ok(), "{ok}");
        }
        assert!(matches!(
            parse_sampler("jaeger_remote", None),
            Err(SamplingEnvError::UnknownSampler(_))
        ));
        assert!(matches!(
            parse_sampler("traceidratio", Some("1.5")),
            Err(SamplingEnvError::BadRatio(_))
        ));
        assert!(parse_sampler("always_on", Some("nonsense")).is_ok());
    }

    #[test]
    fn kinds_and_names() {
        let only = parse_kinds("agent, generation").unwrap();
        assert!(only.keeps(&SpanData::empty(SpanKind::Agent)));
        assert!(!only.keeps(&SpanData::custom("x")));
        let but = parse_kinds("-custom").unwrap();
        assert!(!but.keeps(&SpanData::custom("x")));
        assert!(but.keeps(&SpanData::empty(SpanKind::Function)));
        assert!(parse_kinds("agent,-custom").is_err());
        assert!(parse_kinds("agents").is_err());
        let names = parse_names("+keep_*, -*").unwrap();
        assert!(names.keeps(&SpanData::custom("keep_me")));
        assert!(!names.keeps(&SpanData::custom("other")));
        assert!(parse_names("nosign").is_err());
    }
}

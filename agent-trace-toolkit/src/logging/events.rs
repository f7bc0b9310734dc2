//! [`LoggingProcessor`]: a log line per span start and end under the seed's hierarchy.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use agent_trace::span_data::SpanData;
use agent_trace::{SpanId, SpanRecord, TraceRecord, TracingProcessor};
use tracing_core::Level;

use super::callsite;

/// Turns spans into `tracing` events under the seed's logger hierarchy:
///
/// | span | logger | start | end |
/// |---|---|---|---|
/// | agent | `agent.<name>` | `DEBUG started` | `INFO response generated in 0.8s` |
/// | generation | `models.<model>` | `DEBUG request started` | `DEBUG tokens in=12 out=5 total=17 (0.31s)` |
/// | function | `tools.<name>` | `DEBUG called` | `DEBUG completed in 0.05s` |
/// | hand-off | `agent.<from>` | | `INFO handed off to <to>` |
/// | retry attempt, custom, guardrail, trace | `runtime` | `DEBUG` | `DEBUG` / `INFO` |
///
/// A span that ends with an error logs `WARN … failed: <message> (attempt n/m)` when it ran
/// inside an attempt of [`agent_trace::retry`] that was not the last, `ERROR … failed` otherwise;
/// each later attempt logs `INFO runtime - <name> attempt n/m after waiting <d>ms`.
/// Inputs and outputs are never logged; only names, timings, token counts and error messages.
///
/// The events reach whatever `tracing` subscriber is installed: yours (filter them with
/// `agent=info,models=warn,…`), or the one [`init`](super::init) installs.
#[derive(Debug, Default)]
pub struct LoggingProcessor {
    /// Retry attempts in flight: span id → (attempt, max attempts).
    attempts: Mutex<HashMap<SpanId, (u64, u64)>>,
}

impl LoggingProcessor {
    /// A processor emitting to the current `tracing` subscriber.
    pub fn new() -> Self {
        LoggingProcessor::default()
    }

    fn attempt_of(&self, span: &SpanRecord) -> Option<(u64, u64)> {
        let parent = span.parent_id?;
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&parent)
            .copied()
    }
}

/// `(attempt, max_attempts)` of a retry-attempt span (see `agent_trace::retry`).
fn attempt_data(span: &SpanRecord) -> Option<(u64, u64)> {
    let SpanData::Custom(c) = &span.data else {
        return None;
    };
    Some((
        c.data.get("attempt")?.as_u64()?,
        c.data.get("max_attempts")?.as_u64()?,
    ))
}

/// A duration for a log line: `0.8s`, `12ms`, `35µs`.
fn took(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.0}s")
    } else if s >= 1.0 {
        format!("{s:.1}s")
    } else if s >= 0.1 {
        format!("{s:.2}s")
    } else if d.as_millis() >= 1 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}µs", d.as_micros())
    }
}

fn log(target: &str, level: Level, span: Option<&SpanRecord>, message: impl FnOnce() -> String) {
    if !callsite::enabled(target, level) {
        return;
    }
    let trace_id = span.map(|s| s.trace_id.to_string());
    let span_id = span.map(|s| s.id.to_string());
    callsite::emit(
        target,
        level,
        format_args!("{}", message()),
        trace_id.as_deref(),
        span_id.as_deref(),
    );
}

/// The logger of a span and how it is called in messages.
fn logger(span: &SpanRecord) -> String {
    let name = span.data.name().filter(|n| !n.is_empty());
    match &span.data {
        SpanData::Agent(_) => format!("agent.{}", name.unwrap_or("unnamed")),
        SpanData::Generation(_) | SpanData::Transcription(_) | SpanData::Speech(_) => {
            format!("models.{}", name.unwrap_or("unknown"))
        }
        SpanData::Response(_) => "models.response".to_owned(),
        SpanData::Function(_) | SpanData::McpTools(_) => {
            format!("tools.{}", name.unwrap_or("unnamed"))
        }
        SpanData::Handoff(h) => format!("agent.{}", h.from_agent.as_deref().unwrap_or("unnamed")),
        _ => "runtime".to_owned(),
    }
}

impl TracingProcessor for LoggingProcessor {
    fn on_trace_start(&self, trace: &TraceRecord) {
        log("runtime", Level::DEBUG, None, || {
            format!("trace {} started ({})", trace.workflow_name, trace.id)
        });
    }

    fn on_trace_end(&self, trace: &TraceRecord) {
        log("runtime", Level::INFO, None, || {
            let d = match (trace.started_at, trace.ended_at) {
                (Some(s), Some(e)) => format!(" in {}", took(e.saturating_duration_since(s))),
                _ => String::new(),
            };
            format!("trace {} finished{d} ({})", trace.workflow_name, trace.id)
        });
    }

    fn on_span_start(&self, span: &SpanRecord) {
        if let Some(a) = attempt_data(span) {
            self.attempts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(span.id, a);
            if a.0 > 1 {
                log("runtime", Level::INFO, Some(span), || {
                    let name = span.data.name().unwrap_or("retry attempt");
                    let delay = match &span.data {
                        SpanData::Custom(c) => c.data.get("delay_ms").and_then(|v| v.as_u64()),
                        _ => None,
                    };
                    match delay {
                        Some(ms) => format!("{name} {}/{} after waiting {ms}ms", a.0, a.1),
                        None => format!("{name} {}/{}", a.0, a.1),
                    }
                });
            }
            return;
        }
        let what = match &span.data {
            SpanData::Agent(_) => "started",
            SpanData::Generation(_) => "request started",
            SpanData::Function(_) => "called",
            SpanData::Handoff(_) => return,
            _ => "started",
        };
        let target = logger(span);
        log(&target, Level::DEBUG, Some(span), || {
            match target.as_str() {
                "runtime" => format!(
                    "{} {what}",
                    span.data.name().unwrap_or(span.data.kind().as_str())
                ),
                _ => what.to_owned(),
            }
        });
    }

    fn on_span_end(&self, span: &SpanRecord) {
        let attempt = attempt_data(span);
        if attempt.is_some() {
            self.attempts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&span.id);
        }
        let target = logger(span);
        let d = took(span.duration());
        let label = span.data.name().unwrap_or(span.data.kind().as_str());
        if let Some(err) = &span.error {
            let within = attempt.or_else(|| self.attempt_of(span));
            let (level, suffix) = match within {
                // The attempt's own span: its tool or model already said why, at WARN.
                Some((n, max)) if n < max && attempt.is_some() => {
                    (Level::DEBUG, format!(" (attempt {n}/{max})"))
                }
                Some((n, max)) if n < max => (Level::WARN, format!(" (attempt {n}/{max})")),
                Some((n, max)) => (Level::ERROR, format!(" (attempt {n}/{max})")),
                None => (Level::ERROR, String::new()),
            };
            log(&target, level, Some(span), || {
                let who = if target == "runtime" {
                    format!("{label} ")
                } else {
                    String::new()
                };
                format!("{who}failed after {d}: {}{suffix}", err.message)
            });
            return;
        }
        match &span.data {
            SpanData::Agent(_) => log(&target, Level::INFO, Some(span), || {
                format!("response generated in {d}")
            }),
            SpanData::Generation(_) | SpanData::Response(_) => {
                log(&target, Level::DEBUG, Some(span), || {
                    match span.data.usage() {
                        Some(u) => format!(
                            "tokens in={} out={} total={} ({d})",
                            u.input_tokens,
                            u.output_tokens,
                            u.total()
                        ),
                        None => format!("response in {d}"),
                    }
                })
            }
            SpanData::Handoff(h) => log(&target, Level::INFO, Some(span), || {
                format!(
                    "handed off to {}",
                    h.to_agent.as_deref().unwrap_or("unknown")
                )
            }),
            SpanData::Guardrail(g) if g.triggered => log(&target, Level::WARN, Some(span), || {
                format!("guardrail {} triggered", g.name)
            }),
            _ => log(&target, Level::DEBUG, Some(span), || {
                let mut m = String::new();
                if target == "runtime" {
                    let _ = write!(m, "{label} ");
                }
                let _ = write!(m, "completed in {d}");
                m
            }),
        }
    }
}

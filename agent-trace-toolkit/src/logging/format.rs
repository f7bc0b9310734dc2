//! Line formats of our own writer: a text template or one JSON object per line.

use std::fmt;

use serde_json::{Map, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The default text template: `2026-11-30T23:15:04.123Z INFO  agent.triage - response generated in 0.8s`.
pub const DEFAULT_TEMPLATE: &str = "{time} {level} {target} - {message}";

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "time", "level", "target", "message", "trace_id", "span_id", "fields",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(&'static str),
}

/// How our writer formats a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFormat {
    json: bool,
    pieces: Vec<Piece>,
}

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad log format template {template:?}: {why}; placeholders are {{time}}, {{level}}, {{target}}, {{message}}, {{trace_id}}, {{span_id}}, {{fields}} (write {{{{ and }}}} for literal braces)")]
pub struct TemplateError {
    /// The template.
    pub template: String,
    /// What is wrong.
    pub why: String,
}

impl LineFormat {
    /// One JSON object per line: `time`, `level`, `target`, `message`, and the other fields.
    pub fn json() -> Self {
        LineFormat {
            json: true,
            pieces: Vec::new(),
        }
    }

    /// Text lines from a template such as [`DEFAULT_TEMPLATE`].
    pub fn text(template: &str) -> Result<Self, TemplateError> {
        let err = |why: String| TemplateError {
            template: template.to_owned(),
            why,
        };
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let Some(&p) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                        return Err(err(format!("unknown placeholder {{{name}}}")));
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field(p));
                }
                '}' => return Err(err("a lone }".to_owned())),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(LineFormat {
            json: false,
            pieces,
        })
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    trace_id: Option<String>,
    span_id: Option<String>,
    rest: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "trace_id" => self.trace_id = Some(value.to_owned()),
            "span_id" => self.span_id = Some(value.to_owned()),
            n => {
                self.rest.insert(n.to_owned(), value.into());
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.rest.insert(field.name().to_owned(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rest.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rest.insert(field.name().to_owned(), value.into());
    }
}

fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut f = Fields::default();
        event.record(&mut f);
        let meta = event.metadata();
        if self.json {
            let mut obj = Map::new();
            obj.insert("time".into(), now().into());
            obj.insert("level".into(), meta.level().as_str().into());
            obj.insert("target".into(), meta.target().into());
            obj.insert("message".into(), f.message.into());
            if let Some(t) = f.trace_id {
                obj.insert("trace_id".into(), t.into());
            }
            if let Some(s) = f.span_id {
                obj.insert("span_id".into(), s.into());
            }
            obj.extend(f.rest);
            return writeln!(w, "{}", Value::Object(obj));
        }
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => w.write_str(t)?,
                Piece::Field("time") => w.write_str(&now())?,
                Piece::Field("level") => write!(w, "{:<5}", meta.level().as_str())?,
                Piece::Field("target") => w.write_str(meta.target())?,
                Piece::Field("message") => w.write_str(&f.message)?,
                Piece::Field("trace_id") => w.write_str(f.trace_id.as_deref().unwrap_or("-"))?,
                Piece::Field("span_id") => w.write_str(f.span_id.as_deref().unwrap_or("-"))?,
                Piece::Field(_) => {
                    let mut first = true;
                    for (k, v) in &f.rest {
                        if !first {
                            w.write_char(' ')?;
                        }
                        first = false;
                        match v {
                            Value::String(s) => write!(w, "{k}={s}")?,
                            v => write!(w, "{k}={v}")?,
                        }
                    }
                }
            }
        }
        writeln!(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_reject_unknown_placeholders() {
        assert!(LineFormat::text(DEFAULT_TEMPLATE).is_ok());
        assert!(LineFormat::text("{{literal}} {level}").is_ok());
        let e = LineFormat::text("{time} {lvl}").unwrap_err();
        assert!(e.to_string().contains("{lvl}"), "{e}");
        assert!(LineFormat::text("oops }").is_err());
    }
}

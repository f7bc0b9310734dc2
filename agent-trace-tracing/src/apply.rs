//! Reading `tracing` field values and putting them where a [`Rule`] says on a span record.

use agent_trace::span_data::SpanData;
use agent_trace::{Name, SpanError, SpanRecord, Usage};
use serde_json::{Map, Value};
use smallvec::SmallVec;
use tracing_core::field::{Field, Visit};

use crate::rules::{Rule, Rules, Slot};

/// The values of one `new_span` or `record` call, in field order (up to eight without a heap
/// allocation).
#[derive(Default)]
pub(crate) struct Values(pub(crate) SmallVec<[(&'static str, Value); 8]>);

impl Values {
    pub(crate) fn get(&self, field: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == field).map(|(_, v)| v)
    }
}

impl Visit for Values {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push((field.name(), Value::from(value)));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push((field.name(), Value::from(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name(), Value::from(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push((field.name(), Value::from(value)));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name(), Value::from(value)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name(), Value::String(format!("{value:?}"))));
    }
}

fn condition_text_holds(wanted: &[crate::rules::Text], text: &str) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| w == text)
}

/// The rules' condition fields, numbered once when the layer is built: rules that test the
/// same field (the GenAI rules all test `gen_ai.operation.name`) share one number, so a span's
/// values are compared with each distinct field name once.
#[derive(Debug, Default)]
pub(crate) struct ConditionFields {
    names: Vec<crate::rules::Text>,
    /// Per rule, the number of its condition field.
    of_rule: Vec<Option<usize>>,
}

impl ConditionFields {
    pub(crate) fn new(rules: &Rules) -> ConditionFields {
        let mut names: Vec<crate::rules::Text> = Vec::new();
        let of_rule = rules
            .rules
            .iter()
            .map(|r| {
                let (field, _) = r.field.as_ref()?;
                Some(match names.iter().position(|n| n == field) {
                    Some(c) => c,
                    None => {
                        names.push(field.clone());
                        names.len() - 1
                    }
                })
            })
            .collect();
        ConditionFields { names, of_rule }
    }
}

/// The field conditions of the rules, decided in one pass over a span's values without
/// building them: per rule, 0 = field not seen (yet), 1 = holds, 2 = does not.
struct Conditions<'a> {
    rules: &'a [Rule],
    fields: &'a ConditionFields,
    state: SmallVec<[u8; 16]>,
}

impl Conditions<'_> {
    /// Decides the conditions on `field` (the first value of a field counts), building the
    /// value's text only when a rule looks at it.
    fn see(&mut self, field: &Field, text: impl Fn() -> String, str_value: Option<&str>) {
        let name = field.name();
        let Some(c) = self.fields.names.iter().position(|n| n == name) else {
            return;
        };
        let mut built: Option<String> = None;
        for (i, rule) in self.rules.iter().enumerate() {
            if self.fields.of_rule[i] != Some(c) || self.state[i] != 0 {
                continue;
            }
            let Some((_, wanted)) = &rule.field else {
                continue;
            };
            let holds = match str_value {
                Some(s) => condition_text_holds(wanted, s),
                None if wanted.is_empty() => true,
                None => condition_text_holds(wanted, built.get_or_insert_with(&text)),
            };
            self.state[i] = if holds { 1 } else { 2 };
        }
    }
}

impl Visit for Conditions<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.see(field, || Value::from(value).to_string(), None);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.see(field, || Value::from(value).to_string(), None);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.see(field, || Value::from(value).to_string(), None);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.see(field, || Value::from(value).to_string(), None);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.see(field, String::new, Some(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // Debug text is compared as it is; other values as their JSON text.
        self.see(field, || format!("{value:?}"), None);
    }
}

/// The index of the first rule matching a span, by its callsite and creation values
/// (`record` visits them: at most once, and only when a rule's condition field is one of the
/// callsite's fields), and whether the answer read no value (then it holds for every span of
/// the callsite).
pub(crate) fn find_rule(
    rules: &Rules,
    fields: &ConditionFields,
    meta: &tracing_core::Metadata<'_>,
    record: impl FnOnce(&mut dyn Visit),
) -> (Option<usize>, bool) {
    let mut read_values = false;
    let rule = find_rule_in(rules, fields, meta, record, &mut read_values);
    (rule, !read_values)
}

fn find_rule_in(
    rules: &Rules,
    fields: &ConditionFields,
    meta: &tracing_core::Metadata<'_>,
    record: impl FnOnce(&mut dyn Visit),
    read_values: &mut bool,
) -> Option<usize> {
    let (name, target) = (meta.name(), meta.target());
    let mut record = Some(record);
    let mut conditions: Option<Conditions<'_>> = None;
    for (i, rule) in rules.rules.iter().enumerate() {
        if !rule.matches_callsite(name, target) {
            continue;
        }
        let Some(c) = fields.of_rule[i] else {
            return Some(i);
        };
        let state = match &conditions {
            // Once the values are visited, every rule's condition is decided.
            Some(visited) => &visited.state,
            None => {
                // A field the callsite does not declare cannot be set: the common case of
                // spans that are not GenAI spans, decided without visiting their values (and
                // remembered per callsite, see `callsites.rs`).
                if meta.fields().field(fields.names[c].as_ref()).is_none() {
                    continue;
                }
                // The values are visited once, deciding every rule's condition.
                *read_values = true;
                let mut visited = Conditions {
                    rules: &rules.rules,
                    fields,
                    state: smallvec::smallvec![0; rules.rules.len()],
                };
                if let Some(record) = record.take() {
                    record(&mut visited);
                }
                &conditions.insert(visited).state
            }
        };
        if state[i] == 1 {
            return Some(i);
        }
    }
    None
}

/// Empty data of the rule's kind, named after the span.
pub(crate) fn initial_data(rule: Option<&Rule>, span_name: &'static str) -> SpanData {
    let kind = rule.map_or(agent_trace::SpanKind::Custom, |r| r.kind);
    let mut data = SpanData::empty(kind);
    set_name(&mut data, Name::Borrowed(span_name));
    data
}

fn set_name(data: &mut SpanData, name: Name) {
    match data {
        SpanData::Agent(d) => d.name = name,
        SpanData::Function(d) => d.name = name,
        SpanData::Custom(d) => d.name = name,
        SpanData::Guardrail(d) => d.name = name,
        _ => {}
    }
}

/// How the layer treats content.
#[derive(Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) sensitive: bool,
}

/// Where one field's value goes.
enum Dest<'r> {
    Slot(&'r Slot),
    /// The data of a custom span.
    Data,
    /// Nowhere (sensitive with sensitive data off, or a field the rule does not keep).
    Drop,
}

fn dest<'r>(rule: Option<&'r Rule>, rules: &Rules, policy: Policy, field: &str) -> Dest<'r> {
    match rule.and_then(|r| r.slot_of(field)) {
        Some(slot) if slot.is_sensitive() && !policy.sensitive => Dest::Drop,
        Some(slot) => Dest::Slot(slot),
        None => {
            let keep = rule.is_none_or(|r| r.keep_other_fields);
            if keep
                && (policy.sensitive || !rules.is_sensitive_field(field))
                && field != crate::rules::OPERATION_NAME
            {
                Dest::Data
            } else {
                Dest::Drop
            }
        }
    }
}

/// Puts the values it visits on `record` as `rule` says (or as data of a custom span when no
/// rule matched), building a JSON value only for a field that goes somewhere.
pub(crate) struct Apply<'a> {
    pub(crate) record: &'a mut SpanRecord,
    pub(crate) rule: Option<&'a Rule>,
    pub(crate) rules: &'a Rules,
    pub(crate) policy: Policy,
}

impl Apply<'_> {
    #[inline]
    fn put(&mut self, field: &Field, value: impl FnOnce() -> Value) {
        let name = field.name();
        match dest(self.rule, self.rules, self.policy, name) {
            Dest::Drop => {}
            Dest::Slot(slot) => put(self.record, slot, value()),
            Dest::Data => {
                if let SpanData::Custom(d) = &mut self.record.data {
                    d.data.insert(name.to_owned(), value());
                }
            }
        }
    }
}

impl Visit for Apply<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, || Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, || Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, || Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, || Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, || Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, || Value::String(format!("{value:?}")));
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// JSON text becomes the JSON value; other text stays text.
fn parse_json(v: Value) -> Value {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(parsed @ (Value::Array(_) | Value::Object(_))) => parsed,
            _ => Value::String(s),
        },
        other => other,
    }
}

fn usage_mut(record: &mut SpanRecord) -> Option<&mut Usage> {
    match &mut record.data {
        SpanData::Generation(d) => Some(d.usage.get_or_insert_with(Usage::default)),
        SpanData::Response(d) => Some(d.usage.get_or_insert_with(Usage::default)),
        _ => None,
    }
}

fn put_detail(usage: &mut Usage, group: &str, key: &str, n: u64) {
    let entry = usage
        .details
        .entry(group.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(key.to_owned(), Value::from(n));
    }
}

fn tool_names(v: Value) -> Vec<Name> {
    let items = match parse_json(v) {
        Value::Array(items) => items,
        Value::String(s) => {
            return s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Name::Owned(s.to_owned()))
                .collect()
        }
        _ => return Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(s) => Some(s),
            Value::Object(o) => o
                .get("name")
                .or_else(|| o.get("function").and_then(|f| f.get("name")))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        })
        .map(Name::Owned)
        .collect()
}

fn put(record: &mut SpanRecord, slot: &Slot, value: Value) {
    use agent_trace::Record;
    match slot {
        Slot::Name => set_name(&mut record.data, Name::Owned(as_text(value))),
        Slot::Model => record.set_model(as_text(value)),
        Slot::InputTokens | Slot::OutputTokens => {
            let (Some(n), Some(usage)) = (as_u64(&value), usage_mut(record)) else {
                return;
            };
            if *slot == Slot::InputTokens {
                usage.input_tokens = n;
            } else {
                usage.output_tokens = n;
            }
            usage.requests = 1;
        }
        Slot::CachedInputTokens => {
            if let (Some(n), Some(usage)) = (as_u64(&value), usage_mut(record)) {
                put_detail(usage, "input_tokens_details", "cached_tokens", n);
            }
        }
        Slot::ReasoningTokens => {
            if let (Some(n), Some(usage)) = (as_u64(&value), usage_mut(record)) {
                put_detail(usage, "output_tokens_details", "reasoning_tokens", n);
            }
        }
        Slot::Input => match &mut record.data {
            // Function arguments stay the JSON text they are.
            SpanData::Function(d) => d.input = Some(as_text(value)),
            _ => record.set_input(&parse_json(value)),
        },
        Slot::Output => match &mut record.data {
            SpanData::Function(d) => d.output = Some(as_text(value)),
            _ => record.set_output(&parse_json(value)),
        },
        Slot::Tools => {
            if let SpanData::Agent(d) = &mut record.data {
                d.tools = Some(tool_names(value).into());
            }
        }
        Slot::ModelConfig(key) => record.set_model_config(key, &value),
        Slot::Attribute(key) => record.set_attribute(key, &value),
        Slot::ErrorType => {
            let kind = as_text(value);
            record.set_error(
                SpanError::new(format!("error: {kind}"))
                    .with_data(serde_json::json!({ "error.type": kind })),
            );
        }
        Slot::Outcome => {
            let failed = matches!(
                as_text(value).to_ascii_lowercase().as_str(),
                "error" | "failure" | "failed"
            );
            if failed && record.error.is_none() {
                record.set_error(SpanError::new("error"));
            }
        }
        Slot::Ignore => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_trace::{SpanKind, TraceId};

    fn record(kind: SpanKind) -> SpanRecord {
        SpanRecord::new(TraceId::random(), None, SpanData::empty(kind))
    }

    #[test]
    fn tool_lists_read_from_json_and_commas() {
        let names = |v: Value| -> Vec<String> {
            tool_names(v).into_iter().map(|n| n.into_owned()).collect()
        };
        assert_eq!(names(Value::from("a, b")), ["a", "b"]);
        assert_eq!(names(Value::from(r#"["x","y"]"#)), ["x", "y"]);
        assert_eq!(
            names(Value::from(
                r#"[{"type":"function","function":{"name":"f"}},{"name":"g"}]"#
            )),
            ["f", "g"]
        );
    }

    #[test]
    fn tokens_set_not_add_when_recorded_twice() {
        let mut r = record(SpanKind::Generation);
        put(&mut r, &Slot::InputTokens, Value::from(5u64));
        put(&mut r, &Slot::InputTokens, Value::from(7u64));
        put(&mut r, &Slot::OutputTokens, Value::from("3"));
        put(&mut r, &Slot::CachedInputTokens, Value::from(2u64));
        let u = r.data.usage().unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (7, 3));
        assert_eq!(u.details["input_tokens_details"]["cached_tokens"], 2);
    }

    #[test]
    fn outcome_marks_failure_only_for_error_words() {
        let mut r = record(SpanKind::Function);
        put(&mut r, &Slot::Outcome, Value::from("success"));
        assert!(r.error.is_none());
        put(&mut r, &Slot::Outcome, Value::from("error"));
        assert_eq!(r.error.as_ref().unwrap().message, "error");
        put(&mut r, &Slot::ErrorType, Value::from("ToolCallError"));
        assert!(r.error.unwrap().message.contains("ToolCallError"));
    }
}

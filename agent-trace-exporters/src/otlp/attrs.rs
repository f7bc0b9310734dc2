//! Building OTLP attributes (`KeyValue`s) from strings, numbers and JSON values.
//!
//! The mapping writes a span's attributes through [`Attrs`], which has two implementations:
//! `Vec<KeyValue>` (the prost messages, for OTLP JSON and for the paths that split or cut
//! requests) and the protobuf writer of [`wire`](super::wire), which writes the same
//! attributes straight into the request body.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use serde_json::{Map, Value};

/// An attribute value that is not an array.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
}

impl Scalar<'_> {
    fn to_proto(self) -> any_value::Value {
        match self {
            Scalar::Str(s) => any_value::Value::StringValue(s.to_owned()),
            Scalar::Bool(b) => any_value::Value::BoolValue(b),
            Scalar::Int(i) => any_value::Value::IntValue(i),
            Scalar::Double(d) => any_value::Value::DoubleValue(d),
        }
    }
}

/// A JSON scalar as an attribute value (`None` for arrays, objects and null).
pub(crate) fn scalar(value: &Value) -> Option<Scalar<'_>> {
    Some(match value {
        Value::String(s) => Scalar::Str(s),
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Scalar::Int(i),
            None => Scalar::Double(n.as_f64()?),
        },
        _ => return None,
    })
}

/// Where the mapping puts a span's attributes, in order.
pub(crate) trait Attrs {
    /// A string, boolean or number.
    fn scalar(&mut self, key: &str, value: Scalar<'_>);

    /// An array of scalars.
    fn scalars<'a, I>(&mut self, key: &str, values: I)
    where
        I: Iterator<Item = Scalar<'a>> + Clone;

    /// A value as its compact JSON text (what `Value::to_string` gives).
    fn json_text(&mut self, key: &str, value: &Value);

    /// A map as the compact JSON text of an object.
    fn json_map(&mut self, key: &str, map: &Map<String, Value>);

    /// A string the caller owns (kept without a copy where the sink can).
    fn string(&mut self, key: &str, value: String) {
        self.str(key, &value);
    }

    fn str(&mut self, key: &str, value: &str) {
        self.scalar(key, Scalar::Str(value));
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.scalar(key, Scalar::Bool(value));
    }

    /// An unsigned count (saturating at `i64::MAX`).
    fn int(&mut self, key: &str, value: u64) {
        self.scalar(key, Scalar::Int(i64::try_from(value).unwrap_or(i64::MAX)));
    }

    fn strs<'a, I>(&mut self, key: &str, values: I)
    where
        I: Iterator<Item = &'a str> + Clone,
    {
        self.scalars(key, values.map(Scalar::Str));
    }

    /// A JSON value: scalars and arrays of scalars natively, the rest as JSON text.
    fn json(&mut self, key: &str, value: &Value) {
        if let Some(s) = scalar(value) {
            return self.scalar(key, s);
        }
        if let Value::Array(items) = value {
            if items.iter().all(|v| scalar(v).is_some()) {
                return self.scalars(key, items.iter().filter_map(scalar));
            }
        }
        self.json_text(key, value);
    }
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

pub(crate) fn kv_str(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

impl Attrs for Vec<KeyValue> {
    fn scalar(&mut self, key: &str, value: Scalar<'_>) {
        self.push(kv(key, value.to_proto()));
    }

    fn scalars<'a, I>(&mut self, key: &str, values: I)
    where
        I: Iterator<Item = Scalar<'a>> + Clone,
    {
        let values = values
            .map(|s| AnyValue {
                value: Some(s.to_proto()),
            })
            .collect();
        self.push(kv(key, any_value::Value::ArrayValue(ArrayValue { values })));
    }

    fn json_text(&mut self, key: &str, value: &Value) {
        self.string(key, value.to_string());
    }

    fn json_map(&mut self, key: &str, map: &Map<String, Value>) {
        // Serializing a JSON map cannot fail; the text says so if it ever did.
        let text = serde_json::to_string(map).unwrap_or_else(|e| format!("<unserializable: {e}>"));
        self.string(key, text);
    }

    fn string(&mut self, key: &str, value: String) {
        self.push(kv_str(key, value));
    }
}

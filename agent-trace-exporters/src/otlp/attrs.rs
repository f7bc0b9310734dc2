//! Building OTLP attributes (`KeyValue`s) from strings, numbers and JSON values.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use serde_json::Value;

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

pub(crate) fn kv_bool(key: &str, value: bool) -> KeyValue {
    kv(key, any_value::Value::BoolValue(value))
}

pub(crate) fn kv_int(key: &str, value: u64) -> KeyValue {
    kv(
        key,
        any_value::Value::IntValue(i64::try_from(value).unwrap_or(i64::MAX)),
    )
}

pub(crate) fn kv_strs<'a>(key: &str, values: impl Iterator<Item = &'a str>) -> KeyValue {
    let values = values
        .map(|s| AnyValue {
            value: Some(any_value::Value::StringValue(s.to_owned())),
        })
        .collect();
    kv(key, any_value::Value::ArrayValue(ArrayValue { values }))
}

/// A JSON value as an attribute: scalars and arrays of scalars natively, the rest as JSON text.
pub(crate) fn kv_json(key: &str, value: &Value) -> KeyValue {
    match scalar(value) {
        Some(v) => kv(key, v),
        None => match value {
            Value::Array(items) => match items.iter().map(scalar).collect::<Option<Vec<_>>>() {
                Some(values) => kv(
                    key,
                    any_value::Value::ArrayValue(ArrayValue {
                        values: values
                            .into_iter()
                            .map(|v| AnyValue { value: Some(v) })
                            .collect(),
                    }),
                ),
                None => kv_str(key, value.to_string()),
            },
            _ => kv_str(key, value.to_string()),
        },
    }
}

fn scalar(value: &Value) -> Option<any_value::Value> {
    Some(match value {
        Value::String(s) => any_value::Value::StringValue(s.clone()),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64()?),
        },
        _ => return None,
    })
}

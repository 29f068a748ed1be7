//! JSON ↔ [`Value`]: how rows cross the wire.
//!
//! # JSON to `Value` (responses)
//!
//! | JSON | `Value` |
//! | --- | --- |
//! | `null` | `Null` |
//! | `true` / `false` | `Bool` |
//! | a number written without fraction or exponent, within the 64-bit range (`-9223372036854775808` to `18446744073709551615`) | `Integer` |
//! | any other number (`2.5`, `1.0`, `1e3`, integers beyond 64 bits) | `Float` (the nearest `f64`) |
//! | a string | `Text` (no decoding: dates and hex stay text) |
//! | an array | `Array` |
//! | an object | `Map` with `Text` keys (a row object becomes a `Record`) |
//!
//! So `12` and `12.0` arrive as different values (`Integer` and `Float`),
//! which compare equal in conditions and sorts. Object fields keep the
//! order they were sent in.
//!
//! # `Value` to JSON (request bodies)
//!
//! `Null`, `Bool`, `Text`, `Array` and text-keyed `Map`s map back as above;
//! an `Integer` within 64 bits is a JSON integer and a finite `Float` a JSON
//! number with a fraction (`2.0`, so it reads back as a `Float`). Values
//! JSON cannot carry without changing them are refused with `InvalidInput`
//! rather than sent altered: `Undefined`, integers beyond 64 bits,
//! non-finite floats, bytes, tags, simple values and maps with non-text keys.

use diorama_core::vista::Id;
use diorama_core::{Error, Record, Result, Value};
use serde_json::{Map, Number, Value as Json};

/// A JSON value as a [`Value`] (see the module notes).
pub fn json_to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                // Without serde_json's `arbitrary_precision`, every other
                // number is held as an f64.
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(json_to_value).collect()),
        Json::Object(object) => Value::Map(
            object
                .iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_value(v)))
                .collect(),
        ),
    }
}

/// A [`Value`] as JSON, or `InvalidInput` naming `field` when JSON cannot
/// carry it unchanged (see the module notes).
pub fn value_to_json(field: &str, value: &Value) -> Result<Json> {
    let refuse = |what: &str| {
        Err(Error::invalid_input(format!(
            "field {field:?}: {what} cannot be sent as JSON without changing it"
        )))
    };
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Integer(int) => match (int.as_i64(), int.as_u64()) {
            (Some(n), _) => Json::from(n),
            (None, Some(n)) => Json::from(n),
            (None, None) => return refuse("an integer beyond 64 bits"),
        },
        Value::Float(f) => match Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None => return refuse("a non-finite float"),
        },
        Value::Text(text) => Json::String(text.clone()),
        Value::Array(items) => Json::Array(
            items
                .iter()
                .map(|item| value_to_json(field, item))
                .collect::<Result<_>>()?,
        ),
        Value::Map(entries) => {
            let mut object = Map::new();
            for (key, item) in entries {
                let Value::Text(key) = key else {
                    return refuse("a map with a non-text key");
                };
                object.insert(key.clone(), value_to_json(field, item)?);
            }
            Json::Object(object)
        }
        Value::Undefined => return refuse("undefined"),
        Value::Bytes(_) => return refuse("bytes"),
        Value::Tag(..) => return refuse("a tagged value"),
        Value::Simple(_) => return refuse("a simple value"),
    })
}

/// `record` as a JSON object body.
pub fn record_to_json(record: &Record) -> Result<Map<String, Json>> {
    let mut object = Map::new();
    for (field, value) in record.iter() {
        object.insert(field.to_string(), value_to_json(field, value)?);
    }
    Ok(object)
}

/// A row object of a response as its id and record: the id from
/// `id_field` (text, or an integer in decimal), the other fields except
/// `ignored` as the record.
pub(crate) fn row_from_json(
    json: Json,
    id_field: &str,
    ignored: &[String],
) -> Result<(Id, Record)> {
    let Json::Object(object) = json else {
        return Err(malformed(format!(
            "a row is not a JSON object but {}",
            kind(&json)
        )));
    };
    let id = match object.get(id_field) {
        Some(Json::String(id)) => id.clone(),
        Some(Json::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(other) => {
            return Err(malformed(format!(
                "a row's {id_field:?} is {}, not a string or an integer",
                kind(other)
            )));
        }
        None => return Err(malformed(format!("a row has no {id_field:?} field"))),
    };
    let mut record = Record::new();
    for (field, value) in &object {
        if field != id_field && !ignored.iter().any(|i| i == field) {
            record.insert(field.clone(), json_to_value(value));
        }
    }
    Ok((id, record))
}

/// `Failed`: the response is not what the mapping describes.
pub(crate) fn malformed(message: impl std::fmt::Display) -> Error {
    Error::failed(format!("malformed response: {message}"))
}

/// What kind of JSON value `json` is, for messages.
pub(crate) fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_keep_integer_or_float() {
        assert_eq!(json_to_value(&json!(12)), Value::from(12i64));
        assert_eq!(json_to_value(&json!(12.0)), Value::Float(12.0));
        assert_eq!(json_to_value(&json!(-3)), Value::from(-3i64));
        assert_eq!(json_to_value(&json!(u64::MAX)), Value::from(u64::MAX));
        let big: Json = serde_json::from_str("18446744073709551616").unwrap();
        assert_eq!(json_to_value(&big), Value::Float(18446744073709551616.0));
        assert_eq!(json_to_value(&json!(1e3)), Value::Float(1000.0));
        assert_eq!(
            value_to_json("f", &Value::Float(2.0)).unwrap().to_string(),
            "2.0"
        );
        assert_eq!(
            value_to_json("f", &Value::from(2i64)).unwrap().to_string(),
            "2"
        );
    }

    #[test]
    fn values_json_cannot_carry_are_refused() {
        let refused = |value: Value| value_to_json("f", &value).unwrap_err();
        assert_eq!(
            refused(Value::Float(f64::NAN)).kind(),
            diorama_core::ErrorKind::InvalidInput
        );
        assert!(refused(Value::Bytes(vec![1])).message().contains("bytes"));
        assert!(
            refused(Value::try_from(-(1i128 << 64)).unwrap())
                .message()
                .contains("64 bits")
        );
        assert!(refused(Value::Undefined).message().contains("\"f\""));
        let nested = Value::Array(vec![Value::Map(vec![(Value::from(1i64), Value::Null)])]);
        assert!(refused(nested).message().contains("non-text key"));
    }

    #[test]
    fn rows_take_their_id_and_drop_metadata() {
        let ignored = vec!["status".to_string()];
        let (id, record) = row_from_json(
            json!({ "id": 7, "name": "Lamp", "status": "fresh", "tags": ["a"], "dims": { "w": 2.5 } }),
            "id",
            &ignored,
        )
        .unwrap();
        assert_eq!(id, "7");
        assert_eq!(record.get("name"), Some(&Value::from("Lamp")));
        assert_eq!(record.get("status"), None);
        assert_eq!(record.get("tags"), Some(&Value::Array(vec!["a".into()])));
        assert_eq!(record.len(), 3);
        for bad in [
            json!([1]),
            json!({ "name": "x" }),
            json!({ "id": 1.5 }),
            json!({ "id": null }),
        ] {
            let err = row_from_json(bad, "id", &ignored).unwrap_err();
            assert!(err.message().starts_with("malformed response"), "{err}");
        }
    }
}

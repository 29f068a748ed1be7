//! Rows as JSON: `{ "id", ...fields, "status" }`.

use diorama_core::scenery::{EnrichedRecord, RecordStatus, RowStatus};
use diorama_core::{Record, Value};
use serde_json::{Map, Number, Value as Json};

/// A value as JSON.
///
/// JSON has less than CBOR, so some values change shape: integers beyond
/// 64 bits and non-finite floats become strings (`"18446744073709551616"`,
/// `"NaN"`), bytes a lowercase hex string, `undefined` `null`, a map with
/// a non-text key an array of `[key, value]` pairs, a tag
/// `{ "tag": n, "value": v }` and a simple value `{ "simple": n }`. The
/// product table holds only text, reals, integers and nulls.
pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Null | Value::Undefined => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Integer(int) => match (int.as_i64(), int.as_u64()) {
            (Some(n), _) => Json::from(n),
            (None, Some(n)) => Json::from(n),
            (None, None) => Json::String(int.to_string()),
        },
        Value::Float(f) => match Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None => Json::String(f.to_string()),
        },
        Value::Text(text) => Json::String(text.clone()),
        Value::Bytes(bytes) => Json::String(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        Value::Array(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Map(entries) => {
            let text_keys = entries.iter().all(|(k, _)| matches!(k, Value::Text(_)));
            if text_keys {
                let mut object = Map::new();
                for (key, item) in entries {
                    if let Value::Text(key) = key {
                        object.insert(key.clone(), value_to_json(item));
                    }
                }
                Json::Object(object)
            } else {
                Json::Array(
                    entries
                        .iter()
                        .map(|(k, v)| Json::Array(vec![value_to_json(k), value_to_json(v)]))
                        .collect(),
                )
            }
        }
        Value::Tag(tag, inner) => serde_json::json!({ "tag": tag, "value": value_to_json(inner) }),
        Value::Simple(n) => serde_json::json!({ "simple": n }),
    }
}

/// `{ "id": id, ...fields, "status": status }`, plus `"error"` when given.
///
/// `id`, `status` and `error` are written last, so a field of the same
/// name never hides them.
pub fn row_json(id: &str, record: &Record, status: &str, error: Option<String>) -> Json {
    let mut object = Map::new();
    for (field, value) in record.iter() {
        object.insert(field.to_string(), value_to_json(value));
    }
    object.insert("id".into(), Json::String(id.to_string()));
    object.insert("status".into(), Json::String(status.to_string()));
    if let Some(error) = error {
        object.insert("error".into(), Json::String(error));
    }
    Json::Object(object)
}

/// A table scenery's row as JSON, its [`RowStatus`] as
/// `fresh` / `stale` / `loading` / `pending` / `write_failed` (with
/// `"error"`) / `not_found`.
pub fn enriched_json(row: &EnrichedRecord) -> Json {
    let (status, error) = match &row.status {
        RowStatus::Fresh => ("fresh", None),
        RowStatus::Stale => ("stale", None),
        RowStatus::Loading => ("loading", None),
        RowStatus::PendingWrite => ("pending", None),
        RowStatus::WriteFailed { error } => ("write_failed", Some(error.to_string())),
        RowStatus::NotFound => ("not_found", None),
        RowStatus::Incomplete => ("incomplete", None),
        RowStatus::DetailFailed { error } => ("detail_failed", Some(error.to_string())),
    };
    row_json(&row.id, &row.record, status, error)
}

/// The status word of a record view whose row is shown.
pub fn record_status_word(status: &RecordStatus) -> &'static str {
    match status {
        RecordStatus::Loading => "loading",
        RecordStatus::Fresh => "fresh",
        RecordStatus::Stale => "stale",
        RecordStatus::PendingWrite => "pending",
        RecordStatus::WriteFailed { .. } => "write_failed",
        RecordStatus::NotFound => "not_found",
        RecordStatus::Failed { .. } => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_json() {
        assert_eq!(value_to_json(&Value::from(2.5)), serde_json::json!(2.5));
        assert_eq!(value_to_json(&Value::from(-3i64)), serde_json::json!(-3));
        assert_eq!(value_to_json(&Value::from("x")), serde_json::json!("x"));
        assert_eq!(value_to_json(&Value::Null), Json::Null);
        assert_eq!(
            value_to_json(&Value::Float(f64::NAN)),
            serde_json::json!("NaN")
        );
        assert_eq!(
            value_to_json(&Value::Bytes(vec![0, 255])),
            serde_json::json!("00ff")
        );
        let big = Value::try_from(-(1i128 << 64)).unwrap();
        assert_eq!(
            value_to_json(&big),
            serde_json::json!("-18446744073709551616")
        );
        let map = Value::Map(vec![(Value::from(1i64), Value::from("one"))]);
        assert_eq!(value_to_json(&map), serde_json::json!([[1, "one"]]));
    }

    #[test]
    fn a_row_carries_id_fields_and_status() {
        let record = Record::new().with("name", "Lamp").with("status", "sold");
        let json = row_json("p1", &record, "fresh", None);
        assert_eq!(
            json,
            serde_json::json!({ "id": "p1", "name": "Lamp", "status": "fresh" })
        );
    }
}

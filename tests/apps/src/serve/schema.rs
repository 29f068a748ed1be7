//! The columns the service knows: what a sort may name and what a PATCH
//! may write, with the JSON each accepts.

use diorama_core::{Record, Value};
use serde_json::Value as Json;

/// What a column holds, as far as a PATCH is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// A JSON string.
    Text,
    /// A JSON number (integers are stored as reals).
    Real,
    /// A JSON integer (no fraction, within the 64-bit signed range).
    Integer,
}

/// The field columns of the served table (the id column is not one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    columns: Vec<(String, ColumnKind)>,
}

impl Schema {
    /// A schema of `columns`, in order.
    pub fn new(columns: impl IntoIterator<Item = (String, ColumnKind)>) -> Self {
        Schema {
            columns: columns.into_iter().collect(),
        }
    }

    /// The generated product table of [`crate::sample`]: name,
    /// category, price, stock, updated_at.
    pub fn products() -> Self {
        Schema::new(
            [
                ("name", ColumnKind::Text),
                ("category", ColumnKind::Text),
                ("price", ColumnKind::Real),
                ("stock", ColumnKind::Integer),
                ("updated_at", ColumnKind::Text),
            ]
            .map(|(name, kind)| (name.to_string(), kind)),
        )
    }

    /// The kind of column `name`, `None` when the table has no such column.
    pub fn kind(&self, name: &str) -> Option<ColumnKind> {
        self.columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|(_, kind)| *kind)
    }

    /// The column names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(name, _)| name.as_str())
    }

    /// The column names as one comma-separated list, for messages.
    pub fn names_list(&self) -> String {
        self.names().collect::<Vec<_>>().join(", ")
    }

    /// The fields of a PATCH body: a non-empty JSON object of known
    /// columns, each with a value of its kind (or `null`), that the
    /// master's validation accepts (no negative price, as the grid's
    /// master: [`products::validate`](crate::sample::products::validate)).
    ///
    /// Errors: a message naming the first offending field.
    pub fn patch_fields(&self, body: &Json) -> Result<Record, String> {
        let Json::Object(object) = body else {
            return Err("the body must be a JSON object of fields".into());
        };
        if object.is_empty() {
            return Err("nothing to patch: the object has no fields".into());
        }
        let mut record = Record::new();
        for (field, json) in object {
            let Some(kind) = self.kind(field) else {
                return Err(format!(
                    "unknown field {field:?}: fields are {}",
                    self.names_list()
                ));
            };
            record.insert(field.clone(), field_value(field, kind, json)?);
        }
        crate::sample::products::validate(&record).map_err(|e| e.message().to_string())?;
        Ok(record)
    }
}

/// `json` as the value of a `kind` column.
fn field_value(field: &str, kind: ColumnKind, json: &Json) -> Result<Value, String> {
    let wrong = |expected: &str| format!("field {field:?} must be {expected}, not {json}");
    match (kind, json) {
        (_, Json::Null) => Ok(Value::Null),
        (ColumnKind::Text, Json::String(text)) => Ok(Value::from(text.as_str())),
        (ColumnKind::Text, _) => Err(wrong("a string")),
        (ColumnKind::Real, Json::Number(number)) => number
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Value::from)
            .ok_or_else(|| wrong("a finite number")),
        (ColumnKind::Real, _) => Err(wrong("a number")),
        (ColumnKind::Integer, Json::Number(number)) => number
            .as_i64()
            .map(Value::from)
            .ok_or_else(|| wrong("an integer")),
        (ColumnKind::Integer, _) => Err(wrong("an integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_takes_known_fields_of_their_kind() {
        let schema = Schema::products();
        let record = schema
            .patch_fields(&json!({ "price": 12, "stock": 3, "name": "Lamp", "category": null }))
            .unwrap();
        assert_eq!(record.get("price"), Some(&Value::Float(12.0)));
        assert_eq!(record.get("stock"), Some(&Value::from(3i64)));
        assert_eq!(record.get("name"), Some(&Value::from("Lamp")));
        assert_eq!(record.get("category"), Some(&Value::Null));
    }

    #[test]
    fn a_bad_patch_names_the_field() {
        let schema = Schema::products();
        let error = |body: Json| schema.patch_fields(&body).unwrap_err();
        assert!(error(json!({ "colour": "red" })).contains("\"colour\""));
        assert!(error(json!({ "stock": 1.5 })).contains("integer"));
        assert!(error(json!({ "price": "cheap" })).contains("number"));
        assert!(error(json!({ "name": 7 })).contains("string"));
        assert!(error(json!({})).contains("nothing to patch"));
        assert!(error(json!([1, 2])).contains("object"));
        assert!(error(json!({ "id": "p1" })).contains("unknown field"));
        assert!(error(json!({ "price": -3 })).contains("must not be negative"));
        assert!(schema.patch_fields(&json!({ "price": 0 })).is_ok());
    }
}

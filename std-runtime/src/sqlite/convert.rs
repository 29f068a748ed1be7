//! Values and ids between Diorama and SQLite.
//!
//! | Diorama                 | SQLite            | read back as        |
//! |-------------------------|-------------------|---------------------|
//! | `Null`, `Undefined`     | NULL              | `Null`              |
//! | `Bool`                  | INTEGER 0 / 1     | `Integer`           |
//! | `Integer` (i64 range)   | INTEGER           | `Integer`           |
//! | `Float` (not NaN)       | REAL              | `Float`             |
//! | `Text`                  | TEXT              | `Text`              |
//! | `Bytes`                 | BLOB              | `Bytes`             |
//! | `Array`, `Map`, `Tag`, `Simple`, NaN, integers beyond i64 | refused: `InvalidInput` | |
//!
//! SQLite's column affinity still applies on write (a text `"5"` written to
//! an INTEGER column is stored and read back as the integer 5); a read
//! always reports what the table holds.

use diorama_core::value::Value;
use diorama_core::vista::Id;
use diorama_core::{Error, Result};
use rusqlite::Row;
use rusqlite::types::{Value as SqlValue, ValueRef};

use super::schema::{IdKind, Schema};

/// `value` of `field` as a value SQLite stores (see the module table).
pub(crate) fn to_sql(field: &str, value: &Value) -> Result<SqlValue> {
    let refuse = |what: &str| {
        Err(Error::invalid_input(format!(
            "field \"{field}\": {what} cannot be stored in an SQLite column"
        )))
    };
    Ok(match value {
        Value::Null | Value::Undefined => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Integer(i) => match i.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => return refuse(&format!("the integer {i} (beyond 64-bit signed)")),
        },
        Value::Float(f) if f.is_nan() => return refuse("NaN"),
        Value::Float(f) => SqlValue::Real(*f),
        Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Bytes(b) => SqlValue::Blob(b.clone()),
        Value::Array(_) => return refuse("an array"),
        Value::Map(_) => return refuse("a map"),
        Value::Tag(..) => return refuse("a tagged value"),
        Value::Simple(_) => return refuse("a simple value"),
    })
}

/// A value SQLite returned, as a Diorama value; text that is not UTF-8 is
/// `Corrupt`.
pub(crate) fn from_sql(value: ValueRef<'_>) -> Result<Value> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(bytes) => Value::Text(
            std::str::from_utf8(bytes)
                .map_err(|_| Error::corrupt("SQLite returned text that is not UTF-8"))?
                .to_owned(),
        ),
        ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
    })
}

/// `id` as the value to bind for the id column: an integer for INTEGER id
/// columns (only canonical decimal texts are ids there), text otherwise.
pub(crate) fn bind_id(schema: &Schema, id: &str) -> Result<SqlValue> {
    match schema.id_kind {
        IdKind::Text => Ok(SqlValue::Text(id.to_owned())),
        IdKind::Integer => match id.parse::<i64>() {
            // "042" or "+42" would find row 42 under another id.
            Ok(n) if n.to_string() == id => Ok(SqlValue::Integer(n)),
            _ => Err(Error::invalid_input(format!(
                "bad id \"{id}\": ids of \"{}\" are integers in canonical decimal form",
                schema.table
            ))),
        },
    }
}

/// The id SQLite holds in the id column, as an [`Id`].
pub(crate) fn read_id(schema: &Schema, value: ValueRef<'_>) -> Result<Id> {
    match (schema.id_kind, value) {
        (IdKind::Integer, ValueRef::Integer(n)) => Ok(n.to_string()),
        (IdKind::Text, ValueRef::Text(bytes)) => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| Error::corrupt("an id in SQLite is not UTF-8")),
        (_, other) => Err(Error::corrupt(format!(
            "the id column \"{}\" of \"{}\" holds a {:?} value, not an id",
            schema.id.name,
            schema.table,
            other.data_type()
        ))),
    }
}

/// One row selected with [`Schema::select_list`] as `(id, record)`: every
/// field present, NULL as `Null`.
pub(crate) fn read_row(schema: &Schema, row: &Row<'_>) -> Result<(Id, diorama_core::Record)> {
    let value = |at: usize| {
        row.get_ref(at)
            .map_err(|e| super::error::sql_error("reading a row", e))
    };
    let id = read_id(schema, value(0)?)?;
    let mut record = diorama_core::Record::new();
    for (at, column) in schema.fields.iter().enumerate() {
        record.insert(column.name.as_str(), from_sql(value(at + 1)?)?);
    }
    Ok((id, record))
}

//! Values and ids between Diorama and PostgreSQL.
//!
//! | column type | read as | written from |
//! |---|---|---|
//! | `boolean` | `Bool` | `Bool` |
//! | `smallint`, `integer`, `bigint` | `Integer` | `Integer`; a whole `Float` |
//! | `real`, `double precision` | `Float` | `Float` (NaN and infinities too); `Integer` |
//! | `text`, `varchar`, `char`, `name` | `Text` | `Text` |
//! | `bytea` | `Bytes` | `Bytes` |
//! | any other (numeric, date/time, uuid, json, arrays, enums, …) | `Text`: the type's text form | `Text` parsed by the type; numbers and booleans as their text |
//!
//! NULL reads as `Null`; `Null` and `Undefined` write NULL. Nested values
//! (arrays, maps, tags), simple values, text holding NUL characters (which
//! PostgreSQL text cannot hold) and values of another kind than the column
//! takes are refused with `InvalidInput` before anything is sent. The
//! column type still applies on write: an integer into a `smallint` column
//! out of its range, or text too long for a `varchar(n)`, is refused by the
//! server (`InvalidInput`); a `real` column stores a `Float` rounded to 32
//! bits and reads that back; a `char(n)` column pads.

use std::fmt::Write as _;

use diorama_core::value::Value;
use diorama_core::vista::Id;
use diorama_core::{Error, Record, Result};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::schema::{Column, IdKind, Kind, Schema};

/// Bound parameters of one statement, in order.
#[derive(Default)]
pub(crate) struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    /// Add `value` and return its placeholder (`$1`, `$2`, …).
    pub(crate) fn push(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    /// The parameters as the client takes them.
    pub(crate) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Params").field(&self.0.len()).finish()
    }
}

/// The value at `at` of a row selected with a read expression of `kind`.
pub(crate) fn read_value(row: &Row, at: usize, kind: Kind) -> Result<Value> {
    let corrupt = |e: tokio_postgres::Error| {
        Error::corrupt(format!(
            "PostgreSQL returned a value that cannot be read: {e}"
        ))
    };
    Ok(match kind {
        Kind::Bool => row
            .try_get::<_, Option<bool>>(at)
            .map_err(corrupt)?
            .map_or(Value::Null, Value::Bool),
        Kind::Int => row
            .try_get::<_, Option<i64>>(at)
            .map_err(corrupt)?
            .map_or(Value::Null, Value::from),
        Kind::Float => row
            .try_get::<_, Option<f64>>(at)
            .map_err(corrupt)?
            .map_or(Value::Null, Value::Float),
        Kind::Text | Kind::Other => row
            .try_get::<_, Option<String>>(at)
            .map_err(corrupt)?
            .map_or(Value::Null, Value::Text),
        Kind::Bytes => row
            .try_get::<_, Option<Vec<u8>>>(at)
            .map_err(corrupt)?
            .map_or(Value::Null, Value::Bytes),
    })
}

/// The id at `at` (selected with the id's read expression).
pub(crate) fn read_id(schema: &Schema, row: &Row, at: usize) -> Result<Id> {
    let corrupt = |what: String| {
        Error::corrupt(format!(
            "the id column \"{}\" of \"{}\" {what}",
            schema.id.name, schema.table
        ))
    };
    match read_value(row, at, schema.id.kind)? {
        Value::Null => Err(corrupt(String::from("holds a NULL"))),
        Value::Text(text) => Ok(text),
        Value::Integer(i) => Ok(i.to_string()),
        other => Ok(render(&other).ok_or_else(|| corrupt(format!("holds {other:?}")))?),
    }
}

/// A row selected with [`Schema::select_list`] from column `first` on, as
/// `(id, record)`: every field present, NULL as `Null`.
pub(crate) fn read_row(schema: &Schema, row: &Row, first: usize) -> Result<(Id, Record)> {
    let id = read_id(schema, row, first)?;
    let mut record = Record::new();
    for (at, column) in schema.fields.iter().enumerate() {
        record.insert(
            column.name.as_str(),
            read_value(row, first + 1 + at, column.kind)?,
        );
    }
    Ok((id, record))
}

/// The text eval renders a scalar as: text as is, numbers as Rust prints
/// them, booleans as `true` / `false`; `None` for other values.
pub(crate) fn render(value: &Value) -> Option<String> {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = match value {
        Value::Text(s) => return Some(s.clone()),
        Value::Integer(i) => write!(out, "{i}"),
        Value::Float(f) => write!(out, "{f}"),
        Value::Bool(b) => write!(out, "{b}"),
        _ => return None,
    };
    Some(out)
}

/// `text`, refused when PostgreSQL could not store it.
pub(crate) fn storable_text<'a>(what: &str, text: &'a str) -> Result<&'a str> {
    if text.contains('\0') {
        return Err(Error::invalid_input(format!(
            "{what}: PostgreSQL text cannot hold NUL characters"
        )));
    }
    Ok(text)
}

/// The SQL expression writing `value` into `column` (a placeholder with a
/// cast, or `NULL`), its parameter added to `params`. See the module table.
pub(crate) fn write_value(column: &Column, value: &Value, params: &mut Params) -> Result<String> {
    let what = format!("field \"{}\"", column.name);
    let refuse = |value: &Value| {
        Err(Error::invalid_input(format!(
            "{what}: {} cannot be stored in a column of type {}",
            describe(value),
            column.declared
        )))
    };
    if value.is_null() {
        return Ok(String::from("NULL"));
    }
    Ok(match (column.kind, value) {
        (Kind::Bool, Value::Bool(b)) => format!("{}::bool", params.push(*b)),
        (Kind::Int, Value::Integer(i)) => match i64::try_from(i.get()) {
            Ok(i) => format!("{}::int8", params.push(i)),
            Err(_) => return refuse(value),
        },
        (Kind::Int, Value::Float(f)) if is_whole_i64(*f) => {
            // Exact: the float is whole and within range.
            format!("{}::int8", params.push(*f as i64))
        }
        (Kind::Float, Value::Float(f)) => format!("{}::float8", params.push(*f)),
        (Kind::Float, Value::Integer(i)) => {
            // The nearest double, as PostgreSQL would round it.
            format!("{}::float8", params.push(i.get() as f64))
        }
        (Kind::Text, Value::Text(s)) => {
            format!("{}::text", params.push(storable_text(&what, s)?.to_owned()))
        }
        (Kind::Bytes, Value::Bytes(b)) => format!("{}::bytea", params.push(b.clone())),
        (Kind::Other, Value::Text(_) | Value::Integer(_) | Value::Float(_) | Value::Bool(_)) => {
            let text = render(value).unwrap_or_default();
            format!(
                "CAST({}::text AS {})",
                params.push(storable_text(&what, &text)?.to_owned()),
                column.declared
            )
        }
        _ => return refuse(value),
    })
}

/// True when `f` is a whole number in the `i64` range.
pub(crate) fn is_whole_i64(f: f64) -> bool {
    // -2^63 is a double; 2^63 is the first double above i64::MAX.
    f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
}

fn describe(value: &Value) -> String {
    match value {
        Value::Array(_) => String::from("an array"),
        Value::Map(_) => String::from("a map"),
        Value::Tag(..) => String::from("a tagged value"),
        Value::Simple(_) => String::from("a simple value"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Integer(i) => format!("the integer {i}"),
        Value::Float(f) => format!("the float {f}"),
        Value::Text(_) => String::from("text"),
        Value::Bytes(_) => String::from("bytes"),
        Value::Null | Value::Undefined => String::from("null"),
    }
}

/// The SQL expression of id `id` (as the id column's type), its parameter
/// added to `params`. `InvalidInput` for an id the column cannot hold.
pub(crate) fn id_value(schema: &Schema, id: &str, params: &mut Params) -> Result<String> {
    let what = format!("id \"{id}\"");
    Ok(match schema.id_kind {
        IdKind::Integer => format!("{}::int8", params.push(integer_id(schema, id)?)),
        IdKind::Text => format!(
            "{}::text",
            params.push(storable_text(&what, id)?.to_owned())
        ),
        IdKind::Other => format!(
            "CAST({}::text AS {})",
            params.push(storable_text(&what, id)?.to_owned()),
            schema.id.declared
        ),
    })
}

/// The condition selecting row `id` of `AS t`. Ids are compared exactly as
/// they read back (a text id byte for byte, a uuid in its canonical form).
pub(crate) fn id_condition(schema: &Schema, id: &str, params: &mut Params) -> Result<String> {
    let column = format!("t.{}", schema.id.quoted);
    let value = id_value(schema, id, params)?;
    Ok(match schema.id_kind {
        IdKind::Integer => format!("{column} = {value}"),
        // The first test finds the row by index; the second keeps only an
        // id that reads back as given (a case-insensitive collation or a
        // non-canonical uuid would find it under another spelling).
        IdKind::Text | IdKind::Other => {
            let placeholder = format!("${}", params.0.len());
            format!("{column} = {value} AND {column}::text = {placeholder}::text COLLATE \"C\"")
        }
    })
}

fn integer_id(schema: &Schema, id: &str) -> Result<i64> {
    match id.parse::<i64>() {
        // "042" or "+42" would find row 42 under another id.
        Ok(n) if n.to_string() == id => Ok(n),
        _ => Err(Error::invalid_input(format!(
            "bad id \"{id}\": ids of \"{}\" are integers in canonical decimal form",
            schema.table
        ))),
    }
}

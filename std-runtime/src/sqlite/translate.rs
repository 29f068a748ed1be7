//! A [`Query`] as the `WHERE` and `ORDER BY` of a `SELECT`, meaning exactly
//! what [`diorama_core::vista::eval`] means over the rows SQLite returns.
//!
//! Operands are always bound parameters; column names come from the
//! [`Schema`] (an unknown one is `InvalidInput`) and are quoted.
//!
//! How each clause keeps eval's meaning, with `c` the quoted column:
//!
//! - A compared column is written `(+c) COLLATE BINARY`: the unary `+`
//!   strips the column's type affinity, so SQLite converts neither side (a
//!   text `'5'` never equals the integer `5`, as in eval), and text compares
//!   by bytes whatever collation the column declares. Integers and reals
//!   then compare numerically and exactly, as eval does.
//! - `Eq` is `IS ?` (a NULL field is not equal to a value, and `Eq null` is
//!   `IS NULL`); `Ne` is `NOT` of that, so it matches NULLs as eval does.
//! - Ordering comparisons first require the field to be of the operand's
//!   kind (`typeof`), since eval never orders across kinds; a NULL operand
//!   matches nothing.
//! - `In` is `IN (...)` over the non-null items, `OR c IS NULL` when one is
//!   null.
//! - Operands SQLite never returns (booleans, arrays, maps, tags, simple
//!   values, NaN) are folded to the constant eval gives: never equal, never
//!   ordered, except that NaN sorts above every number, so `< NaN` holds for
//!   every number.
//! - A numeric `Eq` or ordering comparison also carries the plain
//!   `c op ?`, which never drops a row the exact form keeps, so SQLite can
//!   use an index on the column (see `index_hint`).
//! - `Like` and search call the functions of [`super::functions`]; with a
//!   search index a search first narrows to the rows the index finds (see
//!   [`super::search_index`]).
//! - The sort is `c COLLATE BINARY ASC|DESC NULLS LAST`, then the id as text
//!   (bytewise), because eval puts nulls last in both directions and breaks
//!   ties by id. SQLite's order across storage classes (numbers, then text,
//!   then blobs) is eval's order across those kinds. The indexes of
//!   [`super::sort_index`] repeat these expressions, so SQLite walks them.
//!
//! Not pushed ([`pushable`] is false, so a `Vista` evaluates it locally):
//! integer operands beyond the 64-bit signed range (they can equal a large
//! real, which a bound integer cannot express), and `In` lists longer than
//! [`MAX_IN_ITEMS`].

use std::fmt::Write;

use diorama_core::value::Value;
use diorama_core::vista::{CmpOp, Condition, Query, SortDir};
use diorama_core::{Error, Result};
use rusqlite::types::Value as SqlValue;

use super::fold::{self, IndexUse};
use super::schema::Schema;
use super::{functions, search_index, sort_index};

/// The longest `In` list pushed as one `IN (...)` (one bound parameter per
/// item; SQLite allows 32766 per statement).
pub(crate) const MAX_IN_ITEMS: usize = 1000;

/// The `WHERE` and `ORDER BY` of a query, with the parameters of the
/// `WHERE` in order.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// `" WHERE ..."`, or empty.
    pub(crate) filter: String,
    /// `" ORDER BY ..."`, never empty: every read has a defined order.
    pub(crate) order: String,
    /// Parameters of `filter`.
    pub(crate) params: Vec<SqlValue>,
}

/// True when `condition` can be pushed (see the module docs); false for
/// out-of-range integer operands and overlong `In` lists. The field is not
/// checked here: an unknown column is reported by the read.
pub(crate) fn pushable(condition: &Condition) -> bool {
    match (&condition.op, &condition.value) {
        (CmpOp::Like, _) => true,
        (CmpOp::In, Value::Array(items)) => {
            items.len() <= MAX_IN_ITEMS && items.iter().all(|item| operand(item).is_some())
        }
        (_, value) => operand(value).is_some(),
    }
}

/// `query` as SQL over `schema`. `InvalidInput` for an unknown column or
/// the id column; `Unsupported` for a condition [`pushable`] refuses.
pub(crate) fn plan(schema: &Schema, query: &Query) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut clauses: Vec<String> = Vec::new();
    for condition in &query.conditions {
        clauses.push(translate(schema, condition, &mut plan.params)?);
    }
    if let Some(needle) = query.search.as_deref().filter(|n| !n.is_empty()) {
        if schema.fields.is_empty() {
            clauses.push("0".into());
        } else {
            let columns: Vec<&str> = schema.fields.iter().map(|c| c.quoted.as_str()).collect();
            let matcher = format!("{}(?, {})", functions::SEARCH, columns.join(", "));
            let index = schema.search_index().zip(schema.rowid);
            match (index, fold::index_use(needle)) {
                (Some((index, rowid)), use_ @ (IndexUse::CheckAll | IndexUse::CheckOdd)) => {
                    // The index narrows to the rows holding the needle's
                    // trigrams; the matcher keeps exactly eval's matches,
                    // checking every such row or only the odd ones.
                    plan.params
                        .push(SqlValue::Text(search_index::phrase(needle)));
                    plan.params.push(SqlValue::Text(needle.to_owned()));
                    let check = match use_ {
                        IndexUse::CheckOdd => format!(
                            "({rowid} NOT IN (SELECT \"row\" FROM {}) OR {matcher})",
                            index.odd
                        ),
                        _ => matcher,
                    };
                    clauses.push(format!(
                        "{rowid} IN (SELECT rowid FROM {0} WHERE {0} MATCH ?) AND {check}",
                        index.quoted
                    ));
                }
                _ => {
                    plan.params.push(SqlValue::Text(needle.to_owned()));
                    clauses.push(matcher);
                }
            }
        }
    }
    if !clauses.is_empty() {
        plan.filter = format!(" WHERE {}", clauses.join(" AND "));
    }
    plan.order = match &query.sort {
        Some(sort) => {
            let column = schema.field(&sort.field)?;
            let dir = match sort.dir {
                SortDir::Asc => "ASC",
                SortDir::Desc => "DESC",
            };
            format!(
                " ORDER BY {} COLLATE BINARY {dir} NULLS LAST, {}",
                column.quoted,
                sort_index::id_text(&schema.id.quoted, schema.id_kind)
            )
        }
        // The source order: rowid order, or id order without a rowid.
        None => format!(" ORDER BY {}", schema.rowid.unwrap_or(&schema.id.quoted)),
    };
    Ok(plan)
}

/// A condition operand, by what SQLite can compare it with.
enum Operand {
    /// Null or undefined.
    Null,
    /// A kind SQLite never returns: equal to nothing, ordered against nothing.
    Foreign,
    /// NaN: equal to nothing SQLite holds, above every number.
    NaN,
    /// A value to bind: a number, text or bytes.
    Bound(SqlValue, Kind),
}

/// The storage classes an ordering comparison must stay within.
#[derive(Clone, Copy)]
enum Kind {
    Number,
    Text,
    Blob,
}

impl Kind {
    fn guard(self) -> &'static str {
        match self {
            Kind::Number => "IN ('integer', 'real')",
            Kind::Text => "= 'text'",
            Kind::Blob => "= 'blob'",
        }
    }
}

/// `value` as an operand; `None` when it cannot be pushed.
fn operand(value: &Value) -> Option<Operand> {
    Some(match value {
        Value::Null | Value::Undefined => Operand::Null,
        Value::Integer(i) => Operand::Bound(SqlValue::Integer(i.as_i64()?), Kind::Number),
        Value::Float(f) if f.is_nan() => Operand::NaN,
        Value::Float(f) => Operand::Bound(SqlValue::Real(*f), Kind::Number),
        Value::Text(s) => Operand::Bound(SqlValue::Text(s.clone()), Kind::Text),
        Value::Bytes(b) => Operand::Bound(SqlValue::Blob(b.clone()), Kind::Blob),
        Value::Bool(_) | Value::Array(_) | Value::Map(_) | Value::Tag(..) | Value::Simple(_) => {
            Operand::Foreign
        }
    })
}

fn translate(schema: &Schema, condition: &Condition, params: &mut Vec<SqlValue>) -> Result<String> {
    let column = &schema.field(&condition.field)?.quoted;
    if !pushable(condition) {
        return Err(Error::unsupported(format!(
            "SqliteVista \"{}\" does not apply the condition {condition}",
            schema.table
        )));
    }
    // Checked by `pushable` just above.
    let operand_of = |value: &Value| operand(value).unwrap_or(Operand::Foreign);
    let value = &condition.value;
    Ok(match condition.op {
        CmpOp::Eq => equals(column, operand_of(value), params),
        CmpOp::Ne => format!("NOT ({})", equals(column, operand_of(value), params)),
        CmpOp::Gt => ordered(column, ">", operand_of(value), params),
        CmpOp::Gte => ordered(column, ">=", operand_of(value), params),
        CmpOp::Lt => ordered(column, "<", operand_of(value), params),
        CmpOp::Lte => ordered(column, "<=", operand_of(value), params),
        CmpOp::In => match value {
            Value::Array(items) => one_of(column, items.iter().map(operand_of), params),
            single => equals(column, operand_of(single), params),
        },
        CmpOp::Like => match pattern(value) {
            Some(pattern) => {
                params.push(SqlValue::Text(pattern));
                format!("{}({column}, ?)", functions::LIKE)
            }
            // eval: a non-scalar operand never matches.
            None => "0".into(),
        },
    })
}

/// The column without affinity, compared bytewise.
fn bare(column: &str) -> String {
    format!("(+{column}) COLLATE BINARY")
}

fn equals(column: &str, operand: Operand, params: &mut Vec<SqlValue>) -> String {
    match operand {
        Operand::Null => format!("{column} IS NULL"),
        Operand::Foreign | Operand::NaN => "0".into(),
        Operand::Bound(value, kind) => {
            params.push(value.clone());
            let exact = format!("{} IS ?", bare(column));
            index_hint(exact, column, "=", value, kind, params)
        }
    }
}

/// `exact`, and for a numeric operand also the plain `column op ?`, which
/// lets SQLite use an index on the column. The plain comparison never drops
/// a row the exact one keeps: a numeric operand keeps its value under any
/// column affinity, numbers compare exactly either way, and the only values
/// the plain form could add (text or blobs ordered against a number, text
/// in a TEXT column compared as text) the exact form already excludes.
fn index_hint(
    exact: String,
    column: &str,
    op: &str,
    value: SqlValue,
    kind: Kind,
    params: &mut Vec<SqlValue>,
) -> String {
    match kind {
        Kind::Number => {
            params.push(value);
            format!("({exact} AND {column} {op} ?)")
        }
        Kind::Text | Kind::Blob => exact,
    }
}

fn ordered(column: &str, op: &str, operand: Operand, params: &mut Vec<SqlValue>) -> String {
    match operand {
        Operand::Null | Operand::Foreign => "0".into(),
        Operand::NaN if op.starts_with('<') => format!("typeof({column}) {}", Kind::Number.guard()),
        Operand::NaN => "0".into(),
        Operand::Bound(value, kind) => {
            params.push(value.clone());
            let exact = format!(
                "(typeof({column}) {} AND {} {op} ?)",
                kind.guard(),
                bare(column)
            );
            index_hint(exact, column, op, value, kind, params)
        }
    }
}

fn one_of(
    column: &str,
    items: impl Iterator<Item = Operand>,
    params: &mut Vec<SqlValue>,
) -> String {
    let mut listed = 0;
    let mut null = false;
    for item in items {
        match item {
            Operand::Null => null = true,
            Operand::Foreign | Operand::NaN => {}
            Operand::Bound(value, _) => {
                params.push(value);
                listed += 1;
            }
        }
    }
    let mut parts = Vec::new();
    if listed > 0 {
        let mut marks = "?, ".repeat(listed);
        marks.truncate(marks.len() - 2);
        parts.push(format!("{} IN ({marks})", bare(column)));
    }
    if null {
        parts.push(format!("{column} IS NULL"));
    }
    match parts.len() {
        0 => "0".into(),
        _ => format!("({})", parts.join(" OR ")),
    }
}

/// The text eval renders a `Like` operand as (text as is, numbers as Rust
/// prints them, booleans as `true` / `false`); `None` for non-scalars.
fn pattern(value: &Value) -> Option<String> {
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

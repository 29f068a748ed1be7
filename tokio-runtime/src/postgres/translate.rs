//! A [`Query`] as the `WHERE` and `ORDER BY` of a `SELECT … FROM … AS t`,
//! meaning exactly what [`diorama_core::vista::eval`] means over the rows
//! PostgreSQL returns.
//!
//! Operands are always bound parameters with an explicit type; column
//! names come from the [`Schema`] (an unknown one is `InvalidInput`) and
//! are quoted. Since every column has one type, each condition is decided
//! by the column's kind and the operand's kind:
//!
//! - **Kinds that never compare** (a number against text, anything
//!   against an array, a map or a tag) give the constant eval gives: never
//!   equal, never ordered.
//! - **Numbers** compare exactly across integers and doubles: an integer
//!   column against a double compares with the integer bound it implies
//!   (`i > 2.5` is `i > 2`; a fractional `Eq` finds nothing), a double
//!   column against an integer no double can hold compares with its
//!   neighbouring double. PostgreSQL's doubles already order as eval does:
//!   NaN equals NaN and sorts above every number, `-0 = 0`.
//! - **Text** compares under the `C` collation (by UTF-8 bytes, as eval),
//!   whatever collation the column declares; bytes compare bytewise.
//! - **Nulls:** `Eq null` is `IS NULL`, `Ne` is the negation of `Eq` (so
//!   it keeps NULLs), ordering comparisons never hold for NULL, `In` holds
//!   for NULL when the list holds a null.
//! - **`Like` and search** match a regular expression over the text eval
//!   renders for the value (see [`super::text`]); bytes have none.
//! - **The sort** is the column under the same comparison, `NULLS LAST` in
//!   both directions, then the id as text under `C`: eval breaks ties by
//!   id. Without a sort, rows come in id order (numeric for integer ids,
//!   bytewise otherwise).
//!
//! Not pushed ([`pushable`] is false, so a `Vista` evaluates it locally):
//! text operands holding NUL (PostgreSQL text cannot hold it), `In` lists
//! longer than [`MAX_IN_ITEMS`], and `Like` patterns and search needles
//! longer than [`MAX_PATTERN_CHARS`](super::text::MAX_PATTERN_CHARS).

use diorama_core::value::Value;
use diorama_core::vista::{CmpOp, Condition, Query, SortDir};
use diorama_core::{Error, Result};

use super::convert::{Params, render};
use super::schema::{Column, IdKind, Kind, Schema};
use super::text::{like_regex, rendered, search_regex};

/// The longest `In` list pushed (one array parameter).
pub(crate) const MAX_IN_ITEMS: usize = 1000;

/// `SQL` that is never true.
const FALSE: &str = "false";

/// The `WHERE` and `ORDER BY` of a query.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// `" WHERE ..."`, or empty.
    pub(crate) filter: String,
    /// `" ORDER BY ..."`, never empty: every read has a defined order.
    pub(crate) order: String,
}

/// True when `condition` can be pushed (see the module docs). The field is
/// not checked here: an unknown column is reported by the read.
pub(crate) fn pushable(condition: &Condition) -> bool {
    let text_ok = |value: &Value| !matches!(value, Value::Text(s) if s.contains('\0'));
    match (&condition.op, &condition.value) {
        (CmpOp::Like, value) => render(value).is_none_or(|pattern| like_regex(&pattern).is_some()),
        (CmpOp::In, Value::Array(items)) => {
            items.len() <= MAX_IN_ITEMS && items.iter().all(text_ok)
        }
        (_, value) => text_ok(value),
    }
}

/// True when a search for `needle` can be pushed.
pub(crate) fn search_pushable(needle: &str) -> bool {
    search_regex(needle).is_some()
}

/// `query` as SQL over `schema`, its parameters added to `params`.
/// `InvalidInput` for an unknown column or the id column; `Unsupported`
/// for a clause [`pushable`] refuses.
pub(crate) fn plan(schema: &Schema, query: &Query, params: &mut Params) -> Result<Plan> {
    let mut clauses: Vec<String> = Vec::new();
    for condition in &query.conditions {
        clauses.push(translate(schema, condition, params)?);
    }
    if let Some(needle) = query.search.as_deref().filter(|n| !n.is_empty()) {
        let regex = search_regex(needle).ok_or_else(|| {
            Error::unsupported(format!(
                "PgVista \"{}\" does not search for a needle this long",
                schema.table
            ))
        })?;
        let texts: Vec<String> = schema
            .fields
            .iter()
            .filter_map(|c| rendered(&c.quoted, c.kind))
            .collect();
        if texts.is_empty() {
            clauses.push(FALSE.into());
        } else {
            let placeholder = params.push(regex);
            let tests: Vec<String> = texts
                .iter()
                .map(|text| format!("{text} ~ {placeholder}::text"))
                .collect();
            clauses.push(format!("({})", tests.join(" OR ")));
        }
    }
    let mut plan = Plan::default();
    if !clauses.is_empty() {
        plan.filter = format!(" WHERE {}", clauses.join(" AND "));
    }
    let id = format!("t.{}", schema.id.quoted);
    plan.order = match &query.sort {
        Some(sort) => {
            let column = schema.field(&sort.field)?;
            let dir = match sort.dir {
                SortDir::Asc => "ASC",
                SortDir::Desc => "DESC",
            };
            format!(
                " ORDER BY {} {dir} NULLS LAST, {id}::text COLLATE \"C\"",
                compared(column)
            )
        }
        None => match schema.id_kind {
            IdKind::Integer => format!(" ORDER BY {id}"),
            IdKind::Text | IdKind::Other => format!(" ORDER BY {id}::text COLLATE \"C\""),
        },
    };
    Ok(plan)
}

/// A column as comparisons and sorts see it (see the module docs).
/// Numbers, booleans and bytes are compared as the column is, so an index
/// on it serves (PostgreSQL compares `integer` with `bigint` and `real`
/// with `double precision` exactly); text under the `C` collation.
fn compared(column: &Column) -> String {
    let c = format!("t.{}", column.quoted);
    match column.kind {
        Kind::Bool | Kind::Int | Kind::Float | Kind::Bytes => c,
        Kind::Text | Kind::Other => format!("{c}::text COLLATE \"C\""),
    }
}

fn translate(schema: &Schema, condition: &Condition, params: &mut Params) -> Result<String> {
    let column = schema.field(&condition.field)?;
    if !pushable(condition) {
        return Err(Error::unsupported(format!(
            "PgVista \"{}\" does not apply the condition {condition}",
            schema.table
        )));
    }
    let c = compared(column);
    let null = format!("t.{} IS NULL", column.quoted);
    let value = &condition.value;
    Ok(match condition.op {
        CmpOp::Eq => equals(column, &c, &null, value, params),
        CmpOp::Ne => format!("NOT ({})", equals(column, &c, &null, value, params)),
        CmpOp::Gt => ordered(column, &c, ">", value, params),
        CmpOp::Gte => ordered(column, &c, ">=", value, params),
        CmpOp::Lt => ordered(column, &c, "<", value, params),
        CmpOp::Lte => ordered(column, &c, "<=", value, params),
        CmpOp::In => match value {
            Value::Array(items) => one_of(column, &c, &null, items, params),
            single => equals(column, &c, &null, single, params),
        },
        CmpOp::Like => match (render(value), rendered(&column.quoted, column.kind)) {
            (Some(pattern), Some(text)) => {
                // Checked by `pushable`.
                let regex = like_regex(&pattern).unwrap_or_default();
                format!("COALESCE({text} ~ {}::text, false)", params.push(regex))
            }
            // eval: a non-scalar operand, or bytes, never match.
            _ => FALSE.into(),
        },
    })
}

/// An operand reduced to what it can equal or order against in a column
/// of one kind.
enum Bound {
    /// Compare with this bound parameter (its SQL, with its cast).
    Value(String),
    /// Equal to nothing in the column, ordered against nothing.
    Nothing,
    /// Above every non-null value of the column.
    AboveAll,
    /// Below every non-null value of the column.
    BelowAll,
}

/// `value` as a bound for comparisons against `column` under `op` (the
/// operator may change: an integer column against `2.5` turns `>` into `>`
/// 2 and `>=` into `>=` 3). `op` is `=` for equality.
fn bound(column: &Column, op: &str, value: &Value, params: &mut Params) -> (Bound, &'static str) {
    let same = |op: &str| -> &'static str {
        match op {
            ">" => ">",
            ">=" => ">=",
            "<" => "<",
            "<=" => "<=",
            _ => "=",
        }
    };
    let op = same(op);
    match (column.kind, value) {
        (Kind::Bool, Value::Bool(b)) => (Bound::Value(format!("{}::bool", params.push(*b))), op),
        (Kind::Int, Value::Integer(i)) => (int_bound(i.get(), params), op),
        (Kind::Int, Value::Float(f)) => float_against_int(*f, op, params),
        (Kind::Float, Value::Float(f)) => {
            (Bound::Value(format!("{}::float8", params.push(*f))), op)
        }
        (Kind::Float, Value::Integer(i)) => int_against_float(i.get(), op, params),
        (Kind::Text | Kind::Other, Value::Text(s)) => (
            Bound::Value(format!("{}::text COLLATE \"C\"", params.push(s.clone()))),
            op,
        ),
        (Kind::Bytes, Value::Bytes(b)) => (
            Bound::Value(format!("{}::bytea", params.push(b.clone()))),
            op,
        ),
        _ => (Bound::Nothing, op),
    }
}

/// An integer bound for an integer column: beyond `i64` it is above or
/// below everything.
fn int_bound(i: i128, params: &mut Params) -> Bound {
    match i64::try_from(i) {
        Ok(i) => Bound::Value(format!("{}::int8", params.push(i))),
        Err(_) if i > 0 => Bound::AboveAll,
        Err(_) => Bound::BelowAll,
    }
}

/// A double against an integer column: the integer comparison it implies.
fn float_against_int(f: f64, op: &'static str, params: &mut Params) -> (Bound, &'static str) {
    // eval: NaN is above every number.
    if f.is_nan() || f == f64::INFINITY {
        return (
            if op == "=" {
                Bound::Nothing
            } else {
                Bound::AboveAll
            },
            op,
        );
    }
    if f == f64::NEG_INFINITY {
        return (
            if op == "=" {
                Bound::Nothing
            } else {
                Bound::BelowAll
            },
            op,
        );
    }
    if op == "=" {
        return if f.fract() == 0.0 {
            (int_bound(clamp(f), params), op)
        } else {
            (Bound::Nothing, op)
        };
    }
    // x > f ⟺ x > floor f; x >= f ⟺ x >= ceil f; x < f ⟺ x < ceil f;
    // x <= f ⟺ x <= floor f (for integers x).
    let whole = match op {
        ">" | "<=" => f.floor(),
        _ => f.ceil(),
    };
    (int_bound(clamp(whole), params), op)
}

/// A whole double as an `i128`, saturating far beyond `i64` either way.
fn clamp(whole: f64) -> i128 {
    whole.clamp(-1e30, 1e30) as i128
}

/// An integer against a double column: the double itself when one holds
/// it exactly, else its neighbour with the operator adjusted.
fn int_against_float(i: i128, op: &'static str, params: &mut Params) -> (Bound, &'static str) {
    // Rounds to nearest; `f` is whole and far below 2^127.
    let f = i as f64;
    let back = f as i128;
    if back == i {
        return (Bound::Value(format!("{}::float8", params.push(f))), op);
    }
    if op == "=" {
        return (Bound::Nothing, op);
    }
    let bound = Bound::Value(format!("{}::float8", params.push(f)));
    // No double lies strictly between i and f.
    let op = if back > i {
        match op {
            ">" | ">=" => ">=",
            _ => "<",
        }
    } else {
        match op {
            ">" | ">=" => ">",
            _ => "<=",
        }
    };
    (bound, op)
}

fn equals(column: &Column, c: &str, null: &str, value: &Value, params: &mut Params) -> String {
    if value.is_null() {
        return null.to_owned();
    }
    match bound(column, "=", value, params) {
        (Bound::Value(bound), _) => format!("COALESCE({c} = {bound}, false)"),
        _ => FALSE.into(),
    }
}

fn ordered(column: &Column, c: &str, op: &str, value: &Value, params: &mut Params) -> String {
    let not_null = format!("t.{} IS NOT NULL", column.quoted);
    if value.is_null() {
        return FALSE.into();
    }
    let upward = op.starts_with('>');
    match bound(column, op, value, params) {
        (Bound::Value(bound), op) => format!("COALESCE({c} {op} {bound}, false)"),
        (Bound::Nothing, _) => FALSE.into(),
        (Bound::AboveAll, _) if upward => FALSE.into(),
        (Bound::AboveAll, _) => not_null,
        (Bound::BelowAll, _) if upward => not_null,
        (Bound::BelowAll, _) => FALSE.into(),
    }
}

fn one_of(column: &Column, c: &str, null: &str, items: &[Value], params: &mut Params) -> String {
    let mut parts: Vec<String> = Vec::new();
    if items.iter().any(Value::is_null) {
        parts.push(null.to_owned());
    }
    let listed = items.iter().filter(|item| !item.is_null());
    match column.kind {
        Kind::Bool => {
            let values: Vec<bool> = listed.filter_map(|v| v.as_bool()).collect();
            if !values.is_empty() {
                parts.push(format!("{c} = ANY({}::bool[])", params.push(values)));
            }
        }
        Kind::Int => {
            let values: Vec<i64> = listed
                .filter_map(|v| match v {
                    Value::Integer(i) => i64::try_from(i.get()).ok(),
                    Value::Float(f) if super::convert::is_whole_i64(*f) => Some(*f as i64),
                    _ => None,
                })
                .collect();
            if !values.is_empty() {
                parts.push(format!("{c} = ANY({}::int8[])", params.push(values)));
            }
        }
        Kind::Float => {
            let values: Vec<f64> = listed
                .filter_map(|v| match v {
                    Value::Float(f) => Some(*f),
                    Value::Integer(i) if (i.get() as f64) as i128 == i.get() => {
                        Some(i.get() as f64)
                    }
                    _ => None,
                })
                .collect();
            if !values.is_empty() {
                parts.push(format!("{c} = ANY({}::float8[])", params.push(values)));
            }
        }
        Kind::Text | Kind::Other => {
            let values: Vec<String> = listed
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            if !values.is_empty() {
                parts.push(format!(
                    "{c} = ANY({}::text[] COLLATE \"C\")",
                    params.push(values)
                ));
            }
        }
        Kind::Bytes => {
            let values: Vec<Vec<u8>> = listed
                .filter_map(|v| match v {
                    Value::Bytes(b) => Some(b.clone()),
                    _ => None,
                })
                .collect();
            if !values.is_empty() {
                parts.push(format!("{c} = ANY({}::bytea[])", params.push(values)));
            }
        }
    }
    match parts.len() {
        0 => FALSE.into(),
        _ => format!("COALESCE({}, false)", parts.join(" OR ")),
    }
}

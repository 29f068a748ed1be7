//! Conditions and whole-query filters.

use alloc::string::String;
use core::cmp::Ordering;

use super::lookup;
use super::order::{compare_values, rank};
use super::text::{SearchMatcher, like_value, render};
use crate::value::{Record, Value};
use crate::vista::{CmpOp, Condition, Query};

/// True when `record` satisfies `condition`.
///
/// The field is found with [`lookup`]; a missing field behaves as null.
///
/// - `Eq`: `Eq null` matches a null, undefined or missing field; otherwise
///   the field must be non-null and equal by [`compare_values`], so numbers
///   compare numerically (`1 == 1.0`), text exactly (case-sensitive), and a
///   number never equals its text (`1 != "1"`). NaN equals NaN.
/// - `Ne`: exactly the rows `Eq` rejects (so `Ne 5` matches a missing field,
///   and `Ne null` matches every non-null field).
/// - `Gt`, `Gte`, `Lt`, `Lte`: false when either side is null or missing,
///   and false across kinds (a number is neither above nor below a text);
///   otherwise by [`compare_values`] (numbers numerically, text by bytes).
/// - `In`: the field equals (as `Eq`) one element of the `Array` operand; a
///   non-array operand acts as a one-element list.
/// - `Like`: the SQL pattern of the operand's text (`%` any run, `_` one
///   character, `\` escapes the next), case-insensitive, over the text
///   rendering of a scalar field (text, numbers as written, booleans); a
///   null, missing or non-scalar field, or a non-scalar operand, never
///   matches.
pub fn matches_condition(record: &Record, condition: &Condition) -> bool {
    condition_holds(record, condition, &mut String::new())
}

/// [`matches_condition`] with scratch space for rendering numbers.
fn condition_holds(record: &Record, condition: &Condition, buf: &mut String) -> bool {
    let field = lookup(record, &condition.field);
    let operand = &condition.value;
    match condition.op {
        CmpOp::Eq => equals(field, operand),
        CmpOp::Ne => !equals(field, operand),
        CmpOp::Gt => ordered(field, operand) == Some(Ordering::Greater),
        CmpOp::Gte => matches!(
            ordered(field, operand),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        CmpOp::Lt => ordered(field, operand) == Some(Ordering::Less),
        CmpOp::Lte => matches!(
            ordered(field, operand),
            Some(Ordering::Less | Ordering::Equal)
        ),
        CmpOp::In => match operand {
            Value::Array(items) => items.iter().any(|item| equals(field, item)),
            single => equals(field, single),
        },
        CmpOp::Like => {
            // The operand's own scratch: `buf` renders the field.
            let mut scratch = String::new();
            render(operand, &mut scratch).is_some_and(|pattern| like_value(field, pattern, buf))
        }
    }
}

fn equals(field: Option<&Value>, operand: &Value) -> bool {
    match field.filter(|v| !v.is_null()) {
        None => operand.is_null(),
        Some(value) => !operand.is_null() && compare_values(value, operand) == Ordering::Equal,
    }
}

/// The order of `field` against `operand`, when both are non-null values of
/// the same kind.
fn ordered(field: Option<&Value>, operand: &Value) -> Option<Ordering> {
    let value = field.filter(|v| !v.is_null())?;
    if operand.is_null() || rank(value) != rank(operand) {
        return None;
    }
    Some(compare_values(value, operand))
}

/// Every condition and the search of a [`Query`], ready to test many
/// records with one reused scratch buffer (no allocation per record once
/// warm). The sort is ignored.
#[derive(Debug)]
pub struct Filter<'q> {
    query: &'q Query,
    search: Option<SearchMatcher<'q>>,
    buf: String,
}

impl<'q> Filter<'q> {
    /// A filter for the conditions and search of `query`.
    pub fn new(query: &'q Query) -> Self {
        Filter {
            query,
            search: query.search.as_deref().map(SearchMatcher::new),
            buf: String::new(),
        }
    }

    /// True when `record` satisfies every condition (see
    /// [`matches_condition`]) and contains the search (see
    /// [`SearchMatcher`]).
    pub fn matches(&mut self, record: &Record) -> bool {
        let buf = &mut self.buf;
        self.query
            .conditions
            .iter()
            .all(|condition| condition_holds(record, condition, buf))
            && self
                .search
                .as_mut()
                .is_none_or(|search| search.matches(record))
    }
}

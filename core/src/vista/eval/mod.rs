//! Local evaluation of queries over records: the one definition of what a
//! condition, a search and a sort mean, shared by everything that filters
//! or sorts in memory (the [`Vista`](super::Vista) residual, the Dio facade,
//! sceneries over a complete set, [`MemoryVista`](super::MemoryVista)).
//!
//! - [`lookup`]: dotted paths into nested maps.
//! - [`compare_values`]: a total order over every [`Value`].
//! - [`matches_condition`], [`matches_search`], and [`Filter`] to test many
//!   rows without allocating per row.
//! - [`compare_rows`], [`compare_sort_keys`], [`sort_rows`], [`sort_rows_by`]:
//!   numbers numerically, nulls and missing fields last in both directions,
//!   ties broken by id ascending.
//! - [`apply_query`] and [`window`] for whole result sets.
//!
//! Semantics are documented on each function; in short: `Eq null` matches a
//! null or missing field, ordering comparisons involving null (or values of
//! different kinds) are false, `Like` and search are case-insensitive over
//! the text rendering of scalars, and search never looks at field names.

mod condition;
mod lookup;
mod order;
mod text;

pub use condition::{Filter, matches_condition};
pub use lookup::lookup;
pub use order::{compare_rows, compare_sort_keys, compare_values, sort_rows, sort_rows_by};
pub use text::{SearchMatcher, fold_char, like_matches, matches_search};

use alloc::vec::Vec;

use super::{Id, Query};
use crate::value::{Record, Value};

/// The rows of `rows` that satisfy every condition and the search of
/// `query`, sorted by its sort (ties by id); without a sort the input order
/// is kept. Correct only over a complete set: filtering and sorting a sample
/// gives a sample, not the query's answer.
pub fn apply_query(mut rows: Vec<(Id, Record)>, query: &Query) -> Vec<(Id, Record)> {
    if query.filters() {
        let mut filter = Filter::new(query);
        rows.retain(|(_, record)| filter.matches(record));
    }
    if let Some(sort) = &query.sort {
        sort_rows(&mut rows, sort);
    }
    rows
}

/// Items `offset..offset + limit` of `rows` (fewer at the end, none past it).
pub fn window<T>(mut rows: Vec<T>, offset: usize, limit: usize) -> Vec<T> {
    if offset >= rows.len() {
        rows.clear();
        return rows;
    }
    rows.truncate(offset.saturating_add(limit));
    rows.drain(..offset);
    rows
}

/// True for the values a search or `Like` renders as text: text, numbers
/// and booleans.
fn is_scalar(value: &Value) -> bool {
    matches!(
        value,
        Value::Text(_) | Value::Integer(_) | Value::Float(_) | Value::Bool(_)
    )
}

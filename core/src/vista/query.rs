//! Narrowing clauses and the query descriptor with its stable cache key.

use alloc::string::String;
use alloc::vec::Vec;

use crate::value::Value;

/// Comparison operator of a [`Condition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Equal to one of the elements of an `Array` value.
    In,
    /// SQL-style pattern on the text rendering: `%` any run, `_` one char,
    /// case-insensitive.
    Like,
}

/// One filter clause: `field op value`. `field` may be a dotted path into
/// nested maps (`"address.city"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Field name or dotted path.
    pub field: String,
    /// The comparison.
    pub op: CmpOp,
    /// The operand (an `Array` for [`CmpOp::In`]).
    pub value: Value,
}

impl Condition {
    /// `field op value`.
    pub fn new(field: impl Into<String>, op: CmpOp, value: impl Into<Value>) -> Self {
        Condition {
            field: field.into(),
            op,
            value: value.into(),
        }
    }

    /// `field == value`.
    pub fn eq(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(field, CmpOp::Eq, value)
    }
}

/// Sort direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortDir {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// One sort clause.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sort {
    /// Field name or dotted path.
    pub field: String,
    /// Direction.
    pub dir: SortDir,
}

/// Conditions (all must hold), an optional sort and an optional search string.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// Conditions; a row must satisfy all of them.
    pub conditions: Vec<Condition>,
    /// At most one sort clause.
    pub sort: Option<Sort>,
    /// Case-insensitive substring search over every scalar of a row.
    pub search: Option<String>,
}

/// A [`Query`] plus an optional window: what a read asked for. Its
/// [`key`](QueryDescriptor::key) is stable across runs and builds, so it can
/// index persisted state (answered queries, positions).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryDescriptor {
    /// The narrowing.
    pub query: Query,
    /// First row of the window.
    pub offset: Option<usize>,
    /// Maximum number of rows.
    pub limit: Option<usize>,
}

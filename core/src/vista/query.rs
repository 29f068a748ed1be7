//! Narrowing clauses and the query descriptor with its stable cache key.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::Id;
use super::key;
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

    /// `field != value`.
    pub fn ne(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(field, CmpOp::Ne, value)
    }

    /// `field > value`.
    pub fn gt(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(field, CmpOp::Gt, value)
    }

    /// `field >= value`.
    pub fn gte(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(field, CmpOp::Gte, value)
    }

    /// `field < value`.
    pub fn lt(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(field, CmpOp::Lt, value)
    }

    /// `field <= value`.
    pub fn lte(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(field, CmpOp::Lte, value)
    }

    /// `field` equals one of `values`.
    pub fn is_in<V: Into<Value>>(
        field: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        Self::new(field, CmpOp::In, Value::Array(values))
    }

    /// `field LIKE pattern` (`%` any run, `_` one character, `\` escapes;
    /// case-insensitive).
    pub fn like(field: impl Into<String>, pattern: impl Into<String>) -> Self {
        Self::new(field, CmpOp::Like, Value::Text(pattern.into()))
    }
}

impl CmpOp {
    /// The operator as written in messages and keys: `=`, `!=`, `>`, `>=`,
    /// `<`, `<=`, `in`, `like`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::In => "in",
            CmpOp::Like => "like",
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Condition {
    /// `field op value`, the value in the key's canonical notation
    /// (`price > i10`, `name = s"Lamp"`); meant for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.field, self.op)?;
        key::write_value(f, &self.value)
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

impl Sort {
    /// Sort by `field` in direction `dir`.
    pub fn new(field: impl Into<String>, dir: SortDir) -> Self {
        Sort {
            field: field.into(),
            dir,
        }
    }

    /// Sort by `field`, smallest first.
    pub fn asc(field: impl Into<String>) -> Self {
        Self::new(field, SortDir::Asc)
    }

    /// Sort by `field`, largest first.
    pub fn desc(field: impl Into<String>) -> Self {
        Self::new(field, SortDir::Desc)
    }
}

impl fmt::Display for Sort {
    /// `field asc` or `field desc`; meant for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.dir {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        };
        write!(f, "{} {dir}", self.field)
    }
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

impl Query {
    /// The empty query: every row, source order.
    pub fn new() -> Self {
        Query::default()
    }

    /// This query with `condition` added (all conditions must hold).
    pub fn with_condition(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// This query sorted by `sort`, replacing any previous sort.
    pub fn with_sort(mut self, sort: Sort) -> Self {
        self.sort = Some(sort);
        self
    }

    /// This query with the search string `text`, replacing any previous one.
    /// An empty `text` matches every row, so it removes the search.
    pub fn with_search(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.search = if text.is_empty() { None } else { Some(text) };
        self
    }

    /// True when the query narrows nothing: no condition, sort or search.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty() && self.sort.is_none() && self.search.is_none()
    }

    /// True when the query filters rows (has a condition or a search); a
    /// sort alone keeps every row.
    pub fn filters(&self) -> bool {
        !self.conditions.is_empty() || self.search.is_some()
    }

    /// A canonical text encoding of the query: stable across runs, builds
    /// and platforms, and distinct for distinct queries, so it can key
    /// persisted state (sceneries key their positions by it).
    ///
    /// The format is versioned (`q1`) and documented in the `key` module
    /// notes of [`QueryDescriptor::key`]. Equal queries give equal keys;
    /// two queries that differ in any condition (field, operator, operand
    /// type or value, order of conditions), the sort or the search give
    /// different keys. Floats are keyed by their bits after folding `-0.0`
    /// into `0.0` and every NaN into one, so `1` and `1.0` key differently
    /// (they are different operands) while `0.0` and `-0.0` do not.
    pub fn key(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = key::write_query(&mut out, self);
        out
    }
}

/// A [`Query`] plus an optional window, or a read of one row by id: what a
/// read asked for. Its [`key`](QueryDescriptor::key) is stable across runs
/// and builds, so it can index persisted state (answered queries, positions).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryDescriptor {
    /// The narrowing.
    pub query: Query,
    /// First row of the window.
    pub offset: Option<usize>,
    /// Maximum number of rows.
    pub limit: Option<usize>,
    /// Set when the read asks for one row by its id (`get`).
    pub id: Option<Id>,
}

impl QueryDescriptor {
    /// A descriptor for every row of `query`, no window.
    pub fn new(query: Query) -> Self {
        QueryDescriptor {
            query,
            ..QueryDescriptor::default()
        }
    }

    /// A descriptor for the single row `id` (a `get`).
    pub fn for_id(id: impl Into<Id>) -> Self {
        QueryDescriptor {
            id: Some(id.into()),
            ..QueryDescriptor::default()
        }
    }

    /// This descriptor limited to rows `offset..offset + limit`.
    pub fn with_window(mut self, offset: usize, limit: usize) -> Self {
        self.offset = Some(offset);
        self.limit = Some(limit);
        self
    }

    /// A canonical text encoding of the whole descriptor, stable across
    /// runs, builds and platforms, distinct for distinct descriptors.
    ///
    /// It is [`Query::key`] followed by `|@offset,limit` when a window is
    /// set (`-` for an absent bound) and `|#"id"` for a read by id, so a
    /// descriptor without window or id has exactly its query's key.
    ///
    /// # Format (version `q1`)
    ///
    /// ```text
    /// key       = "q1" *("|c" text " " op " " value) ["|o" ("+" / "-") text]
    ///             ["|s" text] ["|@" bound "," bound] ["|#" text]
    /// op        = "=" / "!=" / ">" / ">=" / "<" / "<=" / "in" / "like"
    /// text      = '"' chars with '\' and '"' escaped by '\' '"'
    /// value     = "n" / "u" / "b0" / "b1" / "i" decimal / "d" 16 hex digits (f64 bits)
    ///           / "s" text / "x" '"' hex '"' / "[" values "]" / "{" key ":" value, ... "}"
    ///           / "g" tag "(" value ")" / "y" simple
    /// bound     = decimal / "-"
    /// ```
    ///
    /// Every part is self-delimiting (texts are quoted and escaped, numbers
    /// end at a delimiter), which is why two descriptors never share a key.
    pub fn key(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = key::write_descriptor(&mut out, self);
        out
    }
}

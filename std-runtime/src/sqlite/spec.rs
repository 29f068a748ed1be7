//! A table to create: the id column, the fields and their indexes.

use diorama_core::{Error, Result};

use super::schema::{IdKind, quote, rowid_alias};
use super::{ranks, search_index, sort_index};

/// How a created table stores ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdType {
    /// `INTEGER PRIMARY KEY`: the rowid itself, so SQLite assigns ids to
    /// rows inserted without one (`"1"`, `"2"`, …) and source order is id
    /// order.
    #[default]
    Integer,
    /// `TEXT PRIMARY KEY NOT NULL`: any text id; inserts must give one.
    Text,
}

/// The declared type of a created column, which sets SQLite's affinity for
/// values written to it (see the [module docs](super#values)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `INTEGER`: numeric-looking text is stored as a number.
    Integer,
    /// `REAL`: integers are stored (and read back) as reals.
    Real,
    /// `TEXT`: numbers are stored as their text.
    Text,
    /// `BLOB`: values are stored as given.
    Blob,
    /// No declared type: values are stored as given, of any kind.
    #[default]
    Any,
}

impl ColumnType {
    /// Numeric affinity: numeric-looking text is stored as a number.
    fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Integer | ColumnType::Real)
    }

    fn sql(self) -> &'static str {
        match self {
            ColumnType::Integer => " INTEGER",
            ColumnType::Real => " REAL",
            ColumnType::Text => " TEXT",
            ColumnType::Blob => " BLOB",
            ColumnType::Any => "",
        }
    }
}

/// A table for [`SqliteVista::create_table`](super::SqliteVista::create_table):
/// its name, the id column and its type, the field columns in order, and
/// the columns to index (each gets the two sort indexes of
/// [`SqliteVista::create_index`](super::SqliteVista::create_index), which
/// serve its sorts and conditions).
///
/// ```
/// use diorama_std::sqlite::{ColumnType, IdType, TableSpec};
///
/// let spec = TableSpec::new("products", "id", IdType::Integer)
///     .column("name", ColumnType::Text)
///     .column("price", ColumnType::Real)
///     .index("price");
/// assert_eq!(spec.name(), "products");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    name: String,
    id: String,
    id_type: IdType,
    columns: Vec<(String, ColumnType)>,
    indexes: Vec<String>,
    search_index: bool,
}

impl TableSpec {
    /// A table `name` with ids in column `id_column` of type `id_type` and
    /// no fields yet.
    pub fn new(name: impl Into<String>, id_column: impl Into<String>, id_type: IdType) -> Self {
        TableSpec {
            name: name.into(),
            id: id_column.into(),
            id_type,
            columns: Vec::new(),
            indexes: Vec::new(),
            search_index: false,
        }
    }

    /// This table with one more field column, after the others.
    pub fn column(mut self, name: impl Into<String>, column_type: ColumnType) -> Self {
        self.columns.push((name.into(), column_type));
        self
    }

    /// This table with the sort indexes of field `column` (`(column, id)`
    /// and `(column, id DESC)`) and its rank table (see
    /// [`SqliteVista::create_index`](super::SqliteVista::create_index)),
    /// created with the table. An empty table has no rows to choose rank
    /// buckets from, so it starts with unit-wide number buckets and
    /// two-character text prefixes. Before a bulk load of many rows, prefer
    /// [`SqliteVista::create_index`](super::SqliteVista::create_index) after
    /// the load: faster, and buckets fitted to the rows.
    pub fn index(mut self, column: impl Into<String>) -> Self {
        self.indexes.push(column.into());
        self
    }

    /// This table with the search index of
    /// [`SqliteVista::create_search_index`](super::SqliteVista::create_search_index)
    /// (FTS5, trigrams over every field), created with the table. Before a
    /// bulk load of many rows, prefer building it after the load.
    pub fn search_index(mut self) -> Self {
        self.search_index = true;
        self
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id column's name.
    pub fn id_column(&self) -> &str {
        &self.id
    }

    /// The statements that create the table and its indexes.
    /// `InvalidInput` for an empty or repeated column name (SQLite compares
    /// names ignoring ASCII case), an index on an unknown column, or a
    /// search index on a table whose columns shadow every rowid name.
    pub(crate) fn statements(&self) -> Result<Vec<String>> {
        let names: Vec<&str> = std::iter::once(self.id.as_str())
            .chain(self.columns.iter().map(|(name, _)| name.as_str()))
            .collect();
        if self.name.is_empty() {
            return Err(Error::invalid_input("a table needs a name"));
        }
        for (at, name) in names.iter().enumerate() {
            if name.is_empty() {
                return Err(Error::invalid_input(format!(
                    "table \"{}\": a column needs a name",
                    self.name
                )));
            }
            if names[..at]
                .iter()
                .any(|other| other.eq_ignore_ascii_case(name))
            {
                return Err(Error::invalid_input(format!(
                    "table \"{}\": column \"{name}\" is declared twice",
                    self.name
                )));
            }
        }
        let id = match self.id_type {
            IdType::Integer => format!("{} INTEGER PRIMARY KEY", quote(&self.id)),
            IdType::Text => format!("{} TEXT PRIMARY KEY NOT NULL", quote(&self.id)),
        };
        let columns = std::iter::once(id)
            .chain(
                self.columns
                    .iter()
                    .map(|(name, ty)| format!("{}{}", quote(name), ty.sql())),
            )
            .collect::<Vec<_>>()
            .join(", ");
        let mut statements = vec![format!("CREATE TABLE {} ({columns})", quote(&self.name))];
        for column in &self.indexes {
            if !self.columns.iter().any(|(name, _)| name == column) {
                return Err(Error::invalid_input(format!(
                    "table \"{}\": cannot index unknown field \"{column}\"",
                    self.name
                )));
            }
            let kind = match self.id_type {
                IdType::Integer => IdKind::Integer,
                IdType::Text => IdKind::Text,
            };
            statements.extend(sort_index::statements(
                &self.name, column, &self.id, kind, false,
            ));
            let numeric = self
                .columns
                .iter()
                .any(|(name, ty)| name == column && ty.is_numeric());
            let bucketing = ranks::Bucketing::default_for(numeric);
            statements.extend(
                ranks::objects(&self.name, column, bucketing)
                    .into_iter()
                    .map(|(_, _, sql)| sql),
            );
        }
        if self.search_index {
            let fields: Vec<&str> = names[1..].to_vec();
            search_index::check_fields(&self.name, &fields)?;
            let rowid = rowid_alias(names.iter().copied()).ok_or_else(|| {
                Error::invalid_input(format!(
                    "table \"{}\": a search index needs a rowid, and columns shadow rowid, _rowid_ and oid",
                    self.name
                ))
            })?;
            for (_, _, sql) in search_index::objects(&self.name, &fields, rowid) {
                statements.push(sql);
            }
        }
        Ok(statements)
    }
}

//! The table's shape, read once at open: its columns, the id column and how
//! ids are stored, whether rows have a rowid, and whether it takes writes.
//!
//! Every column name that reaches SQL text comes from here, so a name a
//! caller supplies is only ever used after it matched a real column, and
//! always quoted.

use std::sync::OnceLock;

use diorama_core::{Error, Result};
use rusqlite::{Connection, OptionalExtension};

use super::error::sql_error;
use super::search_index::{self, SearchIndex};

/// How ids are stored in the id column, from its declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdKind {
    /// INTEGER affinity: ids are canonical decimal `i64` texts (`"42"`, not
    /// `"042"` or `"+42"`), bound as integers.
    Integer,
    /// TEXT affinity: ids are bound and stored as text.
    Text,
}

/// One column: its name as the table declares it, and that name quoted as
/// an SQL identifier.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) quoted: String,
}

impl Column {
    fn new(name: String) -> Self {
        let quoted = quote(&name);
        Column { name, quoted }
    }
}

/// The shape of the table behind a `SqliteVista`.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    /// The table's name as given to `open`.
    pub(crate) table: String,
    pub(crate) quoted_table: String,
    pub(crate) id: Column,
    pub(crate) id_kind: IdKind,
    /// Every other column, in table order: the fields of a record.
    pub(crate) fields: Vec<Column>,
    /// How to address the rowid (`rowid`, or an alias when a column shadows
    /// it); `None` for WITHOUT ROWID tables, views and virtual tables.
    pub(crate) rowid: Option<&'static str>,
    /// An ordinary table on a connection that may write.
    pub(crate) writable: bool,
    /// SQLite fills the id of a row inserted without one: the id column is
    /// the rowid (`INTEGER PRIMARY KEY`) or has a default.
    pub(crate) assigns_ids: bool,
    /// `"id", "a", "b", ...`: the select list of a row.
    pub(crate) select_list: String,
    /// The search index, once found intact (at open) or built.
    pub(crate) search: OnceLock<SearchIndex>,
}

/// `ident` as an SQL identifier: double-quoted, inner quotes doubled.
pub(crate) fn quote(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 2);
    out.push('"');
    for c in ident.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A script dropping `objects` (`(name, type, CREATE statement)` in
/// creation order), last first, then creating them again in order.
pub(crate) fn replace_script(objects: &[(String, &'static str, String)]) -> String {
    let mut script = String::new();
    for (name, kind, _) in objects.iter().rev() {
        let kind = kind.to_ascii_uppercase();
        script.push_str(&format!("DROP {kind} IF EXISTS {};\n", quote(name)));
    }
    for (_, _, sql) in objects {
        script.push_str(sql);
        script.push_str(";\n");
    }
    script
}

impl Schema {
    /// Read the shape of `table` in the main database of `conn`, with ids in
    /// `id_column`.
    ///
    /// Errors: `NotFound` for an unknown table; `InvalidInput` for an
    /// unknown id column, one declared neither INTEGER nor TEXT, or (for a
    /// table) one that is neither the single-column primary key nor covered
    /// by a unique index.
    pub(crate) fn read(conn: &Connection, table: &str, id_column: &str) -> Result<Schema> {
        let context = |what: &str| format!("reading the schema of \"{table}\": {what}");
        let kind: Option<(String, bool)> = conn
            .query_row(
                "SELECT type, wr FROM pragma_table_list \
                 WHERE schema = 'main' AND name = ?1 COLLATE NOCASE",
                [table],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?)),
            )
            .optional()
            .map_err(|e| sql_error(&context("table list"), e))?;
        let Some((kind, without_rowid)) = kind else {
            return Err(Error::not_found(format!(
                "SQLite has no table or view named \"{table}\""
            )));
        };

        // (name, declared type, has a default, position in the primary key)
        let mut columns: Vec<(String, String, bool, i64)> = Vec::new();
        {
            let mut stmt = conn
                .prepare(
                    "SELECT name, type, dflt_value IS NOT NULL, pk \
                     FROM pragma_table_info(?1, 'main') ORDER BY cid",
                )
                .map_err(|e| sql_error(&context("table info"), e))?;
            let rows = stmt
                .query_map([table], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .map_err(|e| sql_error(&context("table info"), e))?;
            for row in rows {
                columns.push(row.map_err(|e| sql_error(&context("table info"), e))?);
            }
        }

        let Some(id_at) = columns.iter().position(|(name, ..)| name == id_column) else {
            let names: Vec<&str> = columns.iter().map(|(name, ..)| name.as_str()).collect();
            return Err(Error::invalid_input(format!(
                "table \"{table}\" has no column \"{id_column}\" for ids (columns: {})",
                names.join(", ")
            )));
        };
        let id_kind = match affinity(&columns[id_at].1) {
            Affinity::Integer => IdKind::Integer,
            Affinity::Text => IdKind::Text,
            Affinity::Other => {
                return Err(Error::invalid_input(format!(
                    "id column \"{id_column}\" of \"{table}\" is declared \"{}\"; \
                     ids need an INTEGER or TEXT column",
                    columns[id_at].1
                )));
            }
        };

        let is_table = kind == "table";
        let pk_columns = columns.iter().filter(|(.., pk)| *pk > 0).count();
        let is_pk = pk_columns == 1 && columns[id_at].3 > 0;
        // A view cannot declare keys; its ids are taken on trust.
        if is_table && !is_pk && !has_unique_index(conn, table, id_column)? {
            return Err(Error::invalid_input(format!(
                "id column \"{id_column}\" of \"{table}\" is neither the primary key \
                 nor covered by a unique index, so ids could repeat"
            )));
        }

        let rowid = if is_table && !without_rowid {
            // A column may shadow a rowid name; SQLite answers to any of three.
            rowid_alias(columns.iter().map(|(name, ..)| name.as_str()))
        } else {
            None
        };
        let read_only = conn.is_readonly("main").unwrap_or(true);
        // Only a primary key declared exactly INTEGER aliases the rowid.
        let is_rowid = is_pk && columns[id_at].1.eq_ignore_ascii_case("INTEGER");
        let assigns_ids = rowid.is_some() && (is_rowid || columns[id_at].2);

        let mut fields = Vec::with_capacity(columns.len().saturating_sub(1));
        let mut id = None;
        for (at, (name, ..)) in columns.into_iter().enumerate() {
            if at == id_at {
                id = Some(Column::new(name));
            } else {
                fields.push(Column::new(name));
            }
        }
        let id = id.unwrap_or_else(|| Column::new(id_column.to_owned()));
        let select_list = std::iter::once(id.quoted.as_str())
            .chain(fields.iter().map(|c| c.quoted.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let search = OnceLock::new();
        if let Some(rowid) = rowid {
            let names: Vec<&str> = fields.iter().map(|c| c.name.as_str()).collect();
            if let Some(index) = search_index::find(conn, table, &names, rowid)? {
                let _ = search.set(index);
            }
        }
        Ok(Schema {
            table: table.to_owned(),
            quoted_table: quote(table),
            id,
            id_kind,
            fields,
            rowid,
            writable: is_table && !read_only,
            assigns_ids,
            select_list,
            search,
        })
    }

    /// The search index, when there is one to use.
    pub(crate) fn search_index(&self) -> Option<&SearchIndex> {
        self.search.get()
    }
}

/// How a table whose columns are `columns` addresses its rowid: the first
/// of SQLite's three names no column shadows (ignoring ASCII case).
pub(crate) fn rowid_alias<'a>(
    columns: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'static str> {
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|alias| !columns.clone().any(|name| name.eq_ignore_ascii_case(alias)))
}

impl Schema {
    /// The record field `name`: `InvalidInput` naming the known columns when
    /// the table has no such column, or when it is the id column (ids are
    /// not record fields).
    pub(crate) fn field(&self, name: &str) -> Result<&Column> {
        if let Some(column) = self.fields.iter().find(|c| c.name == name) {
            return Ok(column);
        }
        if name == self.id.name {
            return Err(Error::invalid_input(format!(
                "\"{name}\" is the id column of \"{}\"; ids are not record fields",
                self.table
            )));
        }
        let names: Vec<&str> = self.fields.iter().map(|c| c.name.as_str()).collect();
        Err(Error::invalid_input(format!(
            "table \"{}\" has no column \"{name}\" (fields: {})",
            self.table,
            names.join(", ")
        )))
    }
}

/// A column's type affinity, as far as ids care (SQLite's rules, in order:
/// `INT` → integer; `CHAR`, `CLOB`, `TEXT` → text; anything else is not an
/// id type).
enum Affinity {
    Integer,
    Text,
    Other,
}

fn affinity(declared: &str) -> Affinity {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        Affinity::Integer
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t)) {
        Affinity::Text
    } else {
        Affinity::Other
    }
}

/// True when a unique, non-partial index of `table` covers exactly `column`.
fn has_unique_index(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    let context = format!("reading the indexes of \"{table}\"");
    let mut stmt = conn
        .prepare(
            "SELECT name FROM pragma_index_list(?1, 'main') \
             WHERE \"unique\" = 1 AND partial = 0",
        )
        .map_err(|e| sql_error(&context, e))?;
    let indexes: Vec<String> = stmt
        .query_map([table], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sql_error(&context, e))?;
    for index in indexes {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_index_info(?1, 'main')")
            .map_err(|e| sql_error(&context, e))?;
        let covered: Vec<Option<String>> = stmt
            .query_map([&index], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| sql_error(&context, e))?;
        if let [Some(name)] = covered.as_slice()
            && name == column
        {
            return Ok(true);
        }
    }
    Ok(false)
}

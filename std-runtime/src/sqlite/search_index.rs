//! The search index: an FTS5 table with the trigram tokenizer over every
//! field, kept in step with the table by three triggers, which narrows a
//! search to the rows holding the needle's trigrams.
//!
//! For table `t` with fields `a`, `b` it is
//!
//! ```sql
//! CREATE VIRTUAL TABLE "t_search" USING fts5("a", "b", content='t', content_rowid='rowid', tokenize='trigram case_sensitive 0')
//! ```
//!
//! an external-content table (it stores the trigrams, not a copy of the
//! rows), plus `"t_search_insert"`, `"t_search_delete"` and
//! `"t_search_update"` triggers that index each row as written, whoever
//! writes it (this vista, another program, the `sqlite3` shell). Trigrams
//! make substring search an index lookup; `case_sensitive 0` folds case.
//!
//! A search uses the index when the vista found it intact at open (or
//! built it, [`SqliteVista::create_search_index`]) and the needle has at
//! least three characters that FTS5 folds as local evaluation does (see
//! [`super::fold`]); the rows it finds are then checked with the local
//! matcher (`diorama_search`), so the result is exactly local
//! evaluation's. Other needles scan the table, as without an index.
//!
//! The index is recognised by its exact definition: a table whose columns
//! changed since (an `ALTER TABLE ... ADD COLUMN`) has a stale one, which
//! the vista ignores and `create_search_index` replaces.
//!
//! [`SqliteVista::create_search_index`]: super::SqliteVista::create_search_index

use diorama_core::Result;
use rusqlite::{Connection, OptionalExtension};

use super::error::sql_error;
use super::schema::quote;

/// A search index the vista may use: the FTS5 table's name, quoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SearchIndex {
    pub(crate) quoted: String,
}

/// The FTS5 table's name for `table`.
pub(crate) fn index_name(table: &str) -> String {
    format!("{table}_search")
}

/// `text` as an SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The objects of the index of `table` (fields `fields`, rows addressed as
/// `rowid`), as `(name, type, CREATE statement)`, in creation order. The
/// statements are written as SQLite stores them in `sqlite_schema`, so an
/// intact index is recognised by comparing the text.
pub(crate) fn objects(
    table: &str,
    fields: &[&str],
    rowid: &str,
) -> Vec<(String, &'static str, String)> {
    let index = index_name(table);
    let (q_index, q_table) = (quote(&index), quote(table));
    let columns: Vec<String> = fields.iter().map(|f| quote(f)).collect();
    let columns = columns.join(", ");
    let values = |row: &str| {
        fields
            .iter()
            .map(|f| format!("{row}.{}", quote(f)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let insert = format!(
        "INSERT INTO {q_index} (rowid, {columns}) VALUES (new.{rowid}, {});",
        values("new")
    );
    let delete = format!(
        "INSERT INTO {q_index} ({q_index}, rowid, {columns}) VALUES ('delete', old.{rowid}, {});",
        values("old")
    );
    let create = format!(
        "CREATE VIRTUAL TABLE {q_index} USING fts5({columns}, content={}, content_rowid={}, \
         tokenize='trigram case_sensitive 0')",
        literal(table),
        literal(rowid)
    );
    let trigger = |event: &str, body: &str| {
        let name = format!("{index}_{}", event.to_ascii_lowercase());
        let sql = format!(
            "CREATE TRIGGER {} AFTER {event} ON {q_table} BEGIN {body} END",
            quote(&name)
        );
        (name, "trigger", sql)
    };
    vec![
        (index.clone(), "table", create),
        trigger("INSERT", &insert),
        trigger("DELETE", &delete),
        trigger("UPDATE", &format!("{delete} {insert}")),
    ]
}

/// The index of `table` in `conn`'s main database, if every object of it
/// is there exactly as [`objects`] writes it.
pub(crate) fn find(
    conn: &Connection,
    table: &str,
    fields: &[&str],
    rowid: &str,
) -> Result<Option<SearchIndex>> {
    let context = format!("looking for the search index of \"{table}\"");
    let mut stmt = conn
        .prepare("SELECT sql FROM main.sqlite_schema WHERE name = ?1 AND type = ?2")
        .map_err(|e| sql_error(&context, e))?;
    for (name, kind, sql) in objects(table, fields, rowid) {
        let stored: Option<Option<String>> = stmt
            .query_row((&name, kind), |row| row.get(0))
            .optional()
            .map_err(|e| sql_error(&context, e))?;
        if stored.flatten().as_deref() != Some(sql.as_str()) {
            return Ok(None);
        }
    }
    Ok(Some(SearchIndex {
        quoted: quote(&index_name(table)),
    }))
}

/// The script that (re)creates the index of `table` and fills it from the
/// rows already there: any object of a stale index dropped first.
pub(crate) fn create_script(table: &str, fields: &[&str], rowid: &str) -> String {
    let objects = objects(table, fields, rowid);
    let mut script = String::new();
    for (name, kind, _) in objects.iter().rev() {
        let kind = if *kind == "trigger" {
            "TRIGGER"
        } else {
            "TABLE"
        };
        script.push_str(&format!("DROP {kind} IF EXISTS {};\n", quote(name)));
    }
    for (_, _, sql) in &objects {
        script.push_str(sql);
        script.push_str(";\n");
    }
    let index = quote(&index_name(table));
    script.push_str(&format!(
        "INSERT INTO {index} ({index}) VALUES ('rebuild');\n"
    ));
    script
}

/// The FTS5 query matching `needle` as one phrase: its trigrams in order,
/// that is the needle as a substring (after case folding).
pub(crate) fn phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_names_every_field_and_the_rowid() {
        let objects = objects("t", &["a", "b\"c"], "rowid");
        assert_eq!(objects.len(), 4);
        assert_eq!(
            objects[0].2,
            "CREATE VIRTUAL TABLE \"t_search\" USING fts5(\"a\", \"b\"\"c\", content='t', \
             content_rowid='rowid', tokenize='trigram case_sensitive 0')"
        );
        assert!(
            objects[1]
                .2
                .contains("VALUES (new.rowid, new.\"a\", new.\"b\"\"c\")")
        );
        assert!(objects[3].2.contains("'delete', old.rowid"));
        assert_eq!(phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn an_index_is_found_only_when_intact() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b REAL);")
            .unwrap();
        assert_eq!(find(&conn, "t", &["a", "b"], "rowid").unwrap(), None);
        conn.execute_batch(&create_script("t", &["a", "b"], "rowid"))
            .unwrap();
        assert!(find(&conn, "t", &["a", "b"], "rowid").unwrap().is_some());
        // A column added since is not indexed: the index is stale.
        assert_eq!(find(&conn, "t", &["a", "b", "c"], "rowid").unwrap(), None);
        conn.execute_batch("DROP TRIGGER \"t_search_update\";")
            .unwrap();
        assert_eq!(find(&conn, "t", &["a", "b"], "rowid").unwrap(), None);
        // Recreated over the stale one.
        conn.execute_batch(&create_script("t", &["a", "b"], "rowid"))
            .unwrap();
        assert!(find(&conn, "t", &["a", "b"], "rowid").unwrap().is_some());
    }
}

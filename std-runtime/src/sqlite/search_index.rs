//! The search index: an FTS5 table with the trigram tokenizer over the
//! text of every field, kept in step with the table by three triggers,
//! which narrows a search to the rows holding the needle's trigrams.
//!
//! For table `t` with fields `a`, `b` it is four objects and triggers:
//!
//! - the view `"t_search_source"`: each row's rowid and its *text* cells
//!   (numbers and blobs as NULL: local evaluation never matches a blob,
//!   and matches numbers as Rust writes them, which SQLite's text of a
//!   real is not, so needles that could be a number scan instead);
//! - `"t_search"`, `fts5("a", "b", content='t_search_source', …,
//!   tokenize='trigram case_sensitive 0')`: an external-content table
//!   (it stores the trigrams, not a copy of the rows); trigrams make
//!   substring search an index lookup, `case_sensitive 0` folds case;
//! - `"t_search_odd"`: the rowids of rows whose text holds a character
//!   FTS5 folds otherwise than local evaluation ([`fold::ODD`]) or NUL
//!   (which the tokenizer drops): the rows on which the index may find a
//!   match local evaluation does not, rechecked with the local matcher;
//! - `"t_search_changes"`: one counter, moved by every change to the
//!   indexed text, so the matches of a search can be kept while only
//!   other fields change (a price);
//! - `"t_search_insert"`, `"t_search_delete"`, `"t_search_update"`: the
//!   triggers that index each row as written, whoever writes it (this
//!   vista, another program, the `sqlite3` shell); an update that changes
//!   no text leaves the index alone.
//!
//! How a search uses it is [`fold::index_use`]'s decision: not at all
//! (scan), every found row checked, or only the odd ones; either way the
//! result is exactly local evaluation's.
//!
//! The index is recognised by the exact definition of each object: a
//! table whose columns changed since (an `ALTER TABLE ... ADD COLUMN`) has
//! a stale one, which the vista ignores and `create_search_index`
//! replaces.

use diorama_core::Result;
use rusqlite::{Connection, OptionalExtension};

use super::error::sql_error;
use super::fold;
use super::schema::{quote, replace_script};

/// A search index the vista may use: its FTS5 table, its table of odd
/// rows and its change counter, quoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SearchIndex {
    pub(crate) quoted: String,
    pub(crate) odd: String,
    pub(crate) changes: String,
}

impl SearchIndex {
    fn of(table: &str) -> SearchIndex {
        let index = index_name(table);
        SearchIndex {
            quoted: quote(&index),
            odd: quote(&format!("{index}_odd")),
            changes: quote(&format!("{index}_changes")),
        }
    }
}

/// The FTS5 table's name for `table`.
pub(crate) fn index_name(table: &str) -> String {
    format!("{table}_search")
}

/// The view column holding the rowid (no field may have this name).
pub(crate) const ROWID_COLUMN: &str = "diorama_search_rowid";

/// `InvalidInput` when a field of `table` has the name the index's view
/// gives the rowid.
pub(crate) fn check_fields(table: &str, fields: &[&str]) -> Result<()> {
    if fields.iter().any(|f| f.eq_ignore_ascii_case(ROWID_COLUMN)) {
        return Err(diorama_core::Error::invalid_input(format!(
            "table \"{table}\": a field named \"{ROWID_COLUMN}\" leaves no name for the search index's rowid"
        )));
    }
    Ok(())
}

/// `text` as an SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The indexed value of field `column` of `row` (`new.`, `old.` or
/// nothing): its text, or NULL.
fn indexed(row: &str, column: &str) -> String {
    let c = format!("{row}{}", quote(column));
    format!("CASE WHEN typeof({c}) = 'text' THEN {c} END")
}

/// True for a row (`new.`, `old.` or nothing) whose text holds an odd
/// character or NUL.
fn odd_row(row: &str, fields: &[&str]) -> String {
    let class: String = fold::ODD.iter().collect();
    let cells: Vec<String> = fields
        .iter()
        .map(|f| {
            let c = format!("{row}{}", quote(f));
            format!(
                "(typeof({c}) = 'text' AND ({c} GLOB '*[{class}]*' OR instr(CAST({c} AS BLOB), x'00') > 0))"
            )
        })
        .collect();
    if cells.is_empty() {
        "0".into()
    } else {
        cells.join(" OR ")
    }
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
    let source = format!("{index}_source");
    let odd = format!("{index}_odd");
    let changes = format!("{index}_changes");
    let (q_index, q_table, q_odd) = (quote(&index), quote(table), quote(&odd));
    let q_changes = quote(&changes);
    let columns = fields
        .iter()
        .map(|f| quote(f))
        .collect::<Vec<_>>()
        .join(", ");
    let values = |row: &str| {
        fields
            .iter()
            .map(|f| indexed(row, f))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let view_columns: String = fields
        .iter()
        .map(|f| format!(", {} AS {}", indexed("", f), quote(f)))
        .collect();
    let view = format!(
        "CREATE VIEW {} AS SELECT {rowid} AS {}{view_columns} FROM {q_table}",
        quote(&source),
        quote(ROWID_COLUMN)
    );
    let fts = format!(
        "CREATE VIRTUAL TABLE {q_index} USING fts5({columns}, content={}, content_rowid={}, \
         tokenize='trigram case_sensitive 0')",
        literal(&source),
        literal(ROWID_COLUMN)
    );
    let odd_table = format!("CREATE TABLE {q_odd} (\"row\" INTEGER PRIMARY KEY)");
    let changes_table = format!("CREATE TABLE {q_changes} (\"n\" INTEGER NOT NULL)");
    // (An empty counter table reads as 0; the first change makes its row.)
    // Written so that a missing row (a table emptied by hand) comes back.
    let bump = format!(
        "INSERT OR REPLACE INTO {q_changes} (rowid, \"n\") VALUES \
         (1, coalesce((SELECT \"n\" FROM {q_changes} WHERE rowid = 1), 0) + 1);"
    );
    // An update that changes no indexed text (a price) leaves the index,
    // and the matches of every search, as they were.
    let mut changed = vec![format!("old.{rowid} IS NOT new.{rowid}")];
    changed.extend(
        fields
            .iter()
            .map(|f| format!("{} IS NOT {}", indexed("old.", f), indexed("new.", f))),
    );
    let changed = changed.join(" OR ");
    let insert = format!(
        "INSERT INTO {q_index} (rowid, {columns}) VALUES (new.{rowid}, {}); \
         INSERT INTO {q_odd} (\"row\") SELECT new.{rowid} WHERE {};",
        values("new."),
        odd_row("new.", fields)
    );
    let delete = format!(
        "INSERT INTO {q_index} ({q_index}, rowid, {columns}) VALUES ('delete', old.{rowid}, {}); \
         DELETE FROM {q_odd} WHERE \"row\" = old.{rowid};",
        values("old.")
    );
    let trigger = |event: &str, when: &str, body: &str| {
        let name = format!("{index}_{}", event.to_ascii_lowercase());
        let sql = format!(
            "CREATE TRIGGER {} AFTER {event} ON {q_table}{when} BEGIN {body} {bump} END",
            quote(&name)
        );
        (name, "trigger", sql)
    };
    vec![
        (source, "view", view),
        (index.clone(), "table", fts),
        (odd, "table", odd_table),
        (changes, "table", changes_table),
        trigger("INSERT", "", &insert),
        trigger("DELETE", "", &delete),
        trigger(
            "UPDATE",
            &format!(" WHEN {changed}"),
            &format!("{delete} {insert}"),
        ),
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
    Ok(Some(SearchIndex::of(table)))
}

/// The script that (re)creates the index of `table` and fills it from the
/// rows already there: any object of a stale index dropped first.
pub(crate) fn create_script(table: &str, fields: &[&str], rowid: &str) -> String {
    let mut script = replace_script(&objects(table, fields, rowid));
    let index = index_name(table);
    let q_index = quote(&index);
    script.push_str(&format!(
        "INSERT INTO {q_index} ({q_index}) VALUES ('rebuild');\n"
    ));
    script.push_str(&format!(
        "INSERT INTO {} (\"row\") SELECT {rowid} FROM {} WHERE {};\n",
        quote(&format!("{index}_odd")),
        quote(table),
        odd_row("", fields)
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
        assert_eq!(objects.len(), 7);
        assert_eq!(
            objects[1].2,
            "CREATE VIRTUAL TABLE \"t_search\" USING fts5(\"a\", \"b\"\"c\", \
             content='t_search_source', content_rowid='diorama_search_rowid', \
             tokenize='trigram case_sensitive 0')"
        );
        assert!(
            objects[0]
                .2
                .contains("SELECT rowid AS \"diorama_search_rowid\"")
        );
        assert!(
            objects[4]
                .2
                .contains("VALUES (new.rowid, CASE WHEN typeof(new.\"a\") = 'text'")
        );
        assert!(objects[5].2.contains("'delete', old.rowid"));
        assert!(
            objects[6]
                .2
                .contains(" WHEN old.rowid IS NOT new.rowid OR ")
        );
        assert_eq!(phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn odd_rows_are_listed() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b);")
            .unwrap();
        conn.execute(
            "INSERT INTO t VALUES ('plain', 'lamp', 1.5), ('sigma', 'σοφος', NULL), \
             ('nul', ?1, NULL), ('blob', 'x', x'00ff')",
            ["a\0b"],
        )
        .unwrap();
        conn.execute_batch(&create_script("t", &["a", "b"], "rowid"))
            .unwrap();
        conn.execute_batch("INSERT INTO t VALUES ('long s', 'ſ', NULL);")
            .unwrap();
        conn.execute_batch("UPDATE t SET a = 'plain' WHERE id = 'sigma';")
            .unwrap();
        let odd: Vec<String> = conn
            .prepare(
                "SELECT id FROM t WHERE rowid IN (SELECT \"row\" FROM t_search_odd) ORDER BY id",
            )
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(odd, ["long s", "nul"]);
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

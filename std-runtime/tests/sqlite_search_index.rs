//! The search index (FTS5, trigrams): used when present and intact, kept
//! in step with every write (this vista's and other programs'), built for
//! an existing table, replaced when stale, and never changing an answer:
//! where FTS5 folds case differently from local evaluation the vista
//! falls back to a scan or filters the index's extra rows.
#![cfg(feature = "sqlite")]

use std::path::Path;

use diorama_core::value::Value;
use diorama_core::vista::{Id, MemoryVista, Query, Sort, TableShell};
use diorama_core::{ErrorKind, Record, record};
use diorama_std::sqlite::rusqlite::Connection;
use diorama_std::sqlite::{ColumnType, IdType, SqliteVista, TableSpec};
use smol::block_on;

fn spec() -> TableSpec {
    TableSpec::new("items", "id", IdType::Text)
        .column("name", ColumnType::Text)
        .column("price", ColumnType::Real)
}

fn names(rows: &[(Id, Record)]) -> Vec<String> {
    rows.iter()
        .map(|(_, r)| {
            r.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

fn search(vista: &SqliteVista, needle: &str) -> Vec<String> {
    names(&block_on(vista.list(&Query::new().with_search(needle))).unwrap())
}

fn uses_index(vista: &SqliteVista, needle: &str) -> bool {
    let plan = block_on(vista.explain_count(&Query::new().with_search(needle))).unwrap();
    plan.iter().any(|line| line.contains("items_search"))
}

fn load(vista: &SqliteVista, names: &[&str]) {
    let rows = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                Some(format!("r{i}")),
                record! { "name" => *name, "price" => i as f64 + 0.5 },
            )
        })
        .collect();
    block_on(vista.insert_many(rows)).unwrap();
}

#[test]
fn searches_of_three_characters_or_more_use_the_index() {
    let vista = SqliteVista::open_in_memory(&spec().search_index()).unwrap();
    assert!(vista.has_search_index());
    load(&vista, &["Oak Lamp", "Pine Desk", "LAMPSHADE", "lam"]);
    assert!(uses_index(&vista, "lamp"));
    assert_eq!(search(&vista, "lamp"), ["Oak Lamp", "LAMPSHADE"]);
    // Too short for trigrams, or possibly a number's text: a scan, with
    // the same meaning.
    assert!(!uses_index(&vista, "la"));
    assert_eq!(search(&vista, "la"), ["Oak Lamp", "LAMPSHADE", "lam"]);
    assert!(!uses_index(&vista, "2.5"));
    assert_eq!(search(&vista, "2.5"), ["LAMPSHADE"]);
    // A sorted window of a search walks the index too.
    let query = Query::new()
        .with_search("lamp")
        .with_sort(Sort::desc("price"));
    let page = block_on(vista.fetch_window(&query, 0, 1)).unwrap();
    assert_eq!(names(&page.rows), ["LAMPSHADE"]);
    assert_eq!(page.total, Some(2));
}

#[test]
fn every_write_is_indexed_whoever_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.sqlite");
    let vista = SqliteVista::create_table(&path, &spec().search_index()).unwrap();
    load(&vista, &["Oak Lamp", "Pine Desk"]);
    block_on(async {
        vista
            .patch("r0", record! { "name" => "Oak Table" })
            .await
            .unwrap();
        vista
            .insert(Some("r9".into()), record! { "name" => "Tall Lamp" })
            .await
            .unwrap();
        vista.delete("r1").await.unwrap();
    });
    assert_eq!(search(&vista, "lamp"), ["Tall Lamp"]);
    assert_eq!(search(&vista, "table"), ["Oak Table"]);
    assert!(search(&vista, "desk").is_empty());
    // Another program's writes go through the triggers too.
    Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE items SET name = 'Desk Lamp' WHERE id = 'r0';")
        .unwrap();
    assert_eq!(search(&vista, "lamp"), ["Desk Lamp", "Tall Lamp"]);
}

/// A table the earlier code created: no search index, single-column
/// indexes of its own.
fn old_database(path: &Path) {
    Connection::open(path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, name TEXT, price REAL);
             CREATE INDEX items_price_idx ON items (price);
             INSERT INTO items VALUES ('a', 'Oak Lamp', 1.5), ('b', 'Pine Desk', 2.5);",
        )
        .unwrap();
}

#[test]
fn an_existing_table_gets_its_index_built_and_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    old_database(&path);
    let vista = SqliteVista::open(&path, "items", "id").unwrap();
    assert!(!vista.has_search_index());
    assert!(!uses_index(&vista, "lamp"));
    assert_eq!(search(&vista, "lamp"), ["Oak Lamp"]);
    block_on(vista.create_search_index()).unwrap();
    assert!(vista.has_search_index());
    assert!(uses_index(&vista, "lamp"));
    assert_eq!(
        search(&vista, "lamp"),
        ["Oak Lamp"],
        "the rows already there"
    );
    drop(vista);
    let reopened = SqliteVista::open(&path, "items", "id").unwrap();
    assert!(reopened.has_search_index());
    assert_eq!(search(&reopened, "desk"), ["Pine Desk"]);
}

#[test]
fn a_stale_index_is_ignored_then_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.sqlite");
    let vista = SqliteVista::create_table(&path, &spec().search_index()).unwrap();
    load(&vista, &["Oak Lamp"]);
    drop(vista);
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "ALTER TABLE items ADD COLUMN note TEXT;
             UPDATE items SET note = 'bright lamp';
             INSERT INTO items (id, name, note) VALUES ('n', 'Chair', 'lamp-free');",
        )
        .unwrap();
    let vista = SqliteVista::open(&path, "items", "id").unwrap();
    // The new column is not in the index: using it would miss rows.
    assert!(!vista.has_search_index());
    assert_eq!(search(&vista, "lamp"), ["Oak Lamp", "Chair"]);
    block_on(vista.create_search_index()).unwrap();
    assert!(uses_index(&vista, "lamp"));
    assert_eq!(search(&vista, "lamp"), ["Oak Lamp", "Chair"]);
    assert_eq!(search(&vista, "free"), ["Chair"]);
}

#[test]
fn where_fts5_folds_otherwise_the_answer_is_still_local_evaluations() {
    let vista = SqliteVista::open_in_memory(&spec().search_index()).unwrap();
    let texts = [
        "ქართული", // Georgian Mkhedruli
        "ᲥᲐᲠᲗᲣᲚᲘ", // the same word in Mtavruli
        "ΣΟΦΟΣ",
        "σοφος",   // final sigma
        "ſtraſse", // long s
        "Straße",
        "ÉMILE",
    ];
    load(&vista, &texts);
    let rows = block_on(vista.list(&Query::new())).unwrap();
    let memory = MemoryVista::new("items").with_rows(rows);
    for needle in [
        "ᲥᲐᲠ",
        "ქართ",
        "σοφοσ",
        "ΣΟΦ",
        "ſtra",
        "stra",
        "émi",
        "ÉMI",
        "traſ",
    ] {
        let query = Query::new().with_search(needle);
        let expected = names(&block_on(memory.list(&query)).unwrap());
        assert_eq!(search(&vista, needle), expected, "{needle}");
    }
    // Local evaluation lowers Mtavruli to Mkhedruli; FTS5 does not, so the
    // index alone would miss the match, and the vista scans instead.
    assert_eq!(search(&vista, "ᲥᲐᲠ"), ["ქართული", "ᲥᲐᲠᲗᲣᲚᲘ"]);
    assert!(!uses_index(&vista, "ᲥᲐᲠ"));
    // FTS5 folds final sigma and long s, local evaluation does not: the
    // index finds more, the local matcher keeps only true matches.
    assert!(uses_index(&vista, "σοφοσ"));
    assert_eq!(search(&vista, "σοφοσ"), ["ΣΟΦΟΣ"], "ς is not σ locally");
    assert_eq!(search(&vista, "ΣΟΦ"), ["ΣΟΦΟΣ", "σοφος"]);
    assert_eq!(search(&vista, "ſtra"), ["ſtraſse"]);
    assert_eq!(search(&vista, "émi"), ["ÉMILE"]);
}

#[test]
fn the_index_needs_a_writer_and_a_rowid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    old_database(&path);
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE plain (id TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;")
        .unwrap();
    let read_only = SqliteVista::open_read_only(&path, "items", "id").unwrap();
    let error = block_on(read_only.create_search_index()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    let plain = SqliteVista::open(&path, "plain", "id").unwrap();
    let error = block_on(plain.create_search_index()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
}

#[test]
fn kept_matches_follow_changes_to_the_text_only() {
    use diorama_std::sqlite::SqliteOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.sqlite");
    drop(SqliteVista::create_table(&path, &spec().search_index()).unwrap());
    // One read connection: every search below meets the matches it kept.
    let options = SqliteOptions::default().readers(1);
    let vista = SqliteVista::open_with(&path, "items", "id", &options).unwrap();
    load(&vista, &["Oak Lamp", "Pine Desk", "Tall Lamp"]);
    let query = Query::new().with_search("lamp");
    let total = |vista: &SqliteVista| block_on(vista.fetch_window(&query, 0, 10)).unwrap().total;
    assert_eq!(total(&vista), Some(2));
    block_on(vista.patch("r0", record! { "price" => 99.0 })).unwrap();
    let sorted = Query::new()
        .with_search("lamp")
        .with_sort(Sort::desc("price"));
    let page = block_on(vista.fetch_window(&sorted, 0, 1)).unwrap();
    assert_eq!(
        names(&page.rows),
        ["Oak Lamp"],
        "a new price, the same matches"
    );
    block_on(vista.patch("r1", record! { "name" => "Desk Lamp" })).unwrap();
    assert_eq!(total(&vista), Some(3));
    block_on(vista.delete("r2")).unwrap();
    assert_eq!(total(&vista), Some(2));
    assert_eq!(search(&vista, "lamp"), ["Oak Lamp", "Desk Lamp"]);
}

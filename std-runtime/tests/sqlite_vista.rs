//! SqliteVista against real SQLite files: CRUD, conversions, errors,
//! capabilities, what a `Vista` pushes, bulk loads and reopening.
#![cfg(feature = "sqlite")]

use std::path::{Path, PathBuf};

use diorama_core::value::{Record, Value};
use diorama_core::vista::{
    Clause, CmpOp, Condition, Id, Page, Query, Sort, TableShell, Vista, VistaCapabilities,
};
use diorama_core::{ErrorKind, record};
use diorama_std::sqlite::rusqlite::Connection;
use diorama_std::sqlite::{ColumnType, IdType, SqliteVista, TableSpec};
use smol::block_on;

fn products() -> TableSpec {
    TableSpec::new("products", "id", IdType::Integer)
        .column("name", ColumnType::Text)
        .column("price", ColumnType::Real)
        .column("stock", ColumnType::Integer)
        .index("price")
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.sqlite");
    (dir, path)
}

/// Run `sql` on the file with a separate connection.
fn exec(path: &Path, sql: &str) {
    Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

fn ids(rows: &[(Id, Record)]) -> Vec<&str> {
    rows.iter().map(|(id, _)| id.as_str()).collect()
}

fn kind<T: std::fmt::Debug>(result: diorama_core::Result<T>) -> ErrorKind {
    result.expect_err("an error").kind()
}

#[test]
fn crud_on_an_integer_primary_key() {
    let (_dir, path) = temp_db();
    let vista = SqliteVista::create_table(&path, &products()).unwrap();
    block_on(async {
        let lamp = vista
            .insert(
                None,
                record! { "name" => "Lamp", "price" => 19.5, "stock" => 3 },
            )
            .await
            .unwrap();
        assert_eq!(lamp, "1", "SQLite assigns the next rowid");
        let desk = vista
            .insert(
                Some("10".into()),
                record! { "name" => "Desk", "price" => 120 },
            )
            .await
            .unwrap();
        assert_eq!(desk, "10");
        let next = vista
            .insert(None, record! { "name" => "Chair" })
            .await
            .unwrap();
        assert_eq!(next, "11");

        assert_eq!(
            vista.get("1").await.unwrap(),
            Some(record! { "name" => "Lamp", "price" => 19.5, "stock" => 3 })
        );
        // Every field is present; the REAL column reads an integer back as a real.
        assert_eq!(
            vista.get("10").await.unwrap(),
            Some(record! { "name" => "Desk", "price" => 120.0, "stock" => Value::Null })
        );
        assert_eq!(vista.get("2").await.unwrap(), None);

        vista
            .patch("1", record! { "price" => 17.25 })
            .await
            .unwrap();
        assert_eq!(
            vista.get("1").await.unwrap(),
            Some(record! { "name" => "Lamp", "price" => 17.25, "stock" => 3 })
        );
        vista
            .replace("1", record! { "name" => "Lamp XL" })
            .await
            .unwrap();
        assert_eq!(
            vista.get("1").await.unwrap(),
            Some(record! { "name" => "Lamp XL", "price" => Value::Null, "stock" => Value::Null }),
            "replace sets the missing fields to NULL"
        );
        assert_eq!(
            ids(&vista.list(&Query::new()).await.unwrap()),
            ["1", "10", "11"],
            "replace keeps the row's place"
        );

        assert_eq!(
            kind(vista.insert(Some("10".into()), record! {}).await),
            ErrorKind::Failed
        );
        assert_eq!(
            kind(vista.patch("2", record! { "stock" => 1 }).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(vista.patch("2", record! {}).await),
            ErrorKind::NotFound
        );
        vista.patch("10", record! {}).await.unwrap();
        assert_eq!(
            kind(vista.replace("2", record! {}).await),
            ErrorKind::NotFound
        );

        vista.delete("10").await.unwrap();
        vista.delete("10").await.unwrap();
        assert_eq!(vista.get("10").await.unwrap(), None);
        assert_eq!(vista.count(&Query::new()).await.unwrap(), 2);
        vista.delete_all().await.unwrap();
        assert_eq!(vista.count(&Query::new()).await.unwrap(), 0);
    });
}

#[test]
fn crud_on_text_ids() {
    let spec = TableSpec::new("people", "key", IdType::Text).column("name", ColumnType::Any);
    let vista = SqliteVista::open_in_memory(&spec).unwrap();
    block_on(async {
        vista
            .insert(Some("b".into()), record! { "name" => "Bo" })
            .await
            .unwrap();
        vista
            .insert(Some("a".into()), record! { "name" => "Al" })
            .await
            .unwrap();
        vista
            .insert(Some("042".into()), record! { "name" => 42 })
            .await
            .unwrap();
        assert_eq!(
            ids(&vista.list(&Query::new()).await.unwrap()),
            ["b", "a", "042"],
            "rowid order: insertion order"
        );
        assert_eq!(
            vista.get("042").await.unwrap(),
            Some(record! { "name" => 42 })
        );
        assert_eq!(
            vista.get("42").await.unwrap(),
            None,
            "text ids match exactly"
        );
        assert_eq!(
            kind(vista.insert(None, record! { "name" => "Nobody" }).await),
            ErrorKind::InvalidInput,
            "a text id column gets no id from SQLite"
        );
        assert_eq!(
            vista.count(&Query::new()).await.unwrap(),
            3,
            "the failed insert left nothing"
        );
        vista.delete("a").await.unwrap();
        assert_eq!(ids(&vista.list(&Query::new()).await.unwrap()), ["b", "042"]);
    });
}

#[test]
fn values_convert_both_ways() {
    let spec = TableSpec::new("v", "id", IdType::Integer)
        .column("any", ColumnType::Any)
        .column("blob", ColumnType::Blob);
    let vista = SqliteVista::open_in_memory(&spec).unwrap();
    block_on(async {
        let cases: Vec<(Value, Value)> = vec![
            (Value::Null, Value::Null),
            (Value::Undefined, Value::Null),
            (true.into(), 1.into()),
            (false.into(), 0.into()),
            (i64::MIN.into(), i64::MIN.into()),
            (i64::MAX.into(), i64::MAX.into()),
            (2.5.into(), 2.5.into()),
            (f64::INFINITY.into(), f64::INFINITY.into()),
            ("héllo".into(), "héllo".into()),
            (Value::Bytes(vec![0, 255, 7]), Value::Bytes(vec![0, 255, 7])),
        ];
        for (written, read) in cases {
            let id = vista
                .insert(
                    None,
                    record! { "any" => written.clone(), "blob" => written.clone() },
                )
                .await
                .unwrap();
            let record = vista.get(&id).await.unwrap().unwrap();
            assert_eq!(
                record.get("any"),
                Some(&read),
                "{written:?} in an untyped column"
            );
            assert_eq!(
                record.get("blob"),
                Some(&read),
                "{written:?} in a BLOB column"
            );
        }
        let refused: Vec<Value> = vec![
            Value::Array(vec![1.into()]),
            Value::Map(vec![("a".into(), 1.into())]),
            Value::Tag(1, Box::new(0.into())),
            Value::Simple(40),
            f64::NAN.into(),
            Value::from(u64::MAX),
        ];
        for value in refused {
            let err = vista
                .insert(None, record! { "any" => value.clone() })
                .await
                .expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{value:?}");
            assert!(err.message().contains("\"any\""), "{}", err.message());
        }
        assert_eq!(vista.count(&Query::new()).await.unwrap(), 10);
    });
}

#[test]
fn open_errors_are_clear() {
    let (_dir, path) = temp_db();
    assert_eq!(
        kind(SqliteVista::open(&path, "products", "id")),
        ErrorKind::NotFound
    );
    assert!(!path.exists(), "open does not create a file");

    SqliteVista::create_table(&path, &products()).unwrap();
    let err = SqliteVista::open(&path, "nope", "id").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("\"nope\""), "{}", err.message());

    let err = SqliteVista::open(&path, "products", "sku").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().contains("sku") && err.message().contains("name"),
        "{}",
        err.message()
    );

    exec(
        &path,
        "CREATE TABLE loose (code TEXT, n INTEGER);
         CREATE TABLE real_ids (id REAL PRIMARY KEY, n INTEGER);
         CREATE TABLE uniq (code TEXT NOT NULL, n INTEGER);
         CREATE UNIQUE INDEX uniq_code ON uniq (code);",
    );
    assert_eq!(
        kind(SqliteVista::open(&path, "loose", "code")),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(SqliteVista::open(&path, "real_ids", "id")),
        ErrorKind::InvalidInput
    );
    let uniq = SqliteVista::open(&path, "uniq", "code").unwrap();
    assert_eq!(uniq.fields().collect::<Vec<_>>(), ["n"]);

    assert_eq!(
        kind(SqliteVista::create_table(&path, &products())),
        ErrorKind::Failed,
        "the table exists"
    );
    let twice = TableSpec::new("t", "id", IdType::Integer)
        .column("a", ColumnType::Any)
        .column("A", ColumnType::Any);
    assert_eq!(
        kind(SqliteVista::create_table(&path, &twice)),
        ErrorKind::InvalidInput
    );

    let junk = path.with_file_name("junk.sqlite");
    std::fs::write(
        &junk,
        b"this is not a database, just some text that is long enough",
    )
    .unwrap();
    assert_eq!(
        kind(SqliteVista::open(&junk, "products", "id")),
        ErrorKind::Corrupt
    );
}

#[test]
fn unknown_columns_and_bad_ids_are_invalid_input() {
    let vista = SqliteVista::open_in_memory(&products()).unwrap();
    block_on(async {
        vista
            .insert(None, record! { "name" => "Lamp" })
            .await
            .unwrap();
        let queries = [
            Query::new().with_condition(Condition::eq("colour", "red")),
            Query::new().with_condition(Condition::eq("Name", "Lamp")),
            Query::new().with_condition(Condition::gt("id", 0)),
            Query::new().with_sort(Sort::asc("colour")),
        ];
        for query in &queries {
            let err = vista.list(query).await.expect_err("unknown column");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{query:?}");
            assert_eq!(kind(vista.count(query).await), ErrorKind::InvalidInput);
            assert_eq!(
                kind(vista.fetch_window(query, 0, 10).await),
                ErrorKind::InvalidInput
            );
        }
        let err = vista.list(&queries[0]).await.unwrap_err();
        assert!(err.message().contains("\"colour\"") && err.message().contains("price"));

        for bad in ["x", "042", "+1", "1.0", ""] {
            assert_eq!(
                kind(vista.get(bad).await),
                ErrorKind::InvalidInput,
                "get {bad:?}"
            );
            assert_eq!(kind(vista.delete(bad).await), ErrorKind::InvalidInput);
            assert_eq!(
                kind(vista.patch(bad, record! {}).await),
                ErrorKind::InvalidInput
            );
            assert_eq!(
                kind(vista.replace(bad, record! {}).await),
                ErrorKind::InvalidInput
            );
            assert_eq!(
                kind(vista.insert(Some(bad.into()), record! {}).await),
                ErrorKind::InvalidInput
            );
        }
        assert_eq!(
            kind(vista.patch("1", record! { "colour" => "red" }).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(vista.insert(None, record! { "id" => 5 }).await),
            ErrorKind::InvalidInput,
            "the id column is not a field"
        );
        assert_eq!(vista.count(&Query::new()).await.unwrap(), 1);
    });
}

#[test]
fn capabilities_say_what_it_does() {
    let (_dir, path) = temp_db();
    let vista = SqliteVista::create_table(&path, &products()).unwrap();
    assert_eq!(
        vista.capabilities(),
        VistaCapabilities {
            can_subscribe: false,
            ..VistaCapabilities::ALL
        }
    );
    assert_eq!(vista.name(), "products");
    assert_eq!(vista.id_column(), "id");
    assert_eq!(
        vista.fields().collect::<Vec<_>>(),
        ["name", "price", "stock"]
    );
    block_on(vista.insert(None, record! { "name" => "Lamp" })).unwrap();
    drop(vista);

    let read_only = SqliteVista::open_read_only(&path, "products", "id").unwrap();
    let caps = read_only.capabilities();
    assert!(!caps.can_insert && !caps.can_update && !caps.can_delete);
    assert!(caps.can_order && caps.can_search && caps.can_count && caps.can_fetch_page);
    block_on(async {
        assert_eq!(
            kind(read_only.insert(None, record! {}).await),
            ErrorKind::Unsupported
        );
        assert_eq!(
            kind(read_only.patch("1", record! {}).await),
            ErrorKind::Unsupported
        );
        assert_eq!(kind(read_only.delete_all().await), ErrorKind::Unsupported);
        assert_eq!(read_only.count(&Query::new()).await.unwrap(), 1);
    });

    exec(
        &path,
        "CREATE VIEW cheap AS SELECT id, name FROM products WHERE price IS NULL;",
    );
    let view = SqliteVista::open(&path, "cheap", "id").unwrap();
    assert!(!view.capabilities().can_insert);
    let rows = block_on(view.list(&Query::new())).unwrap();
    assert_eq!(rows, vec![("1".to_string(), record! { "name" => "Lamp" })]);
    assert_eq!(kind(block_on(view.delete("1"))), ErrorKind::Unsupported);
}

#[test]
fn a_vista_pushes_what_the_shell_accepts() {
    let vista = SqliteVista::open_in_memory(&products()).unwrap();
    block_on(async {
        vista
            .insert_many(
                (0..20)
                    .map(|i| {
                        (
                            None,
                            record! { "name" => format!("Item {i}"), "stock" => i },
                        )
                    })
                    .collect(),
            )
            .await
            .unwrap();
    });
    let pushed = Condition::gte("stock", 15);
    let huge = Condition::lt("stock", Value::from(u64::MAX));
    let long_in = Condition::is_in("stock", 0..2000);
    assert!(vista.accepts(Clause::Condition(&pushed)));
    assert!(vista.accepts(Clause::Condition(&Condition::like("name", "%1_"))));
    assert!(vista.accepts(Clause::Condition(&Condition::eq("name", true))));
    assert!(!vista.accepts(Clause::Condition(&huge)));
    assert!(!vista.accepts(Clause::Condition(&long_in)));
    assert!(vista.accepts(Clause::Sort(&Sort::desc("stock"))));
    assert!(vista.accepts(Clause::Search("item")));

    let handle = Vista::new(vista.clone())
        .with_condition(pushed.clone())
        .with_condition(huge.clone())
        .with_sort("stock", diorama_core::vista::SortDir::Desc);
    assert_eq!(handle.pushed().conditions, vec![pushed]);
    assert_eq!(handle.residual().conditions, vec![huge.clone()]);
    block_on(async {
        let rows = handle.list().await.unwrap();
        assert_eq!(ids(&rows), ["20", "19", "18", "17", "16"]);
        assert_eq!(handle.count().await.unwrap(), 5);
        assert_eq!(
            kind(handle.fetch_window(0, 2).await),
            ErrorKind::Unsupported
        );
        // Given straight to the shell, a refused condition is not ignored.
        let direct = Query::new().with_condition(huge);
        assert_eq!(kind(vista.list(&direct).await), ErrorKind::Unsupported);
        let long = Query::new().with_condition(long_in);
        assert_eq!(kind(vista.count(&long).await), ErrorKind::Unsupported);
    });
}

#[test]
fn windows_page_through_in_query_order_with_totals() {
    let vista = SqliteVista::open_in_memory(&products()).unwrap();
    block_on(async {
        let rows: Vec<(Option<Id>, Record)> = (0..50)
            .map(|i| {
                let price = if i % 7 == 0 {
                    Value::Null
                } else {
                    Value::from((i * 13 % 10) as f64)
                };
                (
                    None,
                    record! { "name" => format!("Item {i}"), "price" => price },
                )
            })
            .collect();
        vista.insert_many(rows).await.unwrap();
        let query = Query::new()
            .with_condition(Condition::ne("price", 3))
            .with_sort(Sort::asc("price"));
        let all = vista.list(&query).await.unwrap();
        assert_eq!(all.len(), 46, "Ne keeps the NULL prices");
        let mut paged = Vec::new();
        for offset in (0..60).step_by(8) {
            let Page { rows, total } = vista.fetch_window(&query, offset, 8).await.unwrap();
            assert_eq!(total, Some(46));
            paged.extend(rows);
        }
        assert_eq!(paged, all);
        // Nulls last, ties by id as text: "1" < "15" < ... < "50" < "8".
        assert_eq!(
            ids(&all[38..]),
            ["1", "15", "22", "29", "36", "43", "50", "8"]
        );
        assert!(
            all[..38]
                .iter()
                .all(|(_, r)| !r.get("price").unwrap().is_null())
        );
        assert_eq!(
            vista.fetch_window(&query, 46, 10).await.unwrap().rows,
            vec![]
        );
        assert_eq!(
            vista.fetch_window(&query, 0, 0).await.unwrap().total,
            Some(46)
        );
    });
}

#[test]
fn totals_follow_writes_from_this_and_other_connections() {
    let (_dir, path) = temp_db();
    let vista = SqliteVista::create_table(&path, &products()).unwrap();
    let query = Query::new().with_search("lamp");
    block_on(async {
        vista
            .insert(None, record! { "name" => "Lamp" })
            .await
            .unwrap();
        assert_eq!(
            vista.fetch_window(&query, 0, 10).await.unwrap().total,
            Some(1)
        );
        vista
            .insert(None, record! { "name" => "Big lamp" })
            .await
            .unwrap();
        assert_eq!(
            vista.fetch_window(&query, 0, 10).await.unwrap().total,
            Some(2)
        );
        exec(&path, "INSERT INTO products (name) VALUES ('LAMPSHADE');");
        assert_eq!(
            vista.fetch_window(&query, 0, 10).await.unwrap().total,
            Some(3)
        );
        assert_eq!(vista.count(&query).await.unwrap(), 3);
    });
}

#[test]
fn insert_many_is_one_transaction_and_survives_reopening() {
    let (_dir, path) = temp_db();
    let vista = SqliteVista::create_table(&path, &products()).unwrap();
    block_on(async {
        let rows: Vec<(Option<Id>, Record)> = (0..10_000)
            .map(|i| {
                (
                    None,
                    record! { "name" => format!("Product {i}"), "price" => i as f64 / 100.0, "stock" => i % 17 },
                )
            })
            .collect();
        assert_eq!(vista.insert_many(rows).await.unwrap(), 10_000);
        // One bad row: nothing of the batch is kept.
        let batch = vec![
            (Some("20000".to_string()), record! { "name" => "fine" }),
            (None, record! { "name" => Value::Array(vec![]) }),
        ];
        assert_eq!(
            kind(vista.insert_many(batch).await),
            ErrorKind::InvalidInput
        );
        let dup = vec![(None, record! {}), (Some("5".to_string()), record! {})];
        assert_eq!(kind(vista.insert_many(dup).await), ErrorKind::Failed);
        assert_eq!(vista.count(&Query::new()).await.unwrap(), 10_000);
    });
    drop(vista);

    let reopened = SqliteVista::open(&path, "products", "id").unwrap();
    block_on(async {
        assert_eq!(reopened.count(&Query::new()).await.unwrap(), 10_000);
        assert_eq!(
            reopened.get("10000").await.unwrap(),
            Some(record! { "name" => "Product 9999", "price" => 99.99, "stock" => 9999 % 17 })
        );
        let query = Query::new()
            .with_condition(Condition::new("stock", CmpOp::Eq, 3))
            .with_sort(Sort::desc("price"));
        let page = reopened.fetch_window(&query, 0, 2).await.unwrap();
        assert_eq!(ids(&page.rows), ["10000", "9983"]);
        assert_eq!(page.total, Some(589));
    });
}

#[test]
fn many_tasks_on_smol_share_one_vista() {
    // Many tasks on smol's multi-threaded global executor share one vista;
    // every call answers and writes apply in the order each task issued them.
    let vista = SqliteVista::open_in_memory(&products()).unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let vista = vista.clone();
            smol::spawn(async move {
                for i in 0..25 {
                    let id = format!("{}", t * 100 + i + 1);
                    vista
                        .insert(Some(id.clone()), record! { "stock" => i })
                        .await
                        .unwrap();
                    vista
                        .patch(&id, record! { "stock" => i + 1 })
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    block_on(async {
        for task in tasks {
            task.await;
        }
        assert_eq!(vista.count(&Query::new()).await.unwrap(), 200);
        let zero = Query::new().with_condition(Condition::eq("stock", 0));
        assert_eq!(vista.count(&zero).await.unwrap(), 0);
        assert_eq!(
            vista.get("725").await.unwrap().unwrap().get("stock"),
            Some(&25.into())
        );
    });
}

#[test]
fn like_and_search_render_values_as_local_evaluation_does() {
    let spec = TableSpec::new("t", "id", IdType::Integer)
        .column("r", ColumnType::Real)
        .column("a", ColumnType::Any);
    let vista = SqliteVista::open_in_memory(&spec).unwrap();
    let rows: Vec<(Option<Id>, Record)> = vec![
        (None, record! { "r" => 7.0, "a" => "Kelvin: \u{212A}" }),
        (None, record! { "r" => 1e20, "a" => true }),
        (None, record! { "r" => 0.1 + 0.2, "a" => "ÉMILE" }),
        (
            None,
            record! { "r" => Value::Null, "a" => Value::Bytes(b"lamp".to_vec()) },
        ),
        (None, record! { "r" => -2.5, "a" => "50% off_now\\" }),
    ];
    block_on(vista.insert_many(rows)).unwrap();
    let found = |query: Query| {
        let rows = block_on(vista.list(&query)).unwrap();
        ids(&rows)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let search = |needle: &str| found(Query::new().with_search(needle));
    let like = |field: &str, pattern: Value| {
        found(Query::new().with_condition(Condition::new(field, CmpOp::Like, pattern)))
    };
    // Whole floats render without ".0", large ones in full, sums exactly.
    assert_eq!(search("7"), ["1"]);
    assert_eq!(search("7.0"), Vec::<String>::new());
    assert_eq!(search("100000000000000000000"), ["2"]);
    assert_eq!(search("0.30000000000000004"), ["3"]);
    assert_eq!(like("r", 7.0.into()), ["1"], "a float operand renders as 7");
    assert_eq!(like("r", 1e20.into()), ["2"]);
    assert_eq!(like("r", "-2.5".into()), ["5"]);
    // Booleans were stored as 1; bytes have no text.
    assert_eq!(like("a", 1.into()), ["2"]);
    assert_eq!(like("a", true.into()), Vec::<String>::new());
    assert_eq!(search("lamp"), Vec::<String>::new());
    // Unicode case folding, one character at a time.
    assert_eq!(search("émile"), ["3"]);
    assert_eq!(like("a", "%émile".into()), ["3"]);
    assert_eq!(search("kelvin: k"), ["1"], "KELVIN SIGN folds to k");
    // LIKE metacharacters, escapes and a trailing backslash.
    assert_eq!(like("a", "50\\% off\\_now\\".into()), ["5"]);
    assert_eq!(like("a", "50_ off%".into()), ["5"]);
    assert_eq!(like("a", "50\\_%".into()), Vec::<String>::new());
    assert_eq!(search("%"), ["5"]);
    assert_eq!(search("_"), ["5"]);
}

#[test]
fn tables_without_rowid_page_in_id_order() {
    let (_dir, path) = temp_db();
    exec(
        &path,
        "CREATE TABLE tags (name TEXT PRIMARY KEY, uses INTEGER) WITHOUT ROWID;
         INSERT INTO tags VALUES ('b', 2), ('a', 1), ('c', NULL), ('B', 2);",
    );
    let vista = SqliteVista::open(&path, "tags", "name").unwrap();
    block_on(async {
        let all = vista.list(&Query::new()).await.unwrap();
        assert_eq!(ids(&all), ["B", "a", "b", "c"], "id order, bytewise");
        let query = Query::new().with_sort(Sort::desc("uses"));
        let page = vista.fetch_window(&query, 1, 2).await.unwrap();
        assert_eq!(ids(&page.rows), ["b", "a"]);
        assert_eq!(page.total, Some(4));
        assert_eq!(
            kind(vista.insert(None, record! { "uses" => 0 }).await),
            ErrorKind::InvalidInput
        );
        vista
            .insert(Some("d".into()), record! { "uses" => 0 })
            .await
            .unwrap();
        assert_eq!(vista.count(&Query::new()).await.unwrap(), 5);
    });
}

#[test]
fn indexes_created_after_a_load_keep_answers_the_same() {
    let spec = TableSpec::new("p", "id", IdType::Integer).column("price", ColumnType::Real);
    let vista = SqliteVista::open_in_memory(&spec).unwrap();
    block_on(async {
        let rows = (0..300)
            .map(|i| (None, record! { "price" => (i * 37 % 100) as f64 / 4.0 }))
            .collect();
        vista.insert_many(rows).await.unwrap();
        let query = Query::new()
            .with_condition(Condition::lt("price", 5))
            .with_sort(Sort::desc("price"));
        let before = vista.list(&query).await.unwrap();
        vista.create_index("price").await.unwrap();
        vista.create_index("price").await.unwrap();
        assert_eq!(vista.list(&query).await.unwrap(), before);
        assert_eq!(before.len(), 60);
        assert_eq!(
            kind(vista.create_index("nope").await),
            ErrorKind::InvalidInput
        );
    });
}

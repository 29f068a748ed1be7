//! The rank tables that come with `create_index` / `TableSpec::index`:
//! windows anywhere in a sorted table, either way, and the table's count,
//! equal local evaluation's through inserts, updates and deletes made by
//! the vista and by another program on the same file, and through a rank
//! table another program damaged (then it is not used).
#![cfg(feature = "sqlite")]

use diorama_core::value::Value;
use diorama_core::vista::{MemoryVista, Query, Sort, SortDir, TableShell};
use diorama_core::{Record, record};
use diorama_std::sqlite::rusqlite::Connection;
use diorama_std::sqlite::{ColumnType, IdType, SqliteVista, TableSpec};
use smol::block_on;

const FIELDS: [&str; 4] = ["price", "name", "stock", "any"];

fn spec(indexed: bool) -> TableSpec {
    let spec = TableSpec::new("items", "id", IdType::Text)
        .column("price", ColumnType::Real)
        .column("name", ColumnType::Text)
        .column("stock", ColumnType::Integer)
        .column("any", ColumnType::Any);
    match indexed {
        true => FIELDS.iter().fold(spec, |spec, field| spec.index(*field)),
        false => spec,
    }
}

/// Row `i`: prices with ties, negatives and nulls; names sharing prefixes
/// and multi-byte characters; an untyped column of every kind.
fn row(i: u64, salt: u64) -> Record {
    let k = i.wrapping_mul(2_654_435_761).wrapping_add(salt) % 1000;
    let price = match k % 9 {
        0 => Value::Null,
        1 => Value::Float(-(k as f64) / 8.0),
        _ => Value::Float((k % 97) as f64 * 1.25),
    };
    let name = match k % 4 {
        0 => format!("oak {k:03}"),
        1 => format!("Oak {}", k % 7),
        2 => format!("σ{k}"),
        _ => String::new(),
    };
    let any = match k % 5 {
        0 => Value::Null,
        1 => Value::from(k as i64 - 500),
        2 => Value::Float(k as f64 * 1e15),
        3 => Value::from(format!("{k}x")),
        _ => Value::from(format!("t{}", k % 13)),
    };
    let stock = if k.is_multiple_of(6) {
        Value::Null
    } else {
        Value::from((k % 11) as i64)
    };
    record! { "price" => price, "name" => name, "stock" => stock, "any" => any }
}

/// Every window that matters (both ends, around the middle, a few
/// straddling the nulls, past the end) of every sort, and the count.
fn check_against_local(vista: &SqliteVista, round: &str) {
    let stored = block_on(vista.list(&Query::new())).unwrap();
    let n = stored.len();
    let memory = MemoryVista::new("items").with_rows(stored);
    assert_eq!(block_on(vista.count(&Query::new())).unwrap(), n, "{round}");
    for field in FIELDS {
        for dir in [SortDir::Asc, SortDir::Desc] {
            let query = Query::new().with_sort(Sort::new(field, dir));
            let from_end = |k: usize| n.saturating_sub(k);
            let mut offsets = vec![
                0,
                1,
                n / 3,
                n / 2,
                n / 2 + 1,
                from_end(n / 5),
                from_end(3),
                from_end(1),
                n,
            ];
            offsets.extend((0..n).step_by(53));
            for offset in offsets {
                let expected = block_on(memory.fetch_window(&query, offset, 7)).unwrap();
                let actual = block_on(vista.fetch_window(&query, offset, 7)).unwrap();
                assert_eq!(actual, expected, "{round}: {field} {dir:?} at {offset}");
            }
        }
    }
}

/// Writes by the vista: inserts, updates of sorted fields, deletes.
fn write_through_the_vista(vista: &SqliteVista, salt: u64) {
    for i in 0..60u64 {
        let id = format!("r{}", (i * 37 + salt) % 700);
        match i % 3 {
            0 => {
                let _ = block_on(vista.delete(&id));
            }
            1 => {
                let _ = block_on(vista.patch(&id, row(i, salt + 1)));
            }
            _ => {
                let _ = block_on(vista.insert(Some(format!("new{salt}-{i}")), row(i, salt)));
            }
        }
    }
}

/// Writes by another program on the same file, in SQL.
fn write_as_another_program(path: &std::path::Path, salt: i64) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "BEGIN;
         UPDATE items SET price = price * -1, name = 'm' || name WHERE rowid % 11 = {salt} % 11;
         UPDATE items SET \"any\" = NULL WHERE rowid % 13 = 1;
         DELETE FROM items WHERE rowid % 17 = {salt} % 17;
         INSERT INTO items (id, price, name, stock, \"any\")
             SELECT 'sql' || {salt} || '-' || value, value * 0.5, 'z' || value, NULL, x'00ff'
             FROM generate_series(1, 40);
         COMMIT;"
    ))
    .or_else(|_| {
        // Without the generate_series extension: the same rows one by one.
        conn.execute_batch("ROLLBACK;")?;
        conn.execute_batch(&format!(
            "UPDATE items SET price = price * -1, name = 'm' || name WHERE rowid % 11 = {salt} % 11;
             DELETE FROM items WHERE rowid % 17 = {salt} % 17;"
        ))?;
        for value in 1..=40 {
            conn.execute(
                "INSERT INTO items (id, price, name, stock, \"any\") VALUES (?1, ?2, ?3, NULL, x'00ff')",
                (format!("sql{salt}-{value}"), value as f64 * 0.5, format!("z{value}")),
            )?;
        }
        Ok::<_, diorama_std::sqlite::rusqlite::Error>(())
    })
    .unwrap();
}

fn rows(n: u64) -> Vec<(Option<String>, Record)> {
    (0..n).map(|i| (Some(format!("r{i}")), row(i, 0))).collect()
}

#[test]
fn indexes_built_after_a_load_give_local_windows_through_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.sqlite");
    let vista = SqliteVista::create_table(&path, &spec(false)).unwrap();
    block_on(vista.insert_many(rows(700))).unwrap();
    for field in FIELDS {
        block_on(vista.create_index(field)).unwrap();
        // Again: nothing to do.
        block_on(vista.create_index(field)).unwrap();
    }
    let conn = Connection::open(&path).unwrap();
    for field in FIELDS {
        let buckets: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM \"items_{field}_ranks\""),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(buckets > 1, "{field}: {buckets} buckets");
    }
    check_against_local(&vista, "after the load");
    for round in 0..3 {
        write_through_the_vista(&vista, round);
        check_against_local(&vista, &format!("vista writes, round {round}"));
        write_as_another_program(&path, round as i64 + 3);
        check_against_local(&vista, &format!("another program's writes, round {round}"));
    }
    // Reopened, the rank tables are found again.
    drop(vista);
    let vista = SqliteVista::open(&path, "items", "id").unwrap();
    check_against_local(&vista, "reopened");
}

#[test]
fn a_table_created_with_its_indexes_keeps_ranks_from_the_first_row() {
    let vista = SqliteVista::open_in_memory(&spec(true)).unwrap();
    check_against_local(&vista, "empty");
    block_on(vista.insert_many(rows(400))).unwrap();
    check_against_local(&vista, "loaded");
    write_through_the_vista(&vista, 5);
    check_against_local(&vista, "written");
    block_on(vista.delete_all()).unwrap();
    check_against_local(&vista, "emptied");
}

#[test]
fn a_damaged_rank_table_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.sqlite");
    let vista = SqliteVista::create_table(&path, &spec(true)).unwrap();
    block_on(vista.insert_many(rows(300))).unwrap();
    check_against_local(&vista, "intact");
    // Another program drops a trigger, then writes: the counts go stale.
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER \"items_price_ranks_update\";
         UPDATE items SET price = -price WHERE rowid % 3 = 0;
         DROP TRIGGER \"items_name_ranks_delete\";
         DELETE FROM items WHERE rowid % 5 = 0;",
    )
    .unwrap();
    check_against_local(&vista, "damaged");
    // Rebuilt by `create_index`, and used again.
    block_on(vista.create_index("price")).unwrap();
    block_on(vista.create_index("name")).unwrap();
    let intact: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name IN \
             ('items_price_ranks_update', 'items_name_ranks_delete')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(intact, 2);
    write_through_the_vista(&vista, 9);
    check_against_local(&vista, "rebuilt");
}

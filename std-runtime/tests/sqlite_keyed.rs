//! SqliteVista applies a Dio's keyed write once: a replay of a key it
//! committed answers with the first answer and changes nothing, across a
//! reopen of the file; a write that failed records no key.
#![cfg(feature = "sqlite")]

use diorama_core::vista::{TableShell, WriteKey, WriteOp};
use diorama_core::{ErrorKind, record};
use diorama_std::sqlite::rusqlite::Connection;
use diorama_std::sqlite::{ColumnType, IdType, SqliteVista, TableSpec};
use smol::block_on;

fn products() -> TableSpec {
    TableSpec::new("products", "id", IdType::Integer)
        .column("name", ColumnType::Text)
        .column("stock", ColumnType::Integer)
}

fn stock(path: &std::path::Path, id: i64) -> Option<i64> {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT stock FROM products WHERE id = ?", [id], |row| {
            row.get(0)
        })
        .ok()
}

#[test]
fn a_replayed_key_is_applied_once_even_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.sqlite");
    let vista = SqliteVista::create_table(&path, &products()).unwrap();
    let insert = WriteKey::new("products", 1, 1);
    let op = WriteOp::Insert {
        id: None,
        record: record! { "name" => "Lamp", "stock" => 1 },
    };
    let first = block_on(vista.apply_write(&insert, op.clone())).unwrap();
    let again = block_on(vista.apply_write(&insert, op.clone())).unwrap();
    assert_eq!(
        first, again,
        "the replay answers with the id first assigned"
    );
    let count: i64 = Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM products", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 1);

    // A patch that adds to what it finds would double on a second apply;
    // here it sets, so compare with an unkeyed write in between.
    let id: i64 = first.unwrap().parse().unwrap();
    let patch = WriteKey::new("products", 1, 2);
    let set_to = |n: i64| WriteOp::Patch {
        id: id.to_string(),
        fields: record! { "stock" => n },
    };
    block_on(vista.apply_write(&patch, set_to(5))).unwrap();
    block_on(vista.patch(&id.to_string(), record! { "stock" => 9 })).unwrap();
    drop(vista);
    let vista = SqliteVista::open(&path, "products", "id").unwrap();
    block_on(vista.apply_write(&patch, set_to(5))).unwrap();
    assert_eq!(stock(&path, id), Some(9), "the replay changed nothing");
    // A new key is applied.
    block_on(vista.apply_write(&WriteKey::new("products", 2, 1), set_to(6))).unwrap();
    assert_eq!(stock(&path, id), Some(6));
}

#[test]
fn a_failed_keyed_write_records_no_key_and_can_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.sqlite");
    let vista = SqliteVista::create_table(&path, &products()).unwrap();
    let key = WriteKey::new("products", 1, 1);
    let op = WriteOp::Patch {
        id: "7".into(),
        fields: record! { "stock" => 3 },
    };
    let error = block_on(vista.apply_write(&key, op.clone())).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    block_on(vista.insert(Some("7".into()), record! { "stock" => 0 })).unwrap();
    block_on(vista.apply_write(&key, op)).unwrap();
    assert_eq!(stock(&path, 7), Some(3));
}

fn keys(path: &std::path::Path) -> Vec<(String, i64)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT key, applied_at FROM _diorama_applied ORDER BY key")
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Keys older than the retention go, by hand or every 1,024 keyed writes;
/// younger ones stay and still make a replay a no-op.
#[test]
fn applied_keys_older_than_the_retention_are_pruned() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.sqlite");
    let vista = SqliteVista::create_table(&path, &products()).unwrap();
    let insert = |seq| {
        let key = WriteKey::new("products", 1, seq);
        let op = WriteOp::Insert {
            id: Some(seq.to_string()),
            record: record! { "name" => "Lamp", "stock" => 1 },
        };
        block_on(vista.apply_write(&key, op))
    };
    insert(1).unwrap();
    insert(2).unwrap();
    // Key 1 was applied eight days ago.
    Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE _diorama_applied SET applied_at = ? WHERE key = 'products/1/1'",
            [now() - 8 * 24 * 3600],
        )
        .unwrap();
    let week = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(block_on(vista.prune_applied_keys(week)).unwrap(), 1);
    let left: Vec<String> = keys(&path).into_iter().map(|(key, _)| key).collect();
    assert_eq!(left, ["products/1/2"]);
    // A replay of the kept key is still applied once (not a duplicate).
    assert_eq!(insert(2).unwrap(), Some("2".to_string()));

    // With the default retention, keyed write 1,024 prunes by itself.
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE _diorama_applied SET applied_at = 0", [])
        .unwrap();
    for seq in 3..=1024 {
        insert(seq).unwrap();
    }
    let left = keys(&path);
    assert!(
        !left.iter().any(|(key, _)| key == "products/1/2"),
        "the old key was pruned"
    );
    assert!(left.iter().all(|(_, at)| *at >= now() - 60));
}

/// An applied-keys table made before `applied_at` existed gets the column
/// on the next keyed write, its keys stamped with that moment (kept a full
/// retention from then).
#[test]
fn an_older_applied_keys_table_gets_its_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.sqlite");
    drop(SqliteVista::create_table(&path, &products()).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE _diorama_applied (key TEXT PRIMARY KEY, id TEXT); \
             INSERT INTO _diorama_applied VALUES ('products/0/1', '7')",
        )
        .unwrap();
    let vista = SqliteVista::open(&path, "products", "id").unwrap();
    let replay = WriteKey::new("products", 0, 1);
    let op = WriteOp::Insert {
        id: Some("7".into()),
        record: record! { "name" => "Lamp", "stock" => 1 },
    };
    // The old key still answers: nothing inserted.
    assert_eq!(
        block_on(vista.apply_write(&replay, op)).unwrap(),
        Some("7".to_string())
    );
    assert_eq!(stock(&path, 7), None);
    let stamped = keys(&path);
    assert_eq!(stamped.len(), 1);
    assert!(stamped[0].1 >= now() - 60, "{stamped:?}");
}

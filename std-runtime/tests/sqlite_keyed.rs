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

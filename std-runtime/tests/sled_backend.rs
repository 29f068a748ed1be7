//! `SledBackend` specifics the shared conformance suite cannot see: data
//! surviving a reopen, damaged caches and rows, dropped tables, flushing.
//!
//! Tests that damage a cache write through sled directly and therefore know
//! the on-disk layout (tree `diorama-table:<name>`, blocks of rows under
//! `0x01 ‖ first id`, values behind a CRC-32 of key and value).

mod common;
mod layout;

use std::path::Path;
use std::sync::Arc;

use diorama_core::cache::{CacheBackend, CacheBatch, CachedRow, RowState};
use diorama_core::runtime::Timestamp;
use diorama_core::{ErrorKind, Value, record};
use diorama_std::SledBackend;
use futures_lite::future;

use common::{capture_logs, logged};
use layout::block;

fn row(name: &str, state: RowState, fetched_at: Option<u64>) -> CachedRow {
    CachedRow {
        record: record! { "name" => name, "n" => 7, "tags" => vec![Value::from("a"), Value::from(2.5), Value::Null] },
        state,
        fetched_at: fetched_at.map(Timestamp::from_millis),
    }
}

fn sample_batch() -> CacheBatch {
    let mut batch = CacheBatch::new();
    batch
        .put(
            "a",
            row("Lamp", RowState::Complete, Some(1_700_000_000_123)),
        )
        .put("b", row("Desk", RowState::Incomplete, None))
        .put("c", row("Sofa", RowState::Stale, Some(42)))
        .meta_put(b"pos:q1:\x00\x00".to_vec(), b"a".to_vec())
        .meta_put(b"pos:q1:\x00\x01".to_vec(), b"c".to_vec())
        .meta_put(b"total:q1".to_vec(), 2u64.to_be_bytes().to_vec());
    batch
}

/// Write raw bytes into a table's tree, bypassing the backend.
fn write_raw(path: &Path, table: &str, key: &[u8], value: &[u8]) {
    let db = layout::open_raw(path);
    let tree = db.open_tree(format!("diorama-table:{table}")).unwrap();
    tree.insert(key, value).unwrap();
    db.flush().unwrap();
}

#[test]
fn rows_states_timestamps_meta_and_count_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let backend = SledBackend::open(&path).unwrap();
        let items = backend.open_table("items").unwrap();
        items.apply(sample_batch()).unwrap();
        backend
            .open_table("other")
            .unwrap()
            .insert_batch(vec![("x".into(), row("X", RowState::Complete, None))])
            .unwrap();
        backend.flush_blocking().unwrap();
    }
    let backend = SledBackend::open(&path).unwrap();
    assert_eq!(backend.list_tables().unwrap(), vec!["items", "other"]);
    let items = backend.open_table("items").unwrap();
    assert_eq!(items.count().unwrap(), 3);
    assert_eq!(
        items.get("a").unwrap(),
        Some(row("Lamp", RowState::Complete, Some(1_700_000_000_123)))
    );
    assert_eq!(
        items.get("b").unwrap(),
        Some(row("Desk", RowState::Incomplete, None))
    );
    assert_eq!(
        items.get("c").unwrap(),
        Some(row("Sofa", RowState::Stale, Some(42)))
    );
    let ids: Vec<_> = items
        .scan(None, 10)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
    assert_eq!(
        items.meta_range(b"pos:q1:", b"pos:q1;", 10).unwrap(),
        vec![
            (b"pos:q1:\x00\x00".to_vec(), b"a".to_vec()),
            (b"pos:q1:\x00\x01".to_vec(), b"c".to_vec()),
        ]
    );
    assert_eq!(
        items.meta_get(b"total:q1").unwrap(),
        Some(2u64.to_be_bytes().to_vec())
    );
    assert_eq!(backend.open_table("other").unwrap().count().unwrap(), 1);
}

#[test]
fn count_stays_exact_across_overwrites_deletes_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let backend = SledBackend::open(&path).unwrap();
        let t = backend.open_table("t").unwrap();
        t.apply(sample_batch()).unwrap();
        let mut batch = CacheBatch::new();
        batch
            .put("a", row("again", RowState::Complete, None)) // overwrite: no change
            .put("d", row("new", RowState::Complete, None)) // +1
            .put("d", row("newer", RowState::Complete, None)) // same id twice: still +1
            .delete("zz") // absent: no change
            .delete("b"); // -1
        t.apply(batch).unwrap();
        assert_eq!(t.count().unwrap(), 3);
        assert!(t.delete("c").unwrap());
        assert!(!t.delete("c").unwrap());
        assert_eq!(t.count().unwrap(), 2);
        assert_eq!(
            t.get("d")
                .unwrap()
                .unwrap()
                .record
                .get("name")
                .and_then(|v| v.as_str()),
            Some("newer")
        );
    }
    let backend = SledBackend::open(&path).unwrap();
    let t = backend.open_table("t").unwrap();
    assert_eq!(t.count().unwrap(), 2);
    t.clear().unwrap();
    assert_eq!(t.count().unwrap(), 0);
    assert_eq!(t.scan(None, 10).unwrap(), vec![]);
    assert_eq!(t.meta_range(b"", b"\xff", 10).unwrap(), vec![]);
    drop((t, backend));
    let backend = SledBackend::open(&path).unwrap();
    assert_eq!(backend.open_table("t").unwrap().count().unwrap(), 0);
}

#[test]
fn an_unreadable_row_is_reported_and_read_as_absent() {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let id = |i: usize| format!("i{i:03}");
    {
        let backend = SledBackend::open(&path).unwrap();
        let t = backend.open_table("damaged").unwrap();
        // 200 rows: four blocks of 50, from i000, i050, i100 and i150.
        let rows = (0..200).map(|i| (id(i), row("r", RowState::Complete, None)));
        t.insert_batch(rows.collect()).unwrap();
    }
    // The block from i050 damaged (the checksum fails), and the one from
    // i100 replaced by a block that passes the checksum but holds one row
    // of a format this build does not know.
    write_raw(&path, "damaged", b"\x01i050", b"\x01\xff\xff garbage");
    let future: &[u8] = b"\x09\x84\x00\xf6\xa0\x00";
    write_raw(
        &path,
        "damaged",
        b"\x01i100",
        &block(b"\x01i100", &[(b"i100", future)]),
    );
    let backend = SledBackend::open(&path).unwrap();
    let t = backend.open_table("damaged").unwrap();

    assert!(t.get("i049").unwrap().is_some());
    assert_eq!(t.get("i050").unwrap(), None);
    assert_eq!(t.get("i100").unwrap(), None);
    assert_eq!(t.get("i101").unwrap(), None, "not in the forged block");
    assert_eq!(
        t.get_many(&["i049", "i099", "i150"])
            .unwrap()
            .iter()
            .map(Option::is_some)
            .collect::<Vec<_>>(),
        vec![true, false, true]
    );
    let ids: Vec<_> = t
        .scan(None, 1000)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let expected: Vec<String> = (0..50).chain(150..200).map(id).collect();
    assert_eq!(ids, expected);
    // The limit counts readable rows: skipping bad ones does not shorten a page.
    let page: Vec<_> = t
        .scan(Some("i049"), 1)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(page, vec!["i150"]);

    assert!(!logged(&["WARN", "`damaged`", "`i050`", "checksum mismatch"]).is_empty());
    assert!(!logged(&["WARN", "`damaged`", "`i100`", "unknown row format 9"]).is_empty());

    // Every read that met damage counted it: get i050, get i100, get_many's
    // i099, the full scan's block and row, the page's block and row.
    assert_eq!(t.corrupt_reads(), 7);
    assert_eq!(t.integrity().corrupt_reads, 7);

    // A refetch replaces the damaged block (the write meets it once) and
    // the row reads normally again; the counter is recounted from what is
    // readable: 50 + 1 + 1 + 50 rows.
    t.insert_batch(vec![(
        "i050".into(),
        row("Desk", RowState::Complete, Some(5)),
    )])
    .unwrap();
    assert_eq!(t.corrupt_reads(), 8);
    assert_eq!(
        t.get("i050").unwrap(),
        Some(row("Desk", RowState::Complete, Some(5)))
    );
    assert_eq!(t.corrupt_reads(), 8, "a good read counts nothing");
    assert_eq!(t.count().unwrap(), 102);
}

fn damage_config(path: &Path) {
    {
        let backend = SledBackend::open(path).unwrap();
        backend
            .open_table("items")
            .unwrap()
            .apply(sample_batch())
            .unwrap();
        backend.flush_blocking().unwrap();
    }
    std::fs::write(path.join("conf"), b"this is not a sled config").unwrap();
}

#[test]
fn opening_a_corrupt_cache_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    damage_config(&path);
    let error = SledBackend::open(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
    assert!(
        error.message().contains(&path.display().to_string()),
        "{error}"
    );
}

#[test]
fn open_or_rebuild_moves_a_corrupt_cache_aside_and_starts_empty() {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    damage_config(&path);

    let backend = SledBackend::open_or_rebuild(&path).unwrap();
    assert_eq!(backend.list_tables().unwrap(), Vec::<String>::new());
    let items = backend.open_table("items").unwrap();
    assert_eq!(items.count().unwrap(), 0);
    items.apply(sample_batch()).unwrap();
    assert_eq!(items.count().unwrap(), 3);

    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("cache.broken-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(dir.path().join(&aside[0]).join("conf")).unwrap(),
        b"this is not a sled config",
        "the broken cache is kept for inspection"
    );
    assert!(!logged(&["WARN", &path.display().to_string(), &aside[0]]).is_empty());
}

#[test]
fn open_or_rebuild_leaves_a_healthy_cache_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let backend = SledBackend::open(&path).unwrap();
        backend
            .open_table("items")
            .unwrap()
            .apply(sample_batch())
            .unwrap();
    }
    let backend = SledBackend::open_or_rebuild(&path).unwrap();
    assert_eq!(backend.open_table("items").unwrap().count().unwrap(), 3);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_file_in_place_of_the_cache_is_a_failure_not_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    std::fs::write(&path, b"user data").unwrap();
    let error = SledBackend::open_or_rebuild(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    assert!(
        error.message().contains(&path.display().to_string()),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"user data");
}

#[test]
fn a_second_backend_on_the_same_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let _first = SledBackend::open(&path).unwrap();
    let error = SledBackend::open_or_rebuild(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
}

#[test]
fn dropped_table_handles_read_empty_and_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let backend = SledBackend::open(dir.path().join("cache")).unwrap();
    let old = backend.open_table("t").unwrap();
    old.apply(sample_batch()).unwrap();
    backend.drop_table("t").unwrap();
    assert_eq!(backend.list_tables().unwrap(), Vec::<String>::new());

    assert_eq!(old.get("a").unwrap(), None);
    assert_eq!(old.count().unwrap(), 0);
    assert_eq!(old.scan(None, 10).unwrap(), vec![]);
    let refused = old.apply(sample_batch()).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotFound);

    let fresh = backend.open_table("t").unwrap();
    assert_eq!(fresh.count().unwrap(), 0);
    fresh.apply(sample_batch()).unwrap();
    assert_eq!(fresh.count().unwrap(), 3);
    backend.drop_table("never-opened").unwrap();
}

#[test]
fn flush_makes_writes_durable_on_any_executor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        // Background flushing off: only the explicit flush persists.
        let backend = SledBackend::builder(&path)
            .cache_capacity(1024 * 1024)
            .flush_every(None)
            .open()
            .unwrap();
        let t = backend.open_table("t").unwrap();
        t.apply(sample_batch()).unwrap();
        future::block_on(t.flush()).unwrap();
        smol::block_on(async {
            t.insert_batch(vec![("d".into(), row("D", RowState::Complete, None))])
                .unwrap();
            t.flush().await
        })
        .unwrap();
    }
    let backend = SledBackend::open(&path).unwrap();
    assert_eq!(backend.open_table("t").unwrap().count().unwrap(), 4);
}

#[test]
fn backend_and_tables_are_send_sync_and_object_safe() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SledBackend>();
    assert_send_sync::<diorama_std::SledTable>();
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn CacheBackend> = SledBackend::open(dir.path().join("c")).unwrap().arc();
    let first = backend.open_table("same").unwrap();
    let second = backend.open_table("same").unwrap();
    first.apply(sample_batch()).unwrap();
    assert_eq!(second.count().unwrap(), 3);
    let from_thread = std::thread::spawn(move || second.get("a").unwrap().is_some())
        .join()
        .unwrap();
    assert!(from_thread);
    assert!(format!("{backend:?}").contains("SledBackend"));
}

const CRASH_ENV: &str = "DIORAMA_SLED_CRASH_CHILD";

/// Only does something in the child process of
/// `flushed_writes_and_whole_batches_survive_a_crash`: writes, flushes, writes
/// more without flushing, then dies without any cleanup.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CRASH_ENV) else {
        return;
    };
    let backend = SledBackend::builder(&path)
        .flush_every(None)
        .open()
        .unwrap();
    let t = backend.open_table("t").unwrap();
    t.apply(sample_batch()).unwrap();
    future::block_on(t.flush()).unwrap();
    for n in 0..200 {
        let mut batch = CacheBatch::new();
        batch
            .put(format!("p{n:03}-x"), row("x", RowState::Complete, Some(n)))
            .put(format!("p{n:03}-y"), row("y", RowState::Complete, Some(n)))
            .meta_put(format!("p{n:03}").into_bytes(), b"both".to_vec());
        t.apply(batch).unwrap();
    }
    std::process::abort();
}

#[test]
fn flushed_writes_and_whole_batches_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CRASH_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die by abort");

    let backend = SledBackend::open(&path).unwrap();
    // A crash loses only what was never flushed: not a rollback.
    assert!(
        backend.open_report().is_clean(),
        "{}",
        backend.open_report()
    );
    let t = backend.open_table("t").unwrap();
    for id in ["a", "b", "c"] {
        assert!(t.get(id).unwrap().is_some(), "flushed row {id} lost");
    }
    let rows = t.scan(None, 10_000).unwrap();
    assert_eq!(
        t.count().unwrap(),
        rows.len(),
        "row counter disagrees with the rows"
    );
    for n in 0..200 {
        let x = t.get(&format!("p{n:03}-x")).unwrap().is_some();
        let y = t.get(&format!("p{n:03}-y")).unwrap().is_some();
        let meta = t.meta_get(format!("p{n:03}").as_bytes()).unwrap().is_some();
        assert!(
            x == y && y == meta,
            "batch {n} half applied: x={x} y={y} meta={meta}"
        );
    }
}

#[test]
fn a_temporary_cache_lives_as_long_as_its_last_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scratch");
    let backend = SledBackend::builder(&path).temporary(true).open().unwrap();
    let table = backend.open_table("t").unwrap();
    drop(backend);
    // The table still works after the backend is gone, large values included
    // (sled stores those in files of their own).
    let big = CachedRow::complete(record! { "blob" => vec![7u8; 512 * 1024] }, None);
    table
        .insert_batch(vec![("big".into(), big.clone())])
        .unwrap();
    future::block_on(table.flush()).unwrap();
    assert_eq!(table.get("big").unwrap(), Some(big));
    assert!(path.exists());
    drop(table);
    // sled deletes the directory as its background threads wind down.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while path.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        !path.exists(),
        "closing the last handle deletes a temporary cache"
    );
}

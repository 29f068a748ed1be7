//! SqliteVista's reads run side by side on a pool of read connections (WAL
//! mode), apart from the writer: a slow search delays neither a write nor
//! another read, and a read whose future is dropped stops (SQLite's
//! interrupt) and gives its connection back.
//!
//! The slow read is a search SQLite cannot narrow: every row holds 4 kB
//! of `ä`, and the needle is 400 `ä` and a `b`, so each row costs about a
//! million character comparisons and the whole scan of 2,000 rows far
//! longer than the tests run. The tests assert what finished before what,
//! never durations.
#![cfg(feature = "sqlite")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diorama_core::vista::{Query, TableShell};
use diorama_core::{ErrorKind, record};
use diorama_std::sqlite::rusqlite::Connection;
use diorama_std::sqlite::{ColumnType, IdType, SqliteOptions, SqliteVista, TableSpec};
use smol::block_on;

const SLOW_ROWS: usize = 2_000;

fn spec() -> TableSpec {
    TableSpec::new("docs", "id", IdType::Integer)
        .column("body", ColumnType::Text)
        .column("n", ColumnType::Integer)
}

/// A file whose table makes a search crawl, opened with `readers` read
/// connections.
fn slow_table(readers: usize) -> (tempfile::TempDir, SqliteVista) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.sqlite");
    let loader = SqliteVista::create_table(&path, &spec()).unwrap();
    let body = "ä".repeat(2_000);
    let rows = (0..SLOW_ROWS)
        .map(|n| (None, record! { "body" => body.as_str(), "n" => n as i64 }))
        .collect();
    block_on(loader.insert_many(rows)).unwrap();
    drop(loader);
    let options = SqliteOptions::default().readers(readers);
    let vista = SqliteVista::open_with(&path, "docs", "id", &options).unwrap();
    (dir, vista)
}

fn slow_search() -> Query {
    Query::new().with_search(format!("{}b", "ä".repeat(400)))
}

#[test]
fn the_file_is_switched_to_wal_mode() {
    let (dir, vista) = slow_table(2);
    let mode: String = Connection::open(dir.path().join("slow.sqlite"))
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(vista);
}

#[test]
fn a_slow_search_delays_neither_a_write_nor_another_read() {
    let (_dir, vista) = slow_table(2);
    let done = Arc::new(AtomicBool::new(false));
    let search = {
        let (vista, done) = (vista.clone(), done.clone());
        smol::spawn(async move {
            let result = vista.count(&slow_search()).await;
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    block_on(async {
        // Let the search take its connection first.
        smol::Timer::after(Duration::from_millis(200)).await;
        vista.patch("1", record! { "n" => -1 }).await.unwrap();
        let row = vista.get("1").await.unwrap().unwrap();
        assert_eq!(row.get("n"), Some(&(-1).into()));
        let page = vista.fetch_window(&Query::new(), 10, 5).await.unwrap();
        assert_eq!(page.total, Some(SLOW_ROWS));
        assert!(
            !done.load(Ordering::SeqCst),
            "the write and the reads waited for the search"
        );
        // Dropping the task drops its read: the search is interrupted.
        drop(search);
    });
}

#[test]
fn a_dropped_read_is_interrupted_and_frees_its_connection() {
    // One read connection: the next read can only run once the search
    // let go of it.
    let (_dir, vista) = slow_table(1);
    block_on(async {
        let search = smol::spawn({
            let vista = vista.clone();
            async move { vista.list(&slow_search()).await }
        });
        smol::Timer::after(Duration::from_millis(200)).await;
        drop(search);
        let row = vista.get("7").await.unwrap().unwrap();
        assert_eq!(row.get("n"), Some(&6.into()));
        assert_eq!(vista.count(&Query::new()).await.unwrap(), SLOW_ROWS);
    });
}

#[test]
fn a_read_dropped_before_it_starts_never_runs() {
    let (_dir, vista) = slow_table(1);
    block_on(async {
        let search = smol::spawn({
            let vista = vista.clone();
            async move { vista.count(&slow_search()).await }
        });
        smol::Timer::after(Duration::from_millis(200)).await;
        // Queued behind the search for the one connection, then dropped.
        let queued = smol::spawn({
            let vista = vista.clone();
            async move { vista.list(&slow_search()).await }
        });
        smol::Timer::after(Duration::from_millis(50)).await;
        drop(queued);
        drop(search);
        // Neither search holds the connection any more.
        assert_eq!(vista.count(&Query::new()).await.unwrap(), SLOW_ROWS);
    });
}

#[test]
fn a_read_abandoned_on_the_writers_connection_leaves_it_usable() {
    // On the writer's connection (no pool), a read abandoned by one
    // caller does not disturb the next call on the same connection.
    let (_dir, vista) = slow_table(0);
    block_on(async {
        let query = slow_search();
        let slow = vista.count(&query);
        let abandoned = futures_lite::future::or(async { Some(slow.await) }, async {
            smol::Timer::after(Duration::from_millis(200)).await;
            None
        })
        .await;
        assert!(abandoned.is_none(), "the search cannot finish this soon");
        vista.patch("2", record! { "n" => 42 }).await.unwrap();
        let row = vista.get("2").await.unwrap().unwrap();
        assert_eq!(row.get("n"), Some(&42.into()));
        let error = vista.get("x").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
    });
}

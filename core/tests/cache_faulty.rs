//! The simulator's fault-injecting cache backend: each fault, what a cache
//! user observes, and determinism.
#![cfg(feature = "sim")]

use std::sync::Arc;

use diorama_core::cache::FaultyDisk;
use diorama_core::cache::{CacheBackend, CacheBatch, CacheTable, CachedRow, RowState};
use diorama_core::{ErrorKind, Value, record};
use futures_lite::future::block_on;

fn row(n: i64) -> CachedRow {
    CachedRow::complete(record! { "n" => n }, None)
}

fn n_of(table: &dyn CacheTable, id: &str) -> Option<(i64, RowState)> {
    let row = table.get(id).unwrap()?;
    match row.record.get("n") {
        Some(Value::Integer(n)) => Some((i64::try_from(n.get()).unwrap(), row.state)),
        other => panic!("row {id}: {other:?}"),
    }
}

fn put(table: &dyn CacheTable, id: &str, n: i64) -> diorama_core::Result<()> {
    table.insert_batch(vec![(id.into(), row(n))])
}

fn items(backend: &Arc<diorama_core::cache::FaultyBackend>) -> Arc<dyn CacheTable> {
    backend.open_table("items").unwrap()
}

#[test]
fn without_faults_it_is_an_ordinary_cache_and_a_reopen_keeps_the_view() {
    let disk = FaultyDisk::new(1);
    let backend = disk.backend();
    let t = items(&backend);
    put(&*t, "a", 1).unwrap();
    let mut batch = CacheBatch::new();
    batch.meta_put(b"pos".to_vec(), b"a".to_vec());
    t.apply(batch).unwrap();
    assert!(
        Arc::ptr_eq(&disk.reopen(), &backend),
        "no crash: same process"
    );
    assert_eq!(n_of(&*t, "a"), Some((1, RowState::Complete)));
    assert_eq!(t.meta_get(b"pos").unwrap(), Some(b"a".to_vec()));
    assert!(t.integrity().is_clean());
    assert_eq!(disk.stats().writes, 2);
}

#[test]
fn the_next_n_writes_fail_and_change_nothing() {
    let disk = FaultyDisk::new(1);
    let t = items(&disk.backend());
    put(&*t, "a", 1).unwrap();
    disk.fail_next_writes(3);
    let error = put(&*t, "b", 2).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed);
    assert!(error.message().contains("injected"), "{error}");
    assert!(t.delete("a").is_err(), "a delete is a write");
    assert!(t.clear().is_err(), "a clear is a write");
    assert_eq!(t.count().unwrap(), 1);
    assert_eq!(n_of(&*t, "a"), Some((1, RowState::Complete)));
    assert_eq!(n_of(&*t, "b"), None);
    // Reads never fail, and the fourth write goes through.
    put(&*t, "b", 2).unwrap();
    assert_eq!(t.count().unwrap(), 2);
    let stats = disk.stats();
    assert_eq!((stats.writes, stats.failed_writes), (2, 3));
}

#[test]
fn a_seeded_failure_rate_replays_exactly() {
    let pattern = |seed: u64| -> Vec<bool> {
        let disk = FaultyDisk::new(seed);
        disk.set_write_failure_rate(0.3);
        let t = items(&disk.backend());
        (0..300)
            .map(|i| put(&*t, &format!("r{i}"), i).is_err())
            .collect()
    };
    let first = pattern(42);
    assert_eq!(first, pattern(42), "same seed, same faults");
    assert_ne!(first, pattern(43), "another seed, other faults");
    let failed = first.iter().filter(|&&f| f).count();
    assert!((45..=135).contains(&failed), "{failed} of 300 at rate 0.3");

    let disk = FaultyDisk::new(42);
    disk.set_write_failure_rate(1.0);
    let t = items(&disk.backend());
    assert!(put(&*t, "x", 1).is_err());
    disk.heal();
    put(&*t, "x", 1).unwrap();
}

#[test]
fn a_crash_loses_exactly_what_was_not_flushed_and_kills_the_old_handles() {
    let disk = FaultyDisk::new(1);
    let backend = disk.backend();
    let t = items(&backend);
    put(&*t, "kept", 1).unwrap();
    put(&*t, "changed", 1).unwrap();
    put(&*t, "deleted", 1).unwrap();
    block_on(t.flush()).unwrap();
    put(&*t, "lost", 2).unwrap();
    put(&*t, "changed", 2).unwrap();
    assert!(t.delete("deleted").unwrap());
    let mut batch = CacheBatch::new();
    batch.meta_put(b"lost-meta".to_vec(), b"x".to_vec());
    t.apply(batch).unwrap();

    disk.crash();
    assert!(!backend.is_alive());
    for error in [
        t.get("kept").map(drop).unwrap_err(),
        put(&*t, "x", 1).unwrap_err(),
        block_on(t.flush()).unwrap_err(),
        backend.open_table("items").map(drop).unwrap_err(),
    ] {
        assert_eq!(error.kind(), ErrorKind::Closed, "{error}");
    }

    let t = items(&disk.reopen());
    assert_eq!(n_of(&*t, "kept"), Some((1, RowState::Complete)));
    assert_eq!(n_of(&*t, "changed"), Some((1, RowState::Complete)));
    assert_eq!(n_of(&*t, "deleted"), Some((1, RowState::Complete)));
    assert_eq!(n_of(&*t, "lost"), None);
    assert_eq!(t.meta_get(b"lost-meta").unwrap(), None);
    assert!(
        t.integrity().rollback.is_none(),
        "a crash is not a rollback"
    );
    assert_eq!(t.integrity().resumed_from_flush, 1);
    assert_eq!(disk.stats().crashes, 1);
}

#[test]
fn a_failed_flush_makes_nothing_durable() {
    let disk = FaultyDisk::new(1);
    let t = items(&disk.backend());
    put(&*t, "a", 1).unwrap();
    disk.fail_next_flushes(1);
    let error = block_on(t.flush()).unwrap_err();
    assert!(error.message().contains("injected"), "{error}");
    assert_eq!(disk.flushes(), 0);
    let t = items(&disk.crash_and_reopen());
    assert_eq!(n_of(&*t, "a"), None, "the flush failed: lost");
    put(&*t, "a", 1).unwrap();
    block_on(t.flush()).unwrap();
    let t = items(&disk.crash_and_reopen());
    assert_eq!(n_of(&*t, "a"), Some((1, RowState::Complete)));
    assert_eq!(disk.stats().failed_flushes, 1);
}

#[test]
fn a_flush_of_one_table_makes_every_table_durable() {
    let disk = FaultyDisk::new(1);
    let backend = disk.backend();
    let (a, b) = (
        backend.open_table("a").unwrap(),
        backend.open_table("b").unwrap(),
    );
    put(&*a, "x", 1).unwrap();
    put(&*b, "y", 2).unwrap();
    block_on(a.flush()).unwrap();
    let backend = disk.crash_and_reopen();
    assert_eq!(backend.list_tables().unwrap(), ["a", "b"]);
    assert!(backend.open_table("b").unwrap().get("y").unwrap().is_some());
}

/// Four flushes, the row `v` holding the flush's number each time.
fn four_flushes(disk: &FaultyDisk) {
    let t = items(&disk.backend());
    for n in 1..=4 {
        put(&*t, "v", n).unwrap();
        put(&*t, &format!("only{n}"), n).unwrap();
        block_on(t.flush()).unwrap();
    }
}

#[test]
fn a_rollback_returns_to_an_older_flush_reports_it_and_demotes_what_was_stored() {
    let disk = FaultyDisk::new(1);
    four_flushes(&disk);
    let t = items(&disk.rollback(2));

    let integrity = t.integrity();
    let rollback = integrity.rollback.expect("reported");
    assert_eq!(
        (rollback.stored_flush, rollback.expected_flush),
        (Some(2), Some(4))
    );
    assert!(rollback.rows_demoted);
    assert_eq!(integrity.resumed_from_flush, 5, "past everything seen");
    // The state after flush 2, every row stale.
    assert_eq!(n_of(&*t, "v"), Some((2, RowState::Stale)));
    assert_eq!(n_of(&*t, "only2"), Some((2, RowState::Stale)));
    assert_eq!(n_of(&*t, "only3"), None);
    for (id, row) in t.scan(None, 10).unwrap() {
        assert_eq!(row.state, RowState::Stale, "{id}");
    }
    // A refetch is trusted.
    put(&*t, "v", 40).unwrap();
    assert_eq!(n_of(&*t, "v"), Some((40, RowState::Complete)));
    block_on(t.flush()).unwrap();

    // The next process sees no new rollback, and the floor still holds.
    let t = items(&disk.crash_and_reopen());
    assert!(t.integrity().rollback.is_none());
    assert_eq!(t.integrity().resumed_from_flush, 6);
    assert_eq!(n_of(&*t, "v"), Some((40, RowState::Complete)));
    assert_eq!(n_of(&*t, "only1"), Some((1, RowState::Stale)));
    assert_eq!(disk.stats().rollbacks, 1);
}

#[test]
fn a_rollback_goes_back_at_most_as_far_as_the_history() {
    let disk = FaultyDisk::new(1);
    disk.set_history(2);
    four_flushes(&disk);
    let t = items(&disk.rollback(10));
    assert_eq!(n_of(&*t, "v").map(|(n, _)| n), Some(2));
    let rollback = t.integrity().rollback.unwrap();
    assert_eq!(rollback.stored_flush, Some(2));
    // Zero flushes back is a plain crash.
    let t = items(&disk.rollback(0));
    assert!(t.integrity().rollback.is_none());
}

#[test]
fn without_demotion_a_rollback_is_only_reported() {
    let disk = FaultyDisk::new(1);
    disk.demote_on_rollback(false);
    four_flushes(&disk);
    let t = items(&disk.rollback(1));
    let rollback = t.integrity().rollback.unwrap();
    assert!(!rollback.rows_demoted);
    assert_eq!(n_of(&*t, "v"), Some((3, RowState::Complete)));
}

#[test]
fn damaged_entries_read_as_absent_are_counted_and_heal_when_rewritten() {
    let disk = FaultyDisk::new(1);
    let t = items(&disk.backend());
    put(&*t, "a", 1).unwrap();
    put(&*t, "b", 2).unwrap();
    let mut batch = CacheBatch::new();
    batch.meta_put(b"m1".to_vec(), b"1".to_vec());
    batch.meta_put(b"m2".to_vec(), b"2".to_vec());
    t.apply(batch).unwrap();
    assert!(disk.damage_row("items", "a"));
    assert!(disk.damage_meta("items", b"m1"));
    assert!(!disk.damage_row("items", "missing"));

    assert_eq!(n_of(&*t, "a"), None);
    assert_eq!(
        t.get_many(&["a", "b"]).unwrap()[1]
            .as_ref()
            .map(|r| r.state),
        Some(RowState::Complete)
    );
    let ids: Vec<_> = t
        .scan(None, 10)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["b"]);
    assert_eq!(t.meta_get(b"m1").unwrap(), None);
    let meta = t.meta_range(b"m", b"n", 10).unwrap();
    assert_eq!(meta, [(b"m2".to_vec(), b"2".to_vec())]);
    assert_eq!(t.corrupt_reads(), 5);
    assert_eq!(t.integrity().corrupt_reads, 5);
    assert_eq!(disk.stats().corrupt_reads, 5);

    put(&*t, "a", 10).unwrap();
    assert_eq!(n_of(&*t, "a"), Some((10, RowState::Complete)));
    assert_eq!(t.corrupt_reads(), 5);
}

#[test]
fn a_dropped_table_reads_empty_and_refuses_writes_through_old_handles() {
    let disk = FaultyDisk::new(1);
    let backend = disk.backend();
    let old = items(&backend);
    put(&*old, "a", 1).unwrap();
    backend.drop_table("items").unwrap();
    assert_eq!(old.count().unwrap(), 0);
    assert_eq!(put(&*old, "a", 1).unwrap_err().kind(), ErrorKind::NotFound);
    let new = items(&backend);
    assert_eq!(new.count().unwrap(), 0);
    put(&*new, "b", 1).unwrap();
    assert_eq!(
        old.count().unwrap(),
        0,
        "the old handle is not the new table"
    );
}

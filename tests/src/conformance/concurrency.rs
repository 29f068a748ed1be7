//! Batches seen from other threads: all of a batch or none of it.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use diorama_core::cache::CacheBatch;
use diorama_core::{Record, Value};

use super::support::{Make, fresh_table, numbered};

/// Sets the flag when dropped, so readers stop even if the writer panics
/// (otherwise the scope would wait for them forever).
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A reader looping `count`, `get_many` and `scan` while a writer applies
/// batches of N rows (some adding, some replacing an earlier batch's rows)
/// never sees part of a batch: counts stay multiples of N and each batch's
/// rows are all present or all absent.
pub fn batches_are_atomic_to_readers(make: Make<'_>) {
    const N: usize = 40;
    const BATCHES: usize = 150;
    let table = fresh_table(make, "atomic");
    let batch_ids: Vec<Vec<String>> = (0..BATCHES)
        .map(|b| (0..N).map(|i| format!("b{b:03}-{i:02}")).collect())
        .collect();
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);

    thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut finished = false;
            // One more round after the writer is done, so the final state is checked too.
            while !finished {
                finished = done.load(Ordering::Acquire);
                let round = reads.load(Ordering::Relaxed);
                let count = table.count().unwrap();
                assert_eq!(
                    count % N,
                    0,
                    "count {count} is not a multiple of the batch size {N}"
                );
                let ids: Vec<&str> = batch_ids[round % BATCHES]
                    .iter()
                    .map(String::as_str)
                    .collect();
                let present = table
                    .get_many(&ids)
                    .unwrap()
                    .iter()
                    .filter(|r| r.is_some())
                    .count();
                assert!(
                    present == 0 || present == N,
                    "saw {present} of the {N} rows of batch {}",
                    round % BATCHES
                );
                // Scans are long; a few suffice.
                if round.is_multiple_of(16) {
                    let scanned = table.scan(None, usize::MAX).unwrap().len();
                    assert_eq!(
                        scanned % N,
                        0,
                        "scan of {scanned} rows is not whole batches"
                    );
                }
                reads.fetch_add(1, Ordering::Release);
            }
        });

        let stop_readers = SetOnDrop(&done);
        for (b, ids) in batch_ids.iter().enumerate() {
            let mut batch = CacheBatch::new();
            for id in ids {
                batch.put(id.as_str(), numbered(b as u64));
            }
            // Every third batch replaces the previous batch's rows.
            if b % 3 == 2 {
                for id in &batch_ids[b - 1] {
                    batch.delete(id.as_str());
                }
            }
            // Keep the reader busy through the whole stream: wait for one
            // more read before each batch (unless the reader has died).
            let before = reads.load(Ordering::Acquire);
            while reads.load(Ordering::Acquire) == before && !reader.is_finished() {
                thread::yield_now();
            }
            table.apply(batch).unwrap();
        }
        drop(stop_readers);
        reader.join().expect("reader thread failed");
    });

    assert!(reads.load(Ordering::Acquire) >= BATCHES);
    let replaced = BATCHES / 3;
    assert_eq!(table.count().unwrap(), (BATCHES - replaced) * N);
}

/// A record tagged with a version.
fn versioned(version: u64, index: u64) -> Record {
    Record::new().with("version", version).with("index", index)
}

fn version_of(record: &Record) -> u64 {
    match record.get("version") {
        Some(Value::Integer(v)) => v.as_u64().expect("non-negative version"),
        other => panic!("record without a version: {other:?}"),
    }
}

/// Several readers during a stream of batches that rewrite every row (and a
/// meta version) each see one version across a whole `get_many` or `scan`,
/// and versions never go backwards for any reader.
pub fn concurrent_readers_see_whole_batches(make: Make<'_>) {
    const ROWS: u64 = 60;
    const VERSIONS: u64 = 120;
    const READERS: usize = 3;
    let table = fresh_table(make, "readers");
    let ids: Vec<String> = (0..ROWS).map(|i| format!("row{i:02}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let write = |version: u64| {
        let mut batch = CacheBatch::new();
        for (i, id) in ids.iter().enumerate() {
            batch.put(
                id.as_str(),
                diorama_core::cache::CachedRow::complete(versioned(version, i as u64), None),
            );
        }
        batch.meta_put(b"version".to_vec(), version.to_be_bytes().to_vec());
        table.apply(batch).unwrap();
    };
    write(0);
    let done = AtomicBool::new(false);
    let started = Barrier::new(READERS + 1);

    thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| {
                    started.wait();
                    let mut last = 0u64;
                    let mut finished = false;
                    while !finished {
                        finished = done.load(Ordering::Acquire);
                        let rows = table.get_many(&id_refs).unwrap();
                        let versions: Vec<u64> = rows
                            .iter()
                            .map(|r| version_of(&r.as_ref().expect("row vanished").record))
                            .collect();
                        let v = versions[0];
                        assert!(
                            versions.iter().all(|&x| x == v),
                            "get_many mixed versions {versions:?}"
                        );
                        assert!(v >= last, "version went back from {last} to {v}");
                        last = v;

                        let scanned = table.scan(None, usize::MAX).unwrap();
                        assert_eq!(scanned.len(), ROWS as usize);
                        let v = version_of(&scanned[0].1.record);
                        assert!(
                            scanned.iter().all(|(_, r)| version_of(&r.record) == v),
                            "scan mixed versions"
                        );
                        assert!(v >= last, "version went back from {last} to {v}");
                        last = v;

                        let meta = table.meta_get(b"version").unwrap().expect("meta version");
                        let m = u64::from_be_bytes(meta.try_into().expect("8 bytes"));
                        assert!(m >= last, "meta version {m} behind rows at {last}");
                        last = m;
                        thread::yield_now();
                    }
                    last
                })
            })
            .collect();

        started.wait();
        let stop_readers = SetOnDrop(&done);
        for version in 1..=VERSIONS {
            write(version);
        }
        drop(stop_readers);
        for reader in readers {
            assert_eq!(reader.join().expect("reader thread failed"), VERSIONS);
        }
    });
}

//! Liveness under overlap: batches, explicit flushes, background flushes and
//! closing databases (which flushes) on several threads at once all finish.
//! sled 0.34 has reports of process-wide hangs under such loads
//! (spacejam/sled#1412); this pins that our use of it does not hang.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use diorama_core::cache::{CacheBatch, CachedRow};
use diorama_core::record;
use diorama_std::SledBackend;

/// Far beyond what the work needs; reaching it means the threads are stuck.
const HANG: Duration = Duration::from_secs(120);

fn batch(n: usize) -> CacheBatch {
    let mut batch = CacheBatch::new();
    for i in 0..20 {
        let id = format!("{n:04}-{i:02}");
        batch.put(
            id.clone(),
            CachedRow::complete(record! { "id" => id, "n" => n as i64 }, None),
        );
        batch.meta_put(format!("pos:{n:04}:{i:02}").into_bytes(), b"x".to_vec());
    }
    batch
}

#[test]
fn batches_flushes_and_closes_overlapping_never_hang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let (done_tx, done_rx) = mpsc::channel();
    for worker in 0..4 {
        let root = root.clone();
        let done = done_tx.clone();
        thread::spawn(move || {
            for round in 0..10 {
                // Each round opens, writes, flushes and closes its own database:
                // closing flushes, as do the explicit flushes.
                let backend = SledBackend::builder(root.join(format!("w{worker}-r{round}")))
                    .flush_every(Some(Duration::from_millis(1)))
                    .open()
                    .unwrap();
                let table = diorama_core::CacheBackend::open_table(&backend, "t").unwrap();
                for n in 0..10 {
                    table.apply(batch(n)).unwrap();
                    if n % 3 == worker % 3 {
                        futures_lite::future::block_on(table.flush()).unwrap();
                    }
                }
                assert_eq!(table.count().unwrap(), 200);
                if round % 2 == 0 {
                    backend.flush_blocking().unwrap();
                }
            }
            done.send(worker).unwrap();
        });
    }
    drop(done_tx);
    for _ in 0..4 {
        done_rx
            .recv_timeout(HANG)
            .expect("sled backend threads deadlocked");
    }
}

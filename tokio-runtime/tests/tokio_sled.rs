//! The re-exported sled cache works under tokio, on both schedulers.

use diorama_core::cache::{CacheBackend, CachedRow};
use diorama_core::record;
use diorama_tokio::SledBackend;

async fn write_flush_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let backend = SledBackend::open(&path).unwrap();
        let table = backend.open_table("t").unwrap();
        let row = CachedRow::complete(record! { "name" => "Lamp" }, None);
        table.insert_batch(vec![("a".into(), row)]).unwrap();
        table.flush().await.unwrap();
    }
    let backend = SledBackend::open(&path).unwrap();
    let table = backend.open_table("t").unwrap();
    assert_eq!(table.count().unwrap(), 1);
    let name = table.get("a").unwrap().unwrap().record.get("name").cloned();
    assert_eq!(name, Some("Lamp".into()));
}

#[tokio::test]
async fn sled_cache_flushes_on_current_thread() {
    write_flush_reopen().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_cache_flushes_on_multi_thread() {
    write_flush_reopen().await;
}

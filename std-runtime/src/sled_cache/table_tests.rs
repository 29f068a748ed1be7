//! Batches written together (`combine`) leave what applying them one after
//! the other leaves.

use diorama_core::cache::{CacheBatch, CacheTable, CachedRow, RowState};
use diorama_core::record;

use super::SledTable;
use crate::SledBackend;

fn row(n: i64) -> CachedRow {
    CachedRow {
        record: record! { "n" => n },
        state: RowState::Complete,
        fetched_at: None,
    }
}

/// Everything a reader can see of a table: rows (id, `n`) in id order,
/// meta entries, count.
type Contents = (Vec<(String, i64)>, Vec<(Vec<u8>, Vec<u8>)>, usize);

fn contents(table: &SledTable) -> Contents {
    let rows = table
        .scan(None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|(id, row)| (id, row.record.get("n").and_then(|v| v.as_i64()).unwrap()))
        .collect();
    let meta = table.meta_range(b"", b"\xff", usize::MAX).unwrap();
    (rows, meta, table.count().unwrap())
}

fn batches() -> Vec<CacheBatch> {
    let mut first = CacheBatch::new();
    first
        .put("x", row(1))
        .put("y", row(2))
        .put("w", row(3))
        .meta_put(b"p/1".to_vec(), b"one".to_vec())
        .meta_put(b"q/1".to_vec(), b"kept".to_vec());
    let mut second = CacheBatch::new();
    second
        .delete("x")
        .put("z", row(4))
        .put("y", row(5))
        .meta_delete_prefix(b"p/".to_vec())
        .meta_put(b"p/3".to_vec(), b"three".to_vec())
        .meta_delete(b"q/0".to_vec());
    let mut third = CacheBatch::new();
    third
        .put("x", row(6))
        .delete("w")
        .meta_put(b"q/0".to_vec(), b"late".to_vec());
    vec![first, second, third]
}

#[test]
fn a_combined_write_equals_the_batches_applied_in_turn() {
    let backend = SledBackend::builder("unused")
        .temporary(true)
        .open()
        .unwrap();
    let mut stored = CacheBatch::new();
    stored
        .put("w", row(0))
        .put("v", row(0))
        .meta_put(b"p/0".to_vec(), b"old".to_vec())
        .meta_put(b"q/0".to_vec(), b"old".to_vec());
    let combined = backend.sled_table("combined").unwrap();
    let in_turn = backend.sled_table("in-turn").unwrap();
    for table in [&combined, &in_turn] {
        table.apply(stored.clone()).unwrap();
    }
    let outcomes = combined.apply_combined(batches());
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes.iter().all(Result::is_ok));
    for batch in batches() {
        in_turn.apply(batch).unwrap();
    }
    let seen = contents(&combined);
    assert_eq!(seen, contents(&in_turn));
    assert_eq!(
        seen.0,
        vec![
            ("v".to_owned(), 0),
            ("x".to_owned(), 6),
            ("y".to_owned(), 5),
            ("z".to_owned(), 4)
        ]
    );
    assert_eq!(seen.2, 4);
    let keys: Vec<&[u8]> = seen.1.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, vec![&b"p/3"[..], b"q/0", b"q/1"]);
    assert_eq!(seen.1[1].1, b"late");
}

#[test]
fn writes_from_many_threads_all_land() {
    let backend = SledBackend::builder("unused")
        .temporary(true)
        .open()
        .unwrap();
    let table = backend.sled_table("t").unwrap();
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let table = &table;
            scope.spawn(move || {
                for n in 0..100i64 {
                    let id = format!("{thread}-{n:03}");
                    let mut batch = CacheBatch::new();
                    batch
                        .put(id.clone(), row(n))
                        .meta_put(format!("m/{thread}/{n:03}").into_bytes(), vec![1]);
                    if n % 10 == 9 {
                        // Drop this thread's meta so far and an earlier row.
                        batch
                            .meta_delete_prefix(format!("m/{thread}/").into_bytes())
                            .delete(format!("{thread}-{:03}", n - 9));
                    }
                    table.apply(batch).unwrap();
                }
            });
        }
    });
    let (rows, meta, count) = contents(&table);
    assert_eq!(count, 8 * 90);
    assert_eq!(rows.len(), 8 * 90);
    assert!(
        rows.iter()
            .all(|(id, n)| n % 10 != 0 && id.ends_with(&format!("{n:03}")))
    );
    // Each thread's last batch deleted its prefix and then put its own key.
    let mut expected: Vec<Vec<u8>> = (0..8).map(|t| format!("m/{t}/099").into_bytes()).collect();
    expected.sort();
    assert_eq!(
        meta.into_iter().map(|(k, _)| k).collect::<Vec<_>>(),
        expected
    );
}

//! The meta key space: point reads, ordered ranges (query positions) and
//! prefix deletes, and the order of application inside one batch.

use diorama_core::cache::CacheBatch;

use super::support::{Make, fresh_table, ids, keys, numbered, position_key};

/// Meta writes read back, overwrite, and delete; an empty value is a value,
/// not an absence; meta never shows up among rows.
pub fn meta_get_put_delete(make: Make<'_>) {
    let table = fresh_table(make, "meta");
    assert_eq!(table.meta_get(b"total").unwrap(), None);

    let mut batch = CacheBatch::new();
    batch
        .meta_put(b"total".to_vec(), 42u64.to_be_bytes().to_vec())
        .meta_put(b"empty".to_vec(), Vec::new())
        .meta_put(Vec::new(), b"empty key".to_vec())
        .meta_put(vec![0xFF, 0x00], vec![0u8; 1000]);
    table.apply(batch).unwrap();

    assert_eq!(
        table.meta_get(b"total").unwrap(),
        Some(42u64.to_be_bytes().to_vec())
    );
    assert_eq!(table.meta_get(b"empty").unwrap(), Some(Vec::new()));
    assert_eq!(table.meta_get(b"").unwrap(), Some(b"empty key".to_vec()));
    assert_eq!(
        table.meta_get(&[0xFF, 0x00]).unwrap(),
        Some(vec![0u8; 1000])
    );
    assert_eq!(table.meta_get(b"tota").unwrap(), None);
    assert_eq!(table.count().unwrap(), 0, "meta entries are not rows");
    assert!(table.scan(None, usize::MAX).unwrap().is_empty());

    let mut batch = CacheBatch::new();
    batch
        .meta_put(b"total".to_vec(), b"43".to_vec())
        .meta_delete(b"empty".to_vec())
        .meta_delete(b"never written".to_vec());
    table.apply(batch).unwrap();
    assert_eq!(table.meta_get(b"total").unwrap(), Some(b"43".to_vec()));
    assert_eq!(table.meta_get(b"empty").unwrap(), None);
    assert_eq!(table.meta_get(b"").unwrap(), Some(b"empty key".to_vec()));
}

/// Positions keyed `prefix ‖ index (u64 big-endian)` written in any order
/// read back in index order, across byte boundaries (255 → 256), without
/// entries of neighbouring prefixes.
pub fn meta_range_reads_positions_in_order(make: Make<'_>) {
    let table = fresh_table(make, "positions");
    const POSITIONS: u64 = 600;
    let q1 = b"pos/q1/";
    let mut batch = CacheBatch::new();
    // Neighbours that sort just before and after the query's keys.
    batch.meta_put(b"pos/q1".to_vec(), b"shorter prefix".to_vec());
    batch.meta_put(q1.to_vec(), b"bare prefix".to_vec());
    for i in 0..10 {
        batch.meta_put(position_key(b"pos/q0/", i), b"q0".to_vec());
        batch.meta_put(position_key(b"pos/q2/", i), b"q2".to_vec());
    }
    table.apply(batch).unwrap();
    // Scrambled order (7 is coprime with 600), in several batches.
    let scrambled: Vec<u64> = (0..POSITIONS).map(|i| (i * 7) % POSITIONS).collect();
    for part in scrambled.chunks(128) {
        let mut batch = CacheBatch::new();
        for &i in part {
            batch.meta_put(position_key(q1, i), format!("id{i}").into_bytes());
        }
        table.apply(batch).unwrap();
    }

    let all = table
        .meta_range(
            &position_key(q1, 0),
            &position_key(q1, POSITIONS),
            usize::MAX,
        )
        .unwrap();
    let expected: Vec<Vec<u8>> = (0..POSITIONS).map(|i| position_key(q1, i)).collect();
    assert_eq!(keys(&all), expected);
    for (i, (_, value)) in all.iter().enumerate() {
        assert_eq!(*value, format!("id{i}").into_bytes());
    }

    let window = table
        .meta_range(&position_key(q1, 250), &position_key(q1, 262), usize::MAX)
        .unwrap();
    let expected: Vec<Vec<u8>> = (250..262).map(|i| position_key(q1, i)).collect();
    assert_eq!(keys(&window), expected);

    // Up to an end past every index: still nothing of q2.
    let tail = table
        .meta_range(
            &position_key(q1, 590),
            &position_key(q1, u64::MAX),
            usize::MAX,
        )
        .unwrap();
    assert_eq!(tail.len(), 10);
    let q2_start = table
        .meta_range(&position_key(b"pos/q2/", 0), b"pos/q3", usize::MAX)
        .unwrap();
    assert_eq!(q2_start.len(), 10);
    assert!(q2_start.iter().all(|(_, v)| v == b"q2"));
}

/// `meta_range` includes `start`, excludes `end`, returns at most `limit`
/// entries from the start, and is empty (not an error) when `start >= end`.
pub fn meta_range_respects_bounds_and_limit(make: Make<'_>) {
    let table = fresh_table(make, "bounds");
    let p = b"q/";
    let mut batch = CacheBatch::new();
    for i in 0..50 {
        batch.meta_put(position_key(p, i), vec![i as u8]);
    }
    table.apply(batch).unwrap();

    let one = table
        .meta_range(&position_key(p, 5), &position_key(p, 6), 10)
        .unwrap();
    assert_eq!(one, [(position_key(p, 5), vec![5])]);

    let limited = table
        .meta_range(&position_key(p, 10), &position_key(p, 40), 4)
        .unwrap();
    let expected: Vec<Vec<u8>> = (10..14).map(|i| position_key(p, i)).collect();
    assert_eq!(keys(&limited), expected);

    // A start between stored keys begins at the next one.
    let mut between = position_key(p, 20);
    between.push(0);
    let from_between = table
        .meta_range(&between, &position_key(p, 23), 10)
        .unwrap();
    assert_eq!(
        keys(&from_between),
        [position_key(p, 21), position_key(p, 22)]
    );

    assert!(
        table
            .meta_range(&position_key(p, 10), &position_key(p, 40), 0)
            .unwrap()
            .is_empty()
    );
    assert!(
        table
            .meta_range(&position_key(p, 7), &position_key(p, 7), 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        table
            .meta_range(&position_key(p, 9), &position_key(p, 3), 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        table
            .meta_range(&position_key(p, 50), &position_key(p, 90), 10)
            .unwrap()
            .is_empty()
    );
    let everything = table.meta_range(&[], &[0xFF], usize::MAX).unwrap();
    assert_eq!(everything.len(), 50);
}

/// A prefix delete removes exactly the meta keys starting with the prefix
/// (including keys ending in `0xFF` bytes and the prefix itself), leaves
/// other keys and every row alone; the empty prefix removes all meta.
pub fn meta_prefix_delete_removes_only_the_prefix(make: Make<'_>) {
    let table = fresh_table(make, "prefix");
    let meta_keys: [&[u8]; 13] = [
        b"p",
        b"p/",
        b"p/1",
        b"p/1x",
        b"p/10",
        b"p/1\xFF\xFF",
        b"p/2",
        b"q/1",
        b"\xFF",
        b"\xFF\xFE",
        b"\xFF\xFF",
        b"\xFF\xFF\x00",
        b"\xFF\xFF\xFF",
    ];
    let mut batch = CacheBatch::new();
    for key in meta_keys {
        batch.meta_put(key.to_vec(), b"v".to_vec());
    }
    // Rows whose ids share the prefix must survive meta prefix deletes.
    batch.put("p/1", numbered(1)).put("p/10", numbered(10));
    table.apply(batch).unwrap();

    let remaining = |table: &dyn diorama_core::CacheTable| {
        keys(&table.meta_range(&[], &[0xFF; 16], usize::MAX).unwrap())
    };
    let as_vecs = |ks: &[&[u8]]| ks.iter().map(|k| k.to_vec()).collect::<Vec<_>>();

    let mut batch = CacheBatch::new();
    batch.meta_delete_prefix(b"p/1".to_vec());
    table.apply(batch).unwrap();
    assert_eq!(
        remaining(&*table),
        as_vecs(&[
            b"p",
            b"p/",
            b"p/2",
            b"q/1",
            b"\xFF",
            b"\xFF\xFE",
            b"\xFF\xFF",
            b"\xFF\xFF\x00",
            b"\xFF\xFF\xFF",
        ])
    );

    let mut batch = CacheBatch::new();
    batch.meta_delete_prefix(b"\xFF\xFF".to_vec());
    table.apply(batch).unwrap();
    assert_eq!(
        remaining(&*table),
        as_vecs(&[b"p", b"p/", b"p/2", b"q/1", b"\xFF", b"\xFF\xFE"])
    );

    let mut batch = CacheBatch::new();
    batch.meta_delete_prefix(b"absent".to_vec());
    batch.meta_delete_prefix(b"p/".to_vec());
    table.apply(batch).unwrap();
    assert_eq!(
        remaining(&*table),
        as_vecs(&[b"p", b"q/1", b"\xFF", b"\xFF\xFE"])
    );

    // A prefix ending in 0xFF bounds its range at the next shorter key.
    let mut batch = CacheBatch::new();
    for key in [&b"q\xFF"[..], b"q\xFF\xFF\x01", b"r"] {
        batch.meta_put(key.to_vec(), b"v".to_vec());
    }
    batch.meta_delete_prefix(b"q\xFF".to_vec());
    table.apply(batch).unwrap();
    let mut batch = CacheBatch::new();
    batch.meta_delete_prefix(b"q\xFF".to_vec());
    table.apply(batch).unwrap();
    assert_eq!(
        remaining(&*table),
        as_vecs(&[b"p", b"q/1", b"r", b"\xFF", b"\xFF\xFE"])
    );

    let mut batch = CacheBatch::new();
    batch.meta_delete_prefix(Vec::new());
    table.apply(batch).unwrap();
    assert!(remaining(&*table).is_empty());
    assert_eq!(table.meta_get(b"\xFF").unwrap(), None);

    assert_eq!(ids(&table.scan(None, usize::MAX).unwrap()), ["p/1", "p/10"]);
}

/// Inside one batch: row deletes before row puts, meta deletes (exact, then
/// prefixes) before meta puts — so a batch can replace a query's positions.
pub fn batch_applies_deletes_before_puts(make: Make<'_>) {
    let table = fresh_table(make, "order_in_batch");
    let mut batch = CacheBatch::new();
    batch
        .put("a", numbered(1))
        .put("b", numbered(2))
        .meta_put(position_key(b"pos/", 0), b"a".to_vec())
        .meta_put(position_key(b"pos/", 1), b"b".to_vec())
        .meta_put(b"total".to_vec(), b"2".to_vec());
    table.apply(batch).unwrap();

    let mut batch = CacheBatch::new();
    batch
        .put("a", numbered(10))
        .delete("a")
        .delete("b")
        .meta_put(position_key(b"pos/", 0), b"c".to_vec())
        .meta_put(b"total".to_vec(), b"1".to_vec())
        .meta_delete(b"total".to_vec())
        .meta_delete_prefix(b"pos/".to_vec())
        .put("c", numbered(3));
    table.apply(batch).unwrap();

    assert_eq!(
        table.get("a").unwrap(),
        Some(numbered(10)),
        "row put after delete"
    );
    assert_eq!(table.get("b").unwrap(), None);
    assert_eq!(table.get("c").unwrap(), Some(numbered(3)));
    assert_eq!(table.meta_get(b"total").unwrap(), Some(b"1".to_vec()));
    let positions = table.meta_range(b"pos/", b"pos0", usize::MAX).unwrap();
    assert_eq!(positions, [(position_key(b"pos/", 0), b"c".to_vec())]);
}

//! Rows: reads by id, overwrites, deletes, ordered scans, clear and flush.

use diorama_core::cache::CacheBatch;

use super::support::{Make, fresh_table, ids, number_of, numbered};

/// `get_many` answers in the order asked, `None` for absent ids, and
/// repeats an id asked twice.
pub fn get_many_keeps_order_and_reports_missing(make: Make<'_>) {
    let table = fresh_table(make, "many");
    table
        .insert_batch((0..10).map(|n| (format!("id{n}"), numbered(n))).collect())
        .unwrap();

    let got = table
        .get_many(&["id7", "missing", "id0", "id7", "", "id9"])
        .unwrap();
    let numbers: Vec<Option<u64>> = got.iter().map(|r| r.as_ref().map(number_of)).collect();
    assert_eq!(numbers, [Some(7), None, Some(0), Some(7), None, Some(9)]);
    assert!(table.get_many(&[]).unwrap().is_empty());
    assert_eq!(table.get("missing").unwrap(), None);
}

/// Writing an existing id replaces its row; `count` counts distinct ids.
pub fn put_overwrites_and_count_follows(make: Make<'_>) {
    let table = fresh_table(make, "overwrite");
    assert_eq!(table.count().unwrap(), 0);
    table
        .insert_batch((0..5).map(|n| (format!("id{n}"), numbered(n))).collect())
        .unwrap();
    assert_eq!(table.count().unwrap(), 5);

    table
        .insert_batch(vec![
            ("id2".into(), numbered(200)),
            ("id5".into(), numbered(5)),
        ])
        .unwrap();
    assert_eq!(table.count().unwrap(), 6);
    assert_eq!(table.get("id2").unwrap(), Some(numbered(200)));

    // The last write of an id within one batch wins.
    table
        .insert_batch(vec![
            ("id3".into(), numbered(31)),
            ("id3".into(), numbered(32)),
        ])
        .unwrap();
    assert_eq!(table.get("id3").unwrap(), Some(numbered(32)));
    assert_eq!(table.count().unwrap(), 6);

    // An empty batch changes nothing.
    table.apply(CacheBatch::new()).unwrap();
    assert_eq!(table.count().unwrap(), 6);
}

/// `delete` removes a row and says whether it existed; deleting again or
/// deleting an absent id reports `false`.
pub fn delete_reports_whether_the_row_existed(make: Make<'_>) {
    let table = fresh_table(make, "delete");
    table
        .insert_batch(vec![("a".into(), numbered(1)), ("b".into(), numbered(2))])
        .unwrap();

    assert!(table.delete("a").unwrap());
    assert_eq!(table.get("a").unwrap(), None);
    assert!(
        !table.delete("a").unwrap(),
        "second delete must report absent"
    );
    assert!(!table.delete("never").unwrap());
    assert_eq!(table.count().unwrap(), 1);
    assert_eq!(table.get("b").unwrap(), Some(numbered(2)));

    // Deletes in a batch, including of absent ids, are not errors.
    let mut batch = CacheBatch::new();
    batch.delete("b").delete("never");
    table.apply(batch).unwrap();
    assert_eq!(table.count().unwrap(), 0);
}

/// `scan` returns rows in ascending order of the ids' bytes, whatever the
/// insertion order (so "10" < "9", "B" < "a", "z" < "é").
pub fn scan_is_ascending_by_id_bytes(make: Make<'_>) {
    let table = fresh_table(make, "order");
    let written = [
        "b", "a", "B", "10", "9", "a\u{0}", "é", "z", "ab", "~", "\u{7f}", "ä", "1", "",
    ];
    table
        .insert_batch(
            written
                .iter()
                .enumerate()
                .map(|(n, id)| (id.to_string(), numbered(n as u64)))
                .collect(),
        )
        .unwrap();

    let scanned = ids(&table.scan(None, usize::MAX).unwrap());
    let mut by_bytes: Vec<Vec<u8>> = written.iter().map(|id| id.as_bytes().to_vec()).collect();
    by_bytes.sort();
    let expected: Vec<String> = by_bytes
        .into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .collect();
    assert_eq!(scanned, expected);

    let position = |id: &str| scanned.iter().position(|s| s == id).unwrap();
    assert!(position("10") < position("9"));
    assert!(position("B") < position("a"));
    assert!(position("a") < position("a\u{0}"));
    assert!(position("z") < position("é"));
    assert_eq!(position(""), 0);

    // Each row comes back with its own record.
    for (id, row) in table.scan(None, usize::MAX).unwrap() {
        let n = number_of(&row) as usize;
        assert_eq!(written[n], id);
    }
}

/// Paging with `after` = the last id seen visits every row exactly once, in
/// order; `after` need not be a stored id; limits are honoured.
pub fn scan_pages_visit_every_row_once(make: Make<'_>) {
    let table = fresh_table(make, "pages");
    const ROWS: u64 = 101;
    // Written in a scrambled order (37 is coprime with 101), in two batches.
    let scrambled: Vec<u64> = (0..ROWS).map(|i| (i * 37) % ROWS).collect();
    for half in scrambled.chunks(60) {
        table
            .insert_batch(
                half.iter()
                    .map(|&n| (format!("id{n:03}"), numbered(n)))
                    .collect(),
            )
            .unwrap();
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..=ROWS {
        let page = table.scan(after.as_deref(), 7).unwrap();
        assert!(page.len() <= 7, "page of {} rows, limit 7", page.len());
        if page.is_empty() {
            break;
        }
        for (id, row) in &page {
            assert_eq!(*id, format!("id{:03}", number_of(row)));
        }
        after = page.last().map(|(id, _)| id.clone());
        seen.extend(ids(&page));
        assert!(seen.len() as u64 <= ROWS, "paging revisits rows: {seen:?}");
    }
    let expected: Vec<String> = (0..ROWS).map(|n| format!("id{n:03}")).collect();
    assert_eq!(seen, expected);

    // `after` strictly excludes itself and may fall between stored ids.
    assert_eq!(
        ids(&table.scan(Some("id049"), 2).unwrap()),
        ["id050", "id051"]
    );
    assert_eq!(
        ids(&table.scan(Some("id049x"), 2).unwrap()),
        ["id050", "id051"]
    );
    assert_eq!(ids(&table.scan(Some(""), 1).unwrap()), ["id000"]);
    assert_eq!(ids(&table.scan(None, 1).unwrap()), ["id000"]);
    assert!(table.scan(Some("id100"), 10).unwrap().is_empty());
    assert!(table.scan(Some("zzz"), 10).unwrap().is_empty());
    assert!(table.scan(None, 0).unwrap().is_empty());
    assert_eq!(table.scan(Some("id090"), 1000).unwrap().len(), 10);
}

/// `clear` empties both rows and meta, and the table stays usable.
pub fn clear_removes_rows_and_meta(make: Make<'_>) {
    let table = fresh_table(make, "clear");
    let mut batch = CacheBatch::new();
    batch
        .put("a", numbered(1))
        .put("b", numbered(2))
        .meta_put(b"k".to_vec(), b"v".to_vec())
        .meta_put(b"pos/\x00".to_vec(), b"a".to_vec());
    table.apply(batch).unwrap();

    table.clear().unwrap();
    assert_eq!(table.count().unwrap(), 0);
    assert_eq!(table.get("a").unwrap(), None);
    assert!(table.scan(None, usize::MAX).unwrap().is_empty());
    assert_eq!(table.meta_get(b"k").unwrap(), None);
    assert!(
        table
            .meta_range(&[], &[0xFF; 8], usize::MAX)
            .unwrap()
            .is_empty()
    );

    table.insert_batch(vec![("c".into(), numbered(3))]).unwrap();
    assert_eq!(ids(&table.scan(None, usize::MAX).unwrap()), ["c"]);
    table.clear().unwrap();
    table.clear().unwrap();
    assert_eq!(table.count().unwrap(), 0);
}

/// `flush` completes successfully and everything applied stays readable.
pub fn flush_completes_and_keeps_data(make: Make<'_>) {
    let table = fresh_table(make, "flush");
    futures_lite::future::block_on(table.flush()).expect("flush of an empty table");
    let mut batch = CacheBatch::new();
    batch
        .put("a", numbered(1))
        .meta_put(b"m".to_vec(), b"1".to_vec());
    table.apply(batch).unwrap();
    futures_lite::future::block_on(table.flush()).expect("flush after a write");
    assert_eq!(table.get("a").unwrap(), Some(numbered(1)));
    assert_eq!(table.meta_get(b"m").unwrap(), Some(b"1".to_vec()));
}

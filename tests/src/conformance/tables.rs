//! The backend as a namespace of tables: sharing, isolation, listing, drop.

use diorama_core::cache::CacheBatch;

use super::support::{Make, fresh_table, ids, number_of, numbered};

/// A table knows the name it was opened with.
pub fn table_reports_its_name(make: Make<'_>) {
    assert_eq!(fresh_table(make, "orders").name(), "orders");
    assert_eq!(fresh_table(make, "a/b ü").name(), "a/b ü");
}

/// Two opens of one name are handles onto the same rows and meta.
pub fn same_name_shares_data(make: Make<'_>) {
    let backend = make();
    let first = backend.open_table("shared").unwrap();
    let second = backend.open_table("shared").unwrap();

    let mut batch = CacheBatch::new();
    batch
        .put("a", numbered(1))
        .meta_put(b"k".to_vec(), b"v".to_vec());
    first.apply(batch).unwrap();
    assert_eq!(second.get("a").unwrap(), Some(numbered(1)));
    assert_eq!(second.meta_get(b"k").unwrap(), Some(b"v".to_vec()));

    assert!(second.delete("a").unwrap());
    assert_eq!(first.get("a").unwrap(), None);

    second
        .insert_batch(vec![("b".into(), numbered(2))])
        .unwrap();
    let third = backend.open_table("shared").unwrap();
    assert_eq!(ids(&third.scan(None, 10).unwrap()), ["b"]);
    third.clear().unwrap();
    assert_eq!(first.count().unwrap(), 0);
    assert_eq!(first.meta_get(b"k").unwrap(), None);
}

/// Tables of different names, even names that prefix one another, never
/// see each other's rows or meta, and clearing one leaves the others.
pub fn different_names_are_isolated(make: Make<'_>) {
    let backend = make();
    let names = ["t", "t1", "t/1", "T", "t\u{0}"];
    let tables: Vec<_> = names
        .iter()
        .map(|n| backend.open_table(n).unwrap())
        .collect();
    for (n, table) in tables.iter().enumerate() {
        let n = n as u64;
        let mut batch = CacheBatch::new();
        batch
            .put("x", numbered(n))
            .put(format!("only{n}"), numbered(n))
            .meta_put(b"k".to_vec(), vec![n as u8]);
        table.apply(batch).unwrap();
    }
    for (n, table) in tables.iter().enumerate() {
        assert_eq!(table.count().unwrap(), 2, "table {:?}", names[n]);
        assert_eq!(number_of(&table.get("x").unwrap().unwrap()), n as u64);
        assert_eq!(table.meta_get(b"k").unwrap(), Some(vec![n as u8]));
        let mut expected = vec![format!("only{n}"), "x".to_string()];
        expected.sort();
        assert_eq!(ids(&table.scan(None, usize::MAX).unwrap()), expected);
        assert_eq!(table.meta_range(&[], &[0xFF], usize::MAX).unwrap().len(), 1);
    }

    tables[0].clear().unwrap();
    let mut batch = CacheBatch::new();
    batch.meta_delete_prefix(Vec::new());
    tables[1].apply(batch).unwrap();
    assert_eq!(tables[0].count().unwrap(), 0);
    assert_eq!(tables[1].meta_get(b"k").unwrap(), None);
    assert_eq!(tables[1].count().unwrap(), 2);
    for (n, table) in tables.iter().enumerate().skip(2) {
        assert_eq!(table.count().unwrap(), 2);
        assert_eq!(table.meta_get(b"k").unwrap(), Some(vec![n as u8]));
    }
}

/// `list_tables` names every opened table, sorted; `drop_table` removes a
/// table and its contents (reopening gives an empty table) and accepts
/// absent names.
pub fn drop_table_removes_and_list_tables_reports(make: Make<'_>) {
    let backend = make();
    assert!(
        backend.list_tables().unwrap().is_empty(),
        "a fresh backend has no tables"
    );
    for name in ["b", "a", "c", "B"] {
        backend.open_table(name).unwrap();
    }
    backend.open_table("a").unwrap();
    assert_eq!(backend.list_tables().unwrap(), ["B", "a", "b", "c"]);

    let b = backend.open_table("b").unwrap();
    let mut batch = CacheBatch::new();
    batch
        .put("row", numbered(1))
        .meta_put(b"k".to_vec(), b"v".to_vec());
    b.apply(batch).unwrap();
    backend
        .open_table("c")
        .unwrap()
        .insert_batch(vec![("kept".into(), numbered(2))])
        .unwrap();
    drop(b);

    backend.drop_table("b").unwrap();
    assert_eq!(backend.list_tables().unwrap(), ["B", "a", "c"]);
    backend.drop_table("b").unwrap();
    backend.drop_table("never").unwrap();
    assert_eq!(backend.list_tables().unwrap(), ["B", "a", "c"]);

    let reopened = backend.open_table("b").unwrap();
    assert_eq!(reopened.count().unwrap(), 0);
    assert_eq!(reopened.get("row").unwrap(), None);
    assert_eq!(reopened.meta_get(b"k").unwrap(), None);
    assert_eq!(backend.list_tables().unwrap(), ["B", "a", "b", "c"]);
    assert_eq!(
        backend.open_table("c").unwrap().get("kept").unwrap(),
        Some(numbered(2)),
        "dropping one table leaves the others"
    );
}

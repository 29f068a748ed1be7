//! Property: on random parts and random queries, a composition's list,
//! get, count and every window agree with a reference model of the
//! combined rows (written here from the definition, row by row).

use std::collections::BTreeMap;

use diorama_core::value::{Record, Value};
use diorama_core::vista::compose::{Layering, is_tombstone, tombstone};
use diorama_core::vista::eval::{Filter, sort_rows};
use diorama_core::vista::{CmpOp, Condition, Id, MemoryVista, Query, Sort, SortDir, Vista};
use futures_lite::future::block_on;
use proptest::prelude::*;

/// The combined rows by definition: every shown top row and every bottom
/// row whose id the top does not hold, filtered; sorted when the query
/// sorts, else the bottom's order with top rows in place of the matching
/// bottom rows they replace, then the other top rows.
fn reference(
    layering: Layering,
    bottom: &[(Id, Record)],
    top: &[(Id, Record)],
    query: &Query,
) -> Vec<(Id, Record)> {
    let shown = |record: &Record| layering == Layering::Merge || !is_tombstone(record);
    let top_by_id: BTreeMap<&str, &Record> = top.iter().map(|(id, r)| (id.as_str(), r)).collect();
    let mut filter = Filter::new(query);
    let mut matches = |record: &Record| filter.matches(record);
    if let Some(sort) = &query.sort {
        let mut rows: Vec<(Id, Record)> = bottom
            .iter()
            .filter(|(id, _)| !top_by_id.contains_key(id.as_str()))
            .chain(top.iter().filter(|(_, r)| shown(r)))
            .filter(|(_, r)| matches(r))
            .cloned()
            .collect();
        sort_rows(&mut rows, sort);
        return rows;
    }
    let mut rows = Vec::new();
    let mut placed = Vec::new();
    for (id, record) in bottom {
        if !matches(record) {
            continue;
        }
        match top_by_id.get(id.as_str()) {
            None => rows.push((id.clone(), record.clone())),
            Some(top_record) => {
                if shown(top_record) && matches(top_record) {
                    rows.push((id.clone(), (*top_record).clone()));
                    placed.push(id.clone());
                }
            }
        }
    }
    for (id, record) in top {
        if shown(record) && matches(record) && !placed.contains(id) {
            rows.push((id.clone(), record.clone()));
        }
    }
    rows
}

fn reference_get(
    layering: Layering,
    bottom: &[(Id, Record)],
    top: &[(Id, Record)],
    id: &str,
) -> Option<Record> {
    match top.iter().find(|(t, _)| t == id) {
        Some((_, r)) if layering == Layering::Overlay && is_tombstone(r) => None,
        Some((_, r)) => Some(r.clone()),
        None => bottom.iter().find(|(b, _)| b == id).map(|(_, r)| r.clone()),
    }
}

fn record() -> impl Strategy<Value = Record> {
    let n = prop_oneof![
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        6 => (0i64..6).prop_map(|n| Some(Value::from(n))),
        1 => Just(Some(Value::from(2.5))),
    ];
    let s = prop::sample::select(vec!["ax", "Bx", "cy", "dY", "e"]);
    (n, s).prop_map(|(n, s)| {
        let mut record = Record::new();
        if let Some(n) = n {
            record.insert("n", n);
        }
        record.insert("s", s);
        record
    })
}

/// Rows with distinct ids drawn from a pool of 14, in random order.
fn rows(max: usize, tombstones: bool) -> impl Strategy<Value = Vec<(Id, Record)>> {
    let value = if tombstones {
        prop_oneof![4 => record(), 1 => Just(tombstone())].boxed()
    } else {
        record().boxed()
    };
    prop::collection::btree_map(0usize..14, value, 0..=max).prop_flat_map(|map| {
        let rows: Vec<(Id, Record)> = map
            .into_iter()
            .map(|(k, r)| (format!("k{k:02}"), r))
            .collect();
        Just(rows).prop_shuffle()
    })
}

fn query() -> impl Strategy<Value = Query> {
    let condition = prop_oneof![
        2 => Just(None),
        1 => (0i64..6).prop_map(|v| Some(Condition::new("n", CmpOp::Gt, v))),
        1 => (0i64..6).prop_map(|v| Some(Condition::new("n", CmpOp::Lte, v))),
        1 => Just(Some(Condition::eq("n", Value::Null))),
    ];
    let sort = prop_oneof![
        1 => Just(None),
        1 => (prop::sample::select(vec!["n", "s"]), any::<bool>()).prop_map(|(f, asc)| {
            Some(Sort::new(f, if asc { SortDir::Asc } else { SortDir::Desc }))
        }),
    ];
    let search = prop::sample::select(vec![None, Some("x"), Some("y")]);
    (condition, sort, search).prop_map(|(condition, sort, search)| {
        let mut query = Query::new();
        if let Some(condition) = condition {
            query = query.with_condition(condition);
        }
        if let Some(sort) = sort {
            query = query.with_sort(sort);
        }
        if let Some(search) = search {
            query = query.with_search(search);
        }
        query
    })
}

fn check(layering: Layering, bottom: Vec<(Id, Record)>, top: Vec<(Id, Record)>, query: Query) {
    let bottom_vista = MemoryVista::new("bottom").with_rows(bottom.clone());
    let top_vista = MemoryVista::new("top").with_rows(top.clone());
    let mut vista = match layering {
        Layering::Overlay => Vista::overlay(Vista::new(bottom_vista), Vista::new(top_vista)),
        Layering::Merge => Vista::merge(Vista::new(top_vista), Vista::new(bottom_vista)),
    };
    for condition in &query.conditions {
        vista = vista.with_condition(condition.clone());
    }
    if let Some(sort) = &query.sort {
        vista = vista.with_sort(sort.field.clone(), sort.dir);
    }
    if let Some(search) = &query.search {
        vista = vista.with_search(search.clone());
    }
    assert!(vista.residual().is_empty());
    let expect = reference(layering, &bottom, &top, &query);
    assert_eq!(block_on(vista.list()).unwrap(), expect, "list");
    assert_eq!(block_on(vista.count()).unwrap(), expect.len(), "count");
    for offset in 0..=expect.len() + 1 {
        for limit in [0, 1, 2, 3, 5, 40] {
            let page = block_on(vista.fetch_window(offset, limit)).unwrap();
            let want: Vec<_> = expect.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(page.rows, want, "window {offset}+{limit}");
            assert_eq!(page.total, Some(expect.len()), "total of {offset}+{limit}");
        }
    }
    for k in 0..15 {
        let id = format!("k{k:02}");
        assert_eq!(
            block_on(vista.get(&id)).unwrap(),
            reference_get(layering, &bottom, &top, &id),
            "get {id}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn overlay_agrees_with_the_reference(
        bottom in rows(12, false),
        top in rows(6, true),
        query in query(),
    ) {
        check(Layering::Overlay, bottom, top, query);
    }

    #[test]
    fn merge_agrees_with_the_reference(
        bottom in rows(12, false),
        top in rows(6, true),
        query in query(),
    ) {
        check(Layering::Merge, bottom, top, query);
    }
}

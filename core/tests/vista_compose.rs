//! Composition on `MemoryVista`: what overlay and merge show (lists, ids,
//! counts, windows and sorts over both parts), where writes land, the
//! combined capabilities, the calls each read costs, and refusals instead
//! of wrong pages.

use std::sync::Arc;

use diorama_core::error::ErrorKind;
use diorama_core::record;
use diorama_core::value::Record;
use diorama_core::vista::compose::{Composed, Layering, TOMBSTONE_FIELD, is_tombstone, tombstone};
use diorama_core::vista::{
    CmpOp, Id, MemoryVista, Page, Query, Sort, SortDir, TableShell, Vista, VistaCapabilities,
    VistaOp,
};
use futures_lite::future::block_on;

fn ids(rows: &[(Id, Record)]) -> Vec<&str> {
    rows.iter().map(|(id, _)| id.as_str()).collect()
}

/// p1..p6 priced 10, 20, ... 60, in insertion order.
fn remote() -> MemoryVista {
    MemoryVista::generate("products", 6, |i| {
        (
            format!("p{}", i + 1),
            record! { "name" => format!("Item {}", i + 1), "price" => (i as i64 + 1) * 10 },
        )
    })
}

fn overlay_of(base: &MemoryVista, top: &MemoryVista) -> Vista {
    Vista::overlay(Vista::new(base.clone()), Vista::new(top.clone()))
}

fn merge_of(primary: &MemoryVista, fallback: &MemoryVista) -> Vista {
    Vista::merge(Vista::new(primary.clone()), Vista::new(fallback.clone()))
}

#[test]
fn overlay_rows_win_per_id_in_list_get_count_and_windows() {
    let base = remote();
    let drafts = MemoryVista::new("drafts").with_rows([
        ("p2", record! { "name" => "Item 2 (draft)", "price" => 65 }),
        ("p4", tombstone()),
        ("n1", record! { "name" => "New", "price" => 15 }),
    ]);
    let vista = overlay_of(&base, &drafts);
    assert_eq!(vista.name(), "products+drafts");

    // No sort: the base's order, p2 in place, p4 gone, n1 at the end.
    let rows = block_on(vista.list()).unwrap();
    assert_eq!(ids(&rows), ["p1", "p2", "p3", "p5", "p6", "n1"]);
    assert_eq!(rows[1].1.get("price"), Some(&65.into()));
    assert_eq!(block_on(vista.count()).unwrap(), 6);
    for (offset, limit) in [(0, 6), (0, 2), (2, 3), (4, 5), (6, 1), (9, 2)] {
        let page = block_on(vista.fetch_window(offset, limit)).unwrap();
        let expect: Vec<_> = rows.iter().skip(offset).take(limit).cloned().collect();
        assert_eq!(page.rows, expect, "window {offset}+{limit}");
        assert_eq!(page.total, Some(6));
    }

    // A sort over both parts.
    let by_price = vista.clone().with_sort("price", SortDir::Desc);
    assert!(
        by_price.residual().is_empty(),
        "the base orders: pushed down"
    );
    let rows = block_on(by_price.list()).unwrap();
    assert_eq!(ids(&rows), ["p2", "p6", "p5", "p3", "n1", "p1"]);
    for offset in 0..7 {
        for limit in 0..4 {
            let page = block_on(by_price.fetch_window(offset, limit)).unwrap();
            let expect: Vec<_> = rows.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(page.rows, expect, "sorted window {offset}+{limit}");
        }
    }

    // Reads by id.
    assert_eq!(
        block_on(vista.get("p2")).unwrap().unwrap().get("price"),
        Some(&65.into())
    );
    assert_eq!(block_on(vista.get("p4")).unwrap(), None, "tombstoned");
    assert_eq!(
        block_on(vista.get("n1")).unwrap().unwrap().get("name"),
        Some(&"New".into())
    );
    assert_eq!(block_on(vista.get("p1")).unwrap(), base.get_row("p1"));
    assert_eq!(block_on(vista.get("zz")).unwrap(), None);
}

#[test]
fn an_overlay_row_that_stops_matching_hides_its_base_row() {
    let base = remote();
    // p5 (price 50) edited to 5: a `price > 25` query must not show the
    // base's p5 in its place.
    let drafts = MemoryVista::new("drafts").with_rows([("p5", record! { "price" => 5 })]);
    let vista = overlay_of(&base, &drafts).where_op("price", CmpOp::Gt, 25);
    let rows = block_on(vista.list()).unwrap();
    assert_eq!(ids(&rows), ["p3", "p4", "p6"]);
    assert_eq!(block_on(vista.count()).unwrap(), 3);
    let page = block_on(vista.fetch_window(0, 10)).unwrap();
    assert_eq!(ids(&page.rows), ["p3", "p4", "p6"]);
    assert_eq!(page.total, Some(3));
    let sorted = vista.with_sort("price", SortDir::Desc);
    let page = block_on(sorted.fetch_window(1, 5)).unwrap();
    assert_eq!(ids(&page.rows), ["p4", "p3"]);
    assert_eq!(page.total, Some(3));
    // Search applies to the combined rows too.
    let found = overlay_of(&base, &drafts).with_search("item 5");
    assert_eq!(block_on(found.list()).unwrap(), vec![]);
    assert_eq!(block_on(found.count()).unwrap(), 0);
}

#[test]
fn merge_takes_the_primary_and_falls_back_for_missing_ids() {
    let fallback = remote();
    let primary = MemoryVista::new("local").with_rows([
        ("p3", record! { "name" => "Item 3 (local)", "price" => 35 }),
        ("l1", record! { "name" => "Local only", "price" => 1 }),
        // No tombstones in a merge: this is an ordinary row.
        ("p6", tombstone()),
    ]);
    let vista = merge_of(&primary, &fallback);
    assert_eq!(vista.name(), "local|products");
    let rows = block_on(vista.list()).unwrap();
    assert_eq!(ids(&rows), ["p1", "p2", "p3", "p4", "p5", "p6", "l1"]);
    assert_eq!(rows[5].1, tombstone());
    assert_eq!(block_on(vista.get("p6")).unwrap(), Some(tombstone()));
    let sorted = vista.clone().with_sort("price", SortDir::Asc);
    let rows = block_on(sorted.list()).unwrap();
    assert_eq!(ids(&rows), ["l1", "p1", "p2", "p3", "p4", "p5", "p6"]);
    let page = block_on(sorted.fetch_window(2, 3)).unwrap();
    assert_eq!(ids(&page.rows), ["p2", "p3", "p4"]);
    assert_eq!(page.total, Some(7));
    assert_eq!(block_on(vista.count()).unwrap(), 7);

    // A read by id of a local row never reaches the fallback.
    fallback.reset_calls();
    assert_eq!(
        block_on(vista.get("p3")).unwrap().unwrap().get("price"),
        Some(&35.into())
    );
    assert_eq!(fallback.calls(VistaOp::Get), 0);
    assert!(block_on(vista.get("p1")).unwrap().is_some());
    assert_eq!(fallback.calls(VistaOp::Get), 1);
}

#[test]
fn overlay_writes_land_in_the_overlay_and_deletes_leave_tombstones() {
    let base = remote();
    let drafts = MemoryVista::new("drafts");
    let vista = overlay_of(&base, &drafts);

    // A patch of a base row copies it up with the fields merged.
    block_on(vista.patch("p1", record! { "price" => 11 })).unwrap();
    assert_eq!(
        drafts.get_row("p1"),
        Some(record! { "name" => "Item 1", "price" => 11 })
    );
    // A replace of a base row stores the whole new row.
    block_on(vista.replace("p2", record! { "name" => "Two" })).unwrap();
    assert_eq!(drafts.get_row("p2"), Some(record! { "name" => "Two" }));
    // A later patch changes the overlay's row in place.
    block_on(vista.patch("p2", record! { "price" => 2 })).unwrap();
    assert_eq!(
        drafts.get_row("p2"),
        Some(record! { "name" => "Two", "price" => 2 })
    );

    // Deleting a base row leaves a tombstone; the base keeps its row.
    block_on(vista.delete("p3")).unwrap();
    assert!(is_tombstone(&drafts.get_row("p3").unwrap()));
    assert!(base.get_row("p3").is_some());
    assert_eq!(block_on(vista.get("p3")).unwrap(), None);
    // Deleting again, or deleting what exists nowhere, is fine and writes nothing.
    block_on(vista.delete("p3")).unwrap();
    block_on(vista.delete("nowhere")).unwrap();
    assert_eq!(drafts.get_row("nowhere"), None);
    // A tombstoned row cannot be updated, but can be inserted again.
    let err = block_on(vista.patch("p3", record! { "price" => 1 })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    block_on(vista.insert(Some("p3".into()), record! { "name" => "Back" })).unwrap();
    assert_eq!(drafts.get_row("p3"), Some(record! { "name" => "Back" }));

    // Inserting a shown id fails, whichever part shows it.
    for id in ["p4", "p1"] {
        let err = block_on(vista.insert(Some(id.into()), record! {})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Failed, "{id}: {err}");
    }
    // A draft-only row is simply deleted.
    let id = block_on(vista.insert(None, record! { "name" => "Draft" })).unwrap();
    assert!(drafts.get_row(&id).is_some());
    block_on(vista.delete(&id)).unwrap();
    assert_eq!(drafts.get_row(&id), None);
    // Updating what exists nowhere.
    let err = block_on(vista.replace("zz", record! {})).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // The reserved field is refused, and nothing is written.
    let before = drafts.rows();
    for result in [
        block_on(vista.patch("p5", record! { TOMBSTONE_FIELD => true })),
        block_on(vista.replace("p5", record! { TOMBSTONE_FIELD => false })),
        block_on(vista.insert(Some("q".into()), tombstone())).map(|_| ()),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
    assert_eq!(drafts.rows(), before);

    // The base saw no write at all.
    for op in [
        VistaOp::Insert,
        VistaOp::Replace,
        VistaOp::Patch,
        VistaOp::Delete,
        VistaOp::DeleteAll,
    ] {
        assert_eq!(base.calls(op), 0, "{op}");
    }
    assert_eq!(base.len(), 6);
}

#[test]
fn overlay_delete_all_hides_every_base_row() {
    let base = remote();
    let drafts = MemoryVista::new("drafts").with_rows([("n1", record! { "v" => 1 })]);
    let vista = overlay_of(&base, &drafts);
    block_on(vista.delete_all()).unwrap();
    assert_eq!(block_on(vista.list()).unwrap(), vec![]);
    assert_eq!(block_on(vista.count()).unwrap(), 0);
    assert_eq!(base.len(), 6);
    assert_eq!(drafts.len(), 6);
    assert!(drafts.rows().iter().all(|(_, r)| is_tombstone(r)));
}

#[test]
fn merge_writes_land_in_the_primary_and_refuse_to_delete_fallback_rows() {
    let fallback = remote();
    let primary = MemoryVista::new("local").with_rows([("l1", record! { "v" => 1 })]);
    let vista = merge_of(&primary, &fallback);

    block_on(vista.patch("p1", record! { "price" => 1 })).unwrap();
    assert_eq!(
        primary.get_row("p1"),
        Some(record! { "name" => "Item 1", "price" => 1 })
    );
    assert_eq!(
        fallback.get_row("p1").unwrap().get("price"),
        Some(&10.into())
    );
    let id = block_on(vista.insert(Some("l2".into()), record! { "v" => 2 })).unwrap();
    assert_eq!(id, "l2");
    assert!(primary.get_row("l2").is_some());

    // p1 is in both parts: deleting it from the primary would reveal the fallback's.
    let err = block_on(vista.delete("p1")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(primary.get_row("p1").is_some(), "nothing deleted");
    let err = block_on(vista.delete_all()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(primary.len(), 3);
    // A row only the primary holds is deleted.
    block_on(vista.delete("l1")).unwrap();
    assert_eq!(primary.get_row("l1"), None);
    // With an empty fallback, delete_all clears the primary.
    let empty = MemoryVista::new("empty");
    let vista = merge_of(&primary, &empty);
    block_on(vista.delete_all()).unwrap();
    assert!(primary.is_empty());
    // A merge stores tombstone-looking records as they are.
    block_on(vista.insert(Some("t".into()), tombstone())).unwrap();
    assert_eq!(block_on(vista.get("t")).unwrap(), Some(tombstone()));
    assert_eq!(
        fallback.calls(VistaOp::Patch) + fallback.calls(VistaOp::Delete),
        0
    );
}

#[test]
fn an_insert_whose_picked_id_the_bottom_holds_is_undone() {
    // The drafts' counter picks r1, which the base already holds.
    let base = MemoryVista::new("t").with_rows([("r1", record! { "v" => 0 })]);
    let drafts = MemoryVista::new("drafts");
    let vista = overlay_of(&base, &drafts);
    let err = block_on(vista.insert(None, record! { "v" => 1 })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed, "{err}");
    assert!(drafts.is_empty(), "undone");
    assert_eq!(block_on(vista.get("r1")).unwrap(), base.get_row("r1"));
    // The next pick (r2) is free.
    assert_eq!(
        block_on(vista.insert(None, record! { "v" => 2 })).unwrap(),
        "r2"
    );
}

#[test]
fn capabilities_are_the_honest_combination() {
    let caps = |top: VistaCapabilities, bottom: VistaCapabilities, layering: Layering| {
        let top: Arc<dyn TableShell> = Arc::new(MemoryVista::new("top").with_capabilities(top));
        let bottom: Arc<dyn TableShell> =
            Arc::new(MemoryVista::new("bottom").with_capabilities(bottom));
        match layering {
            Layering::Overlay => Composed::overlay(bottom, top),
            Layering::Merge => Composed::merge(top, bottom),
        }
        .capabilities()
    };
    let all = VistaCapabilities::ALL;
    assert_eq!(caps(all, all, Layering::Overlay), all);
    let read_only = VistaCapabilities {
        can_insert: false,
        can_update: false,
        can_delete: false,
        ..all
    };
    // Writes follow the top part; reads the bottom.
    assert_eq!(caps(all, read_only, Layering::Overlay), all);
    let caps_over_ro = caps(read_only, all, Layering::Overlay);
    assert!(!caps_over_ro.can_insert && !caps_over_ro.can_update && !caps_over_ro.can_delete);
    let no_insert = VistaCapabilities {
        can_insert: false,
        ..all
    };
    // Copying a row up needs an insert; tombstones need insert and update.
    let c = caps(no_insert, all, Layering::Overlay);
    assert!(!c.can_update && !c.can_delete && !c.can_insert);
    let c = caps(no_insert, all, Layering::Merge);
    assert!(!c.can_update && c.can_delete && !c.can_insert);
    let unordered = VistaCapabilities {
        can_order: false,
        can_search: false,
        can_count: false,
        can_fetch_page: false,
        can_subscribe: false,
        ..all
    };
    let c = caps(all, unordered, Layering::Overlay);
    assert!(!c.can_order && !c.can_search && !c.can_count && !c.can_fetch_page);
    assert!(!c.can_fetch_next && !c.can_subscribe);
    // An unordered top part changes no read capability: it is read whole.
    assert_eq!(
        caps(unordered, all, Layering::Merge),
        VistaCapabilities {
            can_subscribe: false,
            ..all
        }
    );
}

#[test]
fn what_the_bottom_cannot_apply_is_evaluated_locally_or_refused() {
    let base = remote().with_capabilities(VistaCapabilities {
        can_order: false,
        can_search: false,
        can_subscribe: false,
        ..VistaCapabilities::ALL
    });
    let drafts = MemoryVista::new("drafts").with_rows([("p1", record! { "price" => 99 })]);
    let vista = overlay_of(&base, &drafts).with_sort("price", SortDir::Desc);
    assert_eq!(vista.residual().sort, Some(Sort::desc("price")));
    // A list is complete: sorted locally.
    let rows = block_on(vista.list()).unwrap();
    assert_eq!(ids(&rows), ["p1", "p6", "p5", "p4", "p3", "p2"]);
    // A window would sort a sample: refused.
    let err = block_on(vista.fetch_window(0, 2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    // Called on the shell directly, the composition refuses too.
    let shell = vista.shell().clone();
    let sorted = Query::new().with_sort(Sort::desc("price"));
    let err = block_on(shell.fetch_window(&sorted, 0, 2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    // ...while its list evaluates what the bottom refuses.
    assert_eq!(block_on(shell.list(&sorted)).unwrap(), rows);
    // A search the bottom cannot do: counted over the list by the handle.
    let found = overlay_of(&base, &drafts).with_search("item 3");
    assert_eq!(block_on(found.count()).unwrap(), 1);
    let err = block_on(shell.count(&Query::new().with_search("item 3"))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);

    // Without random access or counting in the bottom part.
    base.set_capabilities(VistaCapabilities {
        can_fetch_page: false,
        can_count: false,
        ..VistaCapabilities::ALL
    });
    let vista = overlay_of(&base, &drafts);
    assert_eq!(
        block_on(vista.fetch_window(0, 2)).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        block_on(vista.count()).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(block_on(vista.list()).unwrap().len(), 6);
}

#[test]
fn narrowed_parts_are_refused() {
    let base = Vista::new(remote()).where_eq("price", 10);
    let refused = Vista::overlay(base.clone(), Vista::new(MemoryVista::new("d")));
    let err = block_on(refused.list()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("base"), "{err}");
    assert_eq!(refused.capabilities(), VistaCapabilities::NONE);
    let err = block_on(refused.patch("p1", record! { "price" => 1 })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let refused = Vista::merge(Vista::new(MemoryVista::new("d")), base);
    let err = block_on(refused.get("p1")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("fallback"), "{err}");
    // A sort alone narrows nothing.
    let sorted = Vista::new(remote()).with_sort("price", SortDir::Asc);
    let composed = Vista::overlay(sorted, Vista::new(MemoryVista::new("d")));
    assert_eq!(
        block_on(composed.list()).unwrap().len(),
        block_on(Vista::new(remote()).list()).unwrap().len()
    );
}

#[test]
fn a_window_costs_one_top_list_a_lookup_per_top_row_and_one_bottom_window() {
    let base = MemoryVista::generate("big", 1_000, |i| {
        (format!("b{i:04}"), record! { "n" => i as i64 })
    });
    let drafts = MemoryVista::new("drafts").with_rows([
        ("b0500", record! { "n" => 2 }),
        ("b0900", tombstone()),
        ("d1", record! { "n" => 701 }),
    ]);
    let vista = overlay_of(&base, &drafts).with_sort("n", SortDir::Asc);
    base.reset_calls();
    drafts.reset_calls();
    let page = block_on(vista.fetch_window(700, 5)).unwrap();
    let got: Vec<_> = page
        .rows
        .iter()
        .map(|(id, r)| (id.as_str(), r.get("n").cloned().unwrap()))
        .collect();
    // b0500 moves up to n = 2 (after b0002) and b0900 is gone, so b0501..
    // keep their positions; d1 (n = 701) follows b0701 (ties by id).
    assert_eq!(
        got,
        [
            ("b0700", 700.into()),
            ("b0701", 701.into()),
            ("d1", 701.into()),
            ("b0702", 702.into()),
            ("b0703", 703.into()),
        ]
    );
    assert_eq!(page.total, Some(1_000));
    assert_eq!(drafts.calls(VistaOp::List), 1);
    assert_eq!(drafts.total_calls(), 1);
    assert_eq!(base.calls(VistaOp::Get), 3);
    assert_eq!(base.calls(VistaOp::FetchWindow), 1);
    assert_eq!(base.calls(VistaOp::List), 0, "the base is never read whole");
    // shown = 2 (b0500, d1) and hidden = 2 (the base's b0500 and b0900):
    // limit + shown + hidden rows from offset - shown.
    let (query, offset, limit) = base.windows()[0].clone();
    assert_eq!(query, Query::new().with_sort(Sort::asc("n")));
    assert_eq!((offset, limit), (698, 5 + 2 + 2));
}

/// A bottom part that sorts by the opposite direction from the one asked.
#[derive(Debug)]
struct Backwards(MemoryVista);

impl TableShell for Backwards {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn capabilities(&self) -> VistaCapabilities {
        self.0.capabilities()
    }
    fn list<'a>(
        &'a self,
        query: &'a Query,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<Vec<(Id, Record)>>> {
        self.0.list(query)
    }
    fn get<'a>(
        &'a self,
        id: &'a str,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<Option<Record>>> {
        self.0.get(id)
    }
    fn count<'a>(
        &'a self,
        query: &'a Query,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<usize>> {
        self.0.count(query)
    }
    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<Page>> {
        Box::pin(async move {
            let mut flipped = query.clone();
            if let Some(sort) = &mut flipped.sort {
                sort.dir = match sort.dir {
                    SortDir::Asc => SortDir::Desc,
                    SortDir::Desc => SortDir::Asc,
                };
            }
            self.0.fetch_window(&flipped, offset, limit).await
        })
    }
    fn insert<'a>(
        &'a self,
        id: Option<Id>,
        record: Record,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<Id>> {
        self.0.insert(id, record)
    }
    fn replace<'a>(
        &'a self,
        id: &'a str,
        record: Record,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<()>> {
        self.0.replace(id, record)
    }
    fn patch<'a>(
        &'a self,
        id: &'a str,
        fields: Record,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<()>> {
        self.0.patch(id, fields)
    }
    fn delete<'a>(
        &'a self,
        id: &'a str,
    ) -> diorama_core::runtime::BoxFuture<'a, diorama_core::Result<()>> {
        self.0.delete(id)
    }
    fn delete_all(&self) -> diorama_core::runtime::BoxFuture<'_, diorama_core::Result<()>> {
        self.0.delete_all()
    }
}

#[test]
fn a_bottom_that_orders_differently_gets_an_error_not_a_wrong_page() {
    let base = Arc::new(Backwards(remote()));
    let drafts = MemoryVista::new("drafts").with_rows([("d", record! { "price" => 25 })]);
    let vista = Vista::from_shell(Arc::new(Composed::overlay(base, Arc::new(drafts.clone()))))
        .with_sort("price", SortDir::Asc);
    let err = block_on(vista.fetch_window(0, 3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed, "{err}");
    // Read twice before giving up.
    assert_eq!(drafts.calls(VistaOp::List), 2);
    // The list sorts locally, so it stays right.
    let rows = block_on(vista.list()).unwrap();
    assert_eq!(ids(&rows), ["p1", "p2", "d", "p3", "p4", "p5", "p6"]);
}

#[test]
fn failures_of_either_part_fail_the_read_and_name_the_part() {
    let base = remote();
    let drafts = MemoryVista::new("drafts").with_rows([("p1", record! { "price" => 1 })]);
    let vista = overlay_of(&base, &drafts).with_sort("price", SortDir::Asc);
    drafts.fail_next(VistaOp::List, 1);
    let err = block_on(vista.fetch_window(0, 3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.message().contains("overlay \"drafts\""), "{err}");
    base.fail_next(VistaOp::FetchWindow, 1);
    let err = block_on(vista.fetch_window(0, 3)).unwrap_err();
    assert!(err.message().contains("base \"products\""), "{err}");
    base.fail_next(VistaOp::Get, 1);
    assert!(block_on(vista.count()).is_err());
    // A failed copy-up writes nothing.
    drafts.fail_next(VistaOp::Insert, 1);
    assert!(block_on(vista.patch("p2", record! { "price" => 3 })).is_err());
    assert_eq!(drafts.get_row("p2"), None);
    // Afterwards everything answers again.
    assert_eq!(block_on(vista.fetch_window(0, 2)).unwrap().rows[0].0, "p1");
}

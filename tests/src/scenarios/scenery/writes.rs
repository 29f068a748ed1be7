//! Optimistic writes as sceneries show them (issue 5, test 8).

use diorama_core::scenery::{RecordStatus, RowStatus};
use diorama_core::vista::VistaOp;
use diorama_core::{Value, record};

use super::support::*;
use crate::harness::Harness;

/// A held write shows as `PendingWrite` with the new value, then `Fresh`;
/// a failed one shows `WriteFailed` with the previous value.
pub fn optimistic_writes_show_pending_then_fresh_or_the_failure<H: Harness>(h: &H) {
    let master = products(300);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();

    master.hold();
    dio.try_patch(product_id(5), record! { "price" => 99 })
        .unwrap();
    h.settle();
    let row = view.row(5).unwrap();
    assert_eq!(row.status, RowStatus::PendingWrite);
    assert_eq!(row.record.get("price"), Some(&Value::from(99)));
    master.release();
    h.settle();
    let row = view.row(5).unwrap();
    assert_eq!(row.status, RowStatus::Fresh);
    assert_eq!(row.record.get("price"), Some(&Value::from(99)));

    master.fail_next(VistaOp::Patch, 1);
    master.hold();
    dio.try_patch(product_id(6), record! { "price" => 1 })
        .unwrap();
    h.settle();
    assert_eq!(view.row(6).unwrap().status, RowStatus::PendingWrite);
    master.release();
    h.settle();
    let row = view.row(6).unwrap();
    assert!(
        matches!(row.status, RowStatus::WriteFailed { .. }),
        "{:?}",
        row.status
    );
    assert_eq!(row.record, product(6), "the previous value is shown");
    assert_eq!(view.row(5).unwrap().status, RowStatus::Fresh);
}

/// A row with patches pending names the fields they change (in the order
/// first written) in `dirty_fields`, in table and record views alike; a
/// pending whole-row write, a settled row and an untouched row name none.
pub fn pending_rows_name_their_dirty_fields<H: Harness>(h: &H) {
    let master = products(300);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();

    master.hold();
    dio.try_patch(product_id(5), record! { "price" => 1 })
        .unwrap();
    dio.try_patch(product_id(5), record! { "name" => "renamed", "price" => 2 })
        .unwrap();
    dio.try_replace(product_id(6), record! { "name" => "whole" })
        .unwrap();
    h.settle();
    let dirty = Some(vec!["price".to_string(), "name".to_string()]);
    let row = view.row(5).unwrap();
    assert_eq!(row.status, RowStatus::PendingWrite);
    assert_eq!(row.dirty_fields, dirty);
    assert_eq!(row.record.get("price"), Some(&Value::from(2)));
    let record = h
        .block_on(dio.record_scenery(product_id(5)).open())
        .unwrap();
    assert_eq!(record.status(), RecordStatus::PendingWrite);
    assert_eq!(record.record().unwrap().dirty_fields, dirty);
    let replaced = view.row(6).unwrap();
    assert_eq!(replaced.status, RowStatus::PendingWrite);
    assert_eq!(replaced.dirty_fields, None, "a whole-row write");
    assert_eq!(view.row(7).unwrap().dirty_fields, None);

    master.release();
    h.settle();
    for index in [5, 6] {
        let row = view.row(index).unwrap();
        assert_eq!(row.status, RowStatus::Fresh);
        assert_eq!(row.dirty_fields, None, "row {index} settled");
    }
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(record.record().unwrap().dirty_fields, None);
}

/// A record scenery shows its row's own write pending, then settled; a
/// failed write shows `WriteFailed` and the last good value.
pub fn record_scenery_shows_its_own_writes_pending_then_settled<H: Harness>(h: &H) {
    let master = products(10);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let record = h
        .block_on(dio.record_scenery(product_id(2)).open())
        .unwrap();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(master.calls(VistaOp::Get), 0, "served from the cache");

    master.hold();
    dio.try_patch(product_id(2), record! { "stock" => 100 })
        .unwrap();
    h.settle();
    assert_eq!(record.status(), RecordStatus::PendingWrite);
    assert_eq!(
        record.record().unwrap().record.get("stock"),
        Some(&Value::from(100))
    );
    master.release();
    h.settle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(
        record.record().unwrap().record.get("stock"),
        Some(&Value::from(100))
    );

    master.fail_next(VistaOp::Patch, 1);
    dio.try_patch(product_id(2), record! { "stock" => 5 })
        .unwrap();
    h.settle();
    assert!(matches!(record.status(), RecordStatus::WriteFailed { .. }));
    assert_eq!(
        record.record().unwrap().record.get("stock"),
        Some(&Value::from(100))
    );
}

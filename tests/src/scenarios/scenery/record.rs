//! Record sceneries: one row followed live (issue 5, test 12).

use diorama_core::record;
use diorama_core::scenery::RecordStatus;
use diorama_core::vista::VistaOp;

use super::support::*;
use crate::harness::Harness;

/// A record scenery of an uncached row reads `Loading` while the master is
/// asked, then `Fresh`; other rows' events do not bump it; its removal reads
/// `NotFound`, as does an id the master lacks.
pub fn record_scenery_fetches_on_a_miss_and_follows_its_row_only<H: Harness>(h: &H) {
    let master = products(10);
    let lens = paged_lens(h, h.backend(), false).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    // Held, so the fetch cannot have landed when the scenery is first read.
    master.hold();
    let record = h
        .block_on(dio.record_scenery(product_id(3)).open())
        .unwrap();
    assert_eq!(record.status(), RecordStatus::Loading);
    master.release();
    h.settle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(record.record().unwrap().record, product(3));
    assert_eq!(master.calls(VistaOp::Get), 1);

    let generation = record.generation();
    dio.patched(product_id(4), record! { "price" => 1 })
        .unwrap();
    h.settle();
    assert_eq!(
        record.generation(),
        generation,
        "another row's event does not bump"
    );

    dio.removed(product_id(3)).unwrap();
    h.settle();
    assert_eq!(record.status(), RecordStatus::NotFound);

    let missing = h.block_on(dio.record_scenery("nope").open()).unwrap();
    h.settle();
    assert_eq!(missing.status(), RecordStatus::NotFound);
}

/// A record scenery given a start value shows it at once and asks nothing.
pub fn record_scenery_with_a_start_value_does_not_fetch<H: Harness>(h: &H) {
    let master = products(3);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let record = h
        .block_on(
            dio.record_scenery("x")
                .with_record(record! { "n" => 1 })
                .open(),
        )
        .unwrap();
    h.settle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(master.calls(VistaOp::Get), 0);
}

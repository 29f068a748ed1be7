//! Warm restarts over the same cache (issue 5, test 13).

use diorama_core::vista::VistaOp;

use super::support::*;
use crate::harness::Harness;

/// A new Lens over the same cache shows the persisted rows at their
/// positions, and the persisted total, with no master call at all.
pub fn a_reopen_shows_rows_at_their_positions_before_any_chunk_call<H: Harness>(h: &H) {
    let master = products(1000);
    let backend = h.backend();
    {
        let lens = paged_lens(h, backend.clone(), true).build().unwrap();
        let dio = open_dio(h, &lens, &master);
        let view = h.block_on(dio.table_scenery().open()).unwrap();
        h.settle();
        view.set_viewport(500..600);
        settle(h);
        h.block_on(dio.shutdown()).unwrap();
    }
    h.settle();
    master.reset_calls();

    // A new Lens over the same cache, with no initial refresh.
    let lens = paged_lens(h, backend, false)
        .refresh_on_open(false)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().initial_range(500..600).open())
        .unwrap();
    assert_eq!(
        master.total_calls(),
        0,
        "no master call before the first viewport"
    );
    assert_eq!(
        view.estimated_total(),
        Some(1000),
        "the total is known from the cache"
    );
    let expected: Vec<_> = (500..600).map(|i| Some(product_id(i))).collect();
    assert_eq!(ids(&view, 500..600), expected);
    assert_eq!(view.stats().cache_hits, 100);
    // Scrolling to the other persisted block serves it from the cache too.
    view.set_viewport(0..100);
    settle(h);
    assert_eq!(master.total_calls(), 0);
    assert_eq!(view.row(42).unwrap().id, product_id(42));
}

/// A warm open paints the persisted rows and total while the master cannot
/// answer (held), then asks the total provider in the background.
pub fn a_warm_open_paints_before_asking_for_the_total<H: Harness>(h: &H) {
    let master = products(1000);
    let backend = h.backend();
    {
        let lens = paged_lens(h, backend.clone(), true).build().unwrap();
        let dio = open_dio(h, &lens, &master);
        let _view = h.block_on(dio.table_scenery().open()).unwrap();
        h.settle();
        h.block_on(dio.shutdown()).unwrap();
    }
    h.settle();
    master.reset_calls();
    master.put_row("p9999", product(9999));
    let lens = paged_lens(h, backend, true)
        .refresh_on_open(false)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    // Held: if `open` waited for the master, it would never return.
    master.hold();
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    assert_eq!(view.row_count(), 1000, "the persisted total");
    assert_eq!(view.row(3).unwrap().id, product_id(3));
    assert_eq!(master.calls(VistaOp::FetchWindow), 0);
    master.release();
    h.settle();
    assert_eq!(
        master.calls(VistaOp::Count),
        1,
        "the total is asked for in the background"
    );
    assert_eq!(view.row_count(), 1001);
}

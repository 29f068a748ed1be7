//! Paged queries: search passed to the chunk callback, query changes
//! loading only the latest viewport (issue 5, tests 9–10).

use diorama_core::vista::SortDir;

use super::support::*;
use crate::harness::Harness;

/// A paged search reaches the chunk callback in its query, and the view
/// shows exactly the matching rows.
pub fn paged_search_passes_the_query_to_the_chunk_callback<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    view.set_search(Some("product 99".into())).unwrap();
    settle(h);
    let (query, _, _) = master.windows().last().cloned().unwrap();
    assert_eq!(query.search.as_deref(), Some("product 99"));
    // "Product 99" and "Product 990".."Product 999".
    assert_eq!(view.row_count(), 11);
    let shown: Vec<_> = (0..11).map(|i| view.row(i).unwrap().id.clone()).collect();
    assert!(shown.contains(&product_id(99)) && shown.contains(&product_id(995)));
    assert!(view.row(11).is_none());
}

/// A viewport jump and a sort in the same frame load only the new
/// viewport in the new order: nothing at the old position.
pub fn a_query_change_loads_the_latest_requested_viewport_only<H: Harness>(h: &H) {
    let debounce = coalescing_debounce(h);
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true)
        .viewport_debounce(debounce)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    view.set_viewport(900..920);
    settle_after(h, debounce);
    master.reset_calls();
    let before = windows(&master).len();
    // The UI jumps to the top and sorts in the same frame.
    view.set_viewport(0..20);
    view.set_sort(Some("price".into()), SortDir::Desc).unwrap();
    settle_after(h, debounce);
    let loaded: Vec<_> = windows(&master).into_iter().skip(before).collect();
    assert_eq!(loaded, vec![0..100], "no fetch at the old position");
    assert_eq!(view.row(0).unwrap().id, product_id(999));
}

/// A viewport past the end of the new query's (warm) total drops the old
/// query's rows instead of keeping them shown.
pub fn a_viewport_past_the_end_of_a_new_query_drops_the_old_rows<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    // Learn the search's total once (a warm cache for that query).
    view.set_search(Some("product 99".into())).unwrap();
    settle(h);
    assert_eq!(view.row_count(), 11);
    view.set_search(None).unwrap();
    settle(h);
    view.set_viewport(500..520);
    settle(h);
    assert!(view.row(505).is_some());
    view.set_search(Some("product 99".into())).unwrap();
    settle(h);
    assert_eq!(view.row_count(), 11);
    assert!(
        view.row(505).is_none(),
        "no row of the old query stays shown"
    );
    assert_eq!(view.stats().rows_held, 0);
}

/// A sort made while the debounce still holds a scroll loads the scrolled
/// viewport in the new order: the scroll is not lost.
pub fn a_sort_during_the_debounce_keeps_the_requested_viewport<H: Harness>(h: &H) {
    let debounce = coalescing_debounce(h);
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true)
        .viewport_debounce(debounce)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    view.set_viewport(900..920);
    settle_after(h, debounce);
    master.reset_calls();
    // The UI scrolls to the top, then sorts before the debounce ends.
    view.set_viewport(0..20);
    h.advance(debounce / 5);
    view.set_sort(Some("price".into()), SortDir::Desc).unwrap();
    settle_after(h, debounce);
    assert_eq!(
        windows(&master),
        vec![0..100],
        "no fetch at the old position"
    );
    assert_eq!(view.row(0).unwrap().id, product_id(999));
}

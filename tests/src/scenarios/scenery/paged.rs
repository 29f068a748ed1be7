//! Paged table sceneries: viewport-driven loads, debounce, edge anchoring,
//! failures, unknown totals, in-place updates and paged sorting (issue 5,
//! tests 1–6 and 9–10).

use std::time::Duration;

use diorama_core::dio::DioEvent;
use diorama_core::scenery::{LoadState, RowStatus};
use diorama_core::vista::{SortDir, VistaCapabilities, VistaOp};
use diorama_core::{ErrorKind, record};

use super::support::*;
use crate::harness::Harness;

/// Opening loads the first page only; scrolling to 500..600 loads exactly
/// that window, with one repaint and the viewport events in order.
pub fn open_then_scroll_loads_exactly_the_viewport<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().page_size(100).open())
        .unwrap();
    h.settle();
    assert_eq!(view.row_count(), 1000);
    assert_eq!(view.estimated_total(), Some(1000));
    assert!(!view.has_more());
    assert!(view.rows(0..100).iter().all(Option::is_some));
    assert!(view.row(500).is_none());
    assert_eq!(windows(&master), vec![0..100]);

    let mut events = dio.subscribe_events();
    let before = view.generation();
    view.set_viewport(500..600);
    settle(h);
    assert_eq!(windows(&master), vec![0..100, 500..600]);
    assert_eq!(view.row(550).unwrap().id, product_id(550));
    assert_eq!(view.row(550).unwrap().status, RowStatus::Fresh);
    assert_eq!(view.generation().0, before.0 + 1, "one repaint per chunk");
    let id = view.id();
    assert_eq!(
        viewport_events(&drain(&mut events)),
        vec![
            DioEvent::ViewportChanged {
                scenery: id,
                range: 500..600
            },
            DioEvent::RangeLoaded {
                scenery: id,
                range: 500..600
            },
        ]
    );
    assert_eq!(view.load_state(), LoadState::Partial);
}

/// Ten viewport changes, each within the debounce of the one before,
/// commit (and load) only the last.
pub fn a_burst_of_viewports_commits_only_the_last<H: Harness>(h: &H) {
    let debounce = coalescing_debounce(h);
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true)
        .viewport_debounce(debounce)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    let mut events = dio.subscribe_events();
    for i in 0..10 {
        view.set_viewport(200 + i * 50..300 + i * 50);
        if h.virtual_clock() {
            h.advance(debounce / 5);
        } else {
            // A real clock's `advance` settles too, which on a loaded
            // machine can outlast the debounce and split the burst: sleep
            // only, far within it.
            std::thread::sleep(debounce / 30);
        }
    }
    settle_after(h, debounce);
    let changed: Vec<_> = drain(&mut events)
        .into_iter()
        .filter(|e| matches!(e, DioEvent::ViewportChanged { .. }))
        .collect();
    assert_eq!(
        changed,
        vec![DioEvent::ViewportChanged {
            scenery: view.id(),
            range: 650..750
        }]
    );
    assert_eq!(windows(&master), vec![0..100, 650..750]);
}

/// With a zero debounce a viewport reaches the chunk callback while the
/// clock stands still: no wait stands between `set_viewport` and the load,
/// and its events come in order.
pub fn a_zero_debounce_loads_without_waiting_for_a_timer<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true)
        .viewport_debounce(Duration::ZERO)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    let mut events = dio.subscribe_events();
    let before = h.runtime().now();
    view.set_viewport(500..600);
    h.settle_until("the viewport's chunk landed", || view.row(550).is_some());
    if h.virtual_clock() {
        assert_eq!(h.runtime().now(), before, "the clock did not move");
    }
    assert_eq!(windows(&master), vec![0..100, 500..600]);
    let id = view.id();
    assert_eq!(
        viewport_events(&drain(&mut events)),
        vec![
            DioEvent::ViewportChanged {
                scenery: id,
                range: 500..600
            },
            DioEvent::RangeLoaded {
                scenery: id,
                range: 500..600
            },
        ]
    );
}

/// Fetches start at the viewport edge in the scroll direction, read ahead
/// a page, fill gaps up to loaded rows, stop at the total, and refetch
/// nothing loaded.
pub fn fetch_ranges_are_edge_anchored<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();

    view.set_viewport(547..567);
    settle(h);
    assert_eq!(windows(&master).last(), Some(&(547..647)));

    view.set_viewport(980..1000);
    settle(h);
    assert_eq!(windows(&master).last(), Some(&(980..1000)));

    // Backwards from 980: the 80-row gap up to the loaded 980.. is filled too.
    view.set_viewport(800..900);
    settle(h);
    assert_eq!(windows(&master).last(), Some(&(800..980)));
    // Scrolling back towards loaded rows: ends at the loaded edge (800),
    // reads ahead backwards, refetches nothing loaded.
    view.set_viewport(750..770);
    settle(h);
    assert_eq!(windows(&master).last(), Some(&(700..800)));

    let calls = master.calls(VistaOp::FetchWindow);
    view.set_viewport(1000..1100);
    settle(h);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "past the total: nothing to fetch"
    );
    view.set_viewport(560..600);
    settle(h);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "fully loaded: nothing to fetch"
    );
}

/// A failing chunk publishes `LoadFailed`, changes and repaints nothing,
/// is not retried by any timer, and loads when the viewport asks again.
pub fn a_failing_chunk_changes_nothing_and_is_retried_on_demand_only<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    let before = view.rows(0..100);
    let generation = view.generation();
    let mut events = dio.subscribe_events();

    master.fail_next(VistaOp::FetchWindow, 1);
    view.set_viewport(300..400);
    settle(h);
    let failed: Vec<_> = drain(&mut events)
        .into_iter()
        .filter(|e| matches!(e, DioEvent::LoadFailed { .. }))
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        matches!(&failed[0], DioEvent::LoadFailed { range, error, .. } if *range == (300..400) && error.kind() == ErrorKind::Failed)
    );
    assert_eq!(
        view.generation(),
        generation,
        "no repaint for a failed chunk"
    );
    assert_eq!(view.rows(0..100), before);
    assert!(view.row(300).is_none());

    let calls = master.calls(VistaOp::FetchWindow);
    h.advance(h.scaled(Duration::from_secs(3600)));
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "no timer retries"
    );

    view.set_viewport(310..400);
    settle(h);
    view.set_viewport(300..400);
    settle(h);
    assert!(view.rows(300..400).iter().all(Option::is_some));
}

/// Without a total, the row count grows a page at a time on demand and a
/// short page ends the set.
pub fn unknown_totals_grow_and_stop_at_a_short_page<H: Harness>(h: &H) {
    let master = products(250);
    let lens = chunked_lens(h, h.backend(), false).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    assert_eq!(view.row_count(), 100);
    assert!(view.has_more());
    assert_eq!(view.estimated_total(), None);

    view.request_load_more();
    settle(h);
    assert_eq!(view.row_count(), 200);
    assert!(view.has_more(), "a full page at the end extends the set");

    view.request_load_more();
    settle(h);
    assert_eq!(view.row_count(), 250);
    assert!(!view.has_more(), "a short page ends the set");
    assert_eq!(view.estimated_total(), Some(250));
    assert_eq!(view.load_state(), LoadState::Complete);
    assert_eq!(windows(&master), vec![0..100, 100..200, 200..300]);
}

/// A total provider promising 1000 rows of a 250-row source: the count is
/// capped once the source comes up short, and nothing past it is asked.
pub fn a_source_promising_more_than_it_serves_is_capped<H: Harness>(h: &H) {
    let master = products(250);
    let lens = chunked_lens(h, h.backend(), false)
        .total_provider(|_, _| async { Ok(1000) })
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    assert_eq!(view.row_count(), 1000);
    let mut attempts = 0;
    while view.row_count() == 1000 {
        attempts += 1;
        assert!(attempts <= 10, "the stated total was never capped");
        view.set_viewport(250..350);
        settle(h);
        view.set_viewport(240..260);
        settle(h);
    }
    assert_eq!(view.row_count(), 250);
    assert!(!view.has_more());
    view.set_viewport(250..350);
    let calls = master.calls(VistaOp::FetchWindow);
    settle(h);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "no more attempts past the cap"
    );
}

/// A `patched` row changes in place: no row moves, the merge shows, one
/// repaint.
pub fn a_single_row_event_updates_that_row_in_place<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    view.set_viewport(500..600);
    settle(h);
    let before = ids(&view, 0..1000);
    let generation = view.generation();

    dio.patched(product_id(550), record! { "price" => 1.25 })
        .unwrap();
    h.settle();
    assert_eq!(ids(&view, 0..1000), before, "no row moved");
    let row = view.row(550).unwrap();
    assert_eq!(row.record.get("price"), Some(&1.25.into()));
    assert_eq!(row.record.get("name"), Some(&"Product 550".into()));
    assert!(view.generation() > generation);
}

/// Sorting a paged view asks the master for the first window in the new
/// order and drops every row placed by the old one.
pub fn paged_sort_refills_the_window_in_the_new_order<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    view.set_sort(Some("price".into()), SortDir::Desc).unwrap();
    settle(h);
    let (query, offset, limit) = master.windows().last().cloned().unwrap();
    assert_eq!(
        query.sort.as_ref().map(|s| (s.field.as_str(), s.dir)),
        Some(("price", SortDir::Desc))
    );
    assert_eq!((offset, limit), (0, 100));
    let expected: Vec<_> = (0..100).map(|i| Some(product_id(999 - i))).collect();
    assert_eq!(ids(&view, 0..100), expected);
    assert!(
        view.rows(100..1000).iter().all(Option::is_none),
        "no row at a position of the old order"
    );
}

/// A paged view over a master that cannot order or search refuses sort and
/// search with `Unsupported`.
pub fn sorting_a_paged_view_without_an_ordering_master_is_refused<H: Harness>(h: &H) {
    let master = products(100).with_capabilities(VistaCapabilities {
        can_order: false,
        can_search: false,
        ..VistaCapabilities::ALL
    });
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    let err = view
        .set_sort(Some("price".into()), SortDir::Asc)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(
        view.set_search(Some("x".into())).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

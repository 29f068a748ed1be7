//! Table scenery acceptance scenarios on the simulator with the memory backend
//! (issue 5, tests 1–6 and 9–11, 13).

mod scenery;

use std::time::Duration;

use diorama_core::dio::DioEvent;
use diorama_core::scenery::{LoadState, RowStatus};
use diorama_core::sim::SimRuntime;
use diorama_core::vista::{SortDir, VistaOp};
use diorama_core::{ErrorKind, Vista, record};
use scenery::*;

#[test]
fn open_then_scroll_loads_exactly_the_viewport() {
    let sim = SimRuntime::new(1);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim
        .block_on(dio.table_scenery().page_size(100).open())
        .unwrap();
    sim.run_until_idle();
    assert_eq!(view.row_count(), 1000);
    assert_eq!(view.estimated_total(), Some(1000));
    assert!(!view.has_more());
    assert!(view.rows(0..100).iter().all(Option::is_some));
    assert!(view.row(500).is_none());
    assert_eq!(windows(&master), vec![0..100]);

    let mut events = dio.subscribe_events();
    let before = view.generation();
    view.set_viewport(500..600);
    settle(&sim);
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

#[test]
fn a_burst_of_viewports_commits_only_the_last() {
    let sim = SimRuntime::new(2);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    let mut events = dio.subscribe_events();
    for i in 0..10 {
        view.set_viewport(200 + i * 50..300 + i * 50);
        sim.advance(Duration::from_millis(10));
    }
    settle(&sim);
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

#[test]
fn fetch_ranges_are_edge_anchored() {
    let sim = SimRuntime::new(3);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();

    view.set_viewport(547..567);
    settle(&sim);
    assert_eq!(windows(&master).last(), Some(&(547..647)));

    view.set_viewport(980..1000);
    settle(&sim);
    assert_eq!(windows(&master).last(), Some(&(980..1000)));

    // Backwards from 980: the 80-row gap up to the loaded 980.. is filled too.
    view.set_viewport(800..900);
    settle(&sim);
    assert_eq!(windows(&master).last(), Some(&(800..980)));
    // Scrolling back towards loaded rows: ends at the loaded edge (800),
    // reads ahead backwards, refetches nothing loaded.
    view.set_viewport(750..770);
    settle(&sim);
    assert_eq!(windows(&master).last(), Some(&(700..800)));

    let calls = master.calls(VistaOp::FetchWindow);
    view.set_viewport(1000..1100);
    settle(&sim);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "past the total: nothing to fetch"
    );
    view.set_viewport(560..600);
    settle(&sim);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "fully loaded: nothing to fetch"
    );
}

#[test]
fn a_failing_chunk_changes_nothing_and_is_retried_on_demand_only() {
    let sim = SimRuntime::new(4);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    let before = view.rows(0..100);
    let generation = view.generation();
    let mut events = dio.subscribe_events();

    master.fail_next(VistaOp::FetchWindow, 1);
    view.set_viewport(300..400);
    settle(&sim);
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
    sim.advance(Duration::from_secs(3600));
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "no timer retries"
    );

    view.set_viewport(310..400);
    settle(&sim);
    view.set_viewport(300..400);
    settle(&sim);
    assert!(view.rows(300..400).iter().all(Option::is_some));
}

#[test]
fn unknown_totals_grow_and_stop_at_a_short_page() {
    let sim = SimRuntime::new(5);
    let master = products(250);
    let lens = chunked_lens(&sim, memory(), false).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    assert_eq!(view.row_count(), 100);
    assert!(view.has_more());
    assert_eq!(view.estimated_total(), None);

    view.request_load_more();
    settle(&sim);
    assert_eq!(view.row_count(), 200);
    assert!(view.has_more(), "a full page at the end extends the set");

    view.request_load_more();
    settle(&sim);
    assert_eq!(view.row_count(), 250);
    assert!(!view.has_more(), "a short page ends the set");
    assert_eq!(view.estimated_total(), Some(250));
    assert_eq!(view.load_state(), LoadState::Complete);
    assert_eq!(windows(&master), vec![0..100, 100..200, 200..300]);
}

#[test]
fn a_source_promising_more_than_it_serves_is_capped() {
    let sim = SimRuntime::new(15);
    let master = products(250);
    let lens = chunked_lens(&sim, memory(), false)
        .total_provider(|_, _| async { Ok(1000) })
        .build()
        .unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    assert_eq!(view.row_count(), 1000);
    let mut attempts = 0;
    while view.row_count() == 1000 {
        attempts += 1;
        assert!(attempts <= 10, "the stated total was never capped");
        view.set_viewport(250..350);
        settle(&sim);
        view.set_viewport(240..260);
        settle(&sim);
    }
    assert_eq!(view.row_count(), 250);
    assert!(!view.has_more());
    view.set_viewport(250..350);
    let calls = master.calls(VistaOp::FetchWindow);
    settle(&sim);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls,
        "no more attempts past the cap"
    );
}

#[test]
fn a_single_row_event_updates_that_row_in_place() {
    let sim = SimRuntime::new(6);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    view.set_viewport(500..600);
    settle(&sim);
    let before = ids(&view, 0..1000);
    let generation = view.generation();

    sim.block_on(dio.patched(product_id(550), record! { "price" => 1.25 }))
        .unwrap();
    sim.run_until_idle();
    assert_eq!(ids(&view, 0..1000), before, "no row moved");
    let row = view.row(550).unwrap();
    assert_eq!(row.record.get("price"), Some(&1.25.into()));
    assert_eq!(row.record.get("name"), Some(&"Product 550".into()));
    assert!(view.generation() > generation);
}

#[test]
fn paged_sort_refills_the_window_in_the_new_order() {
    let sim = SimRuntime::new(9);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    view.set_sort(Some("price".into()), SortDir::Desc).unwrap();
    settle(&sim);
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

#[test]
fn sorting_a_paged_view_without_an_ordering_master_is_refused() {
    let sim = SimRuntime::new(10);
    let master = products(100).with_capabilities(diorama_core::VistaCapabilities {
        can_order: false,
        can_search: false,
        ..all_caps()
    });
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    let err = view
        .set_sort(Some("price".into()), SortDir::Asc)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(
        view.set_search(Some("x".into())).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let _ = Vista::new(master);
}

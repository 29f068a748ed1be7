//! Scenery acceptance scenarios on the simulator with the memory backend
//! (issue 5, tests 7, 8 and 10–13).

mod scenery;

use std::time::Duration;

use diorama_core::scenery::{LoadState, RecordStatus, RowStatus, ValueStatus};
use diorama_core::sim::SimRuntime;
use diorama_core::vista::{SortDir, VistaOp};
use diorama_core::{MemoryVista, Value, Vista, record};
use scenery::*;

#[test]
fn optimistic_writes_show_pending_then_fresh_or_the_failure() {
    let sim = SimRuntime::new(7);
    let master = products(300);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();

    master.hold();
    dio.try_patch(product_id(5), record! { "price" => 99 })
        .unwrap();
    sim.run_until_idle();
    let row = view.row(5).unwrap();
    assert_eq!(row.status, RowStatus::PendingWrite);
    assert_eq!(row.record.get("price"), Some(&Value::from(99)));
    master.release();
    sim.run_until_idle();
    let row = view.row(5).unwrap();
    assert_eq!(row.status, RowStatus::Fresh);
    assert_eq!(row.record.get("price"), Some(&Value::from(99)));

    master.fail_next(VistaOp::Patch, 1);
    master.hold();
    dio.try_patch(product_id(6), record! { "price" => 1 })
        .unwrap();
    sim.run_until_idle();
    assert_eq!(view.row(6).unwrap().status, RowStatus::PendingWrite);
    master.release();
    sim.run_until_idle();
    let row = view.row(6).unwrap();
    assert!(
        matches!(row.status, RowStatus::WriteFailed { .. }),
        "{:?}",
        row.status
    );
    assert_eq!(row.record, product(6), "the previous value is shown");
    assert_eq!(view.row(5).unwrap().status, RowStatus::Fresh);
}

#[test]
fn local_sort_is_numeric_nulls_last_ties_by_id_and_search_reaches_nested_text() {
    let sim = SimRuntime::new(8);
    let master = MemoryVista::new("items").with_rows([
        ("a", record! { "price" => 10, "tags" => Value::Array(vec!["Garden".into()]) }),
        ("b", record! { "price" => 2.5 }),
        ("c", record! { "price" => Value::Null }),
        ("d", record! { "price" => 10.0 }),
        ("e", record! { "name" => "no price" }),
        ("f", record! { "price" => -1, "meta" => Value::Map(vec![("note".into(), "LAMP shade".into())]) }),
    ]);
    let lens = local_lens(&sim, memory()).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim
        .block_on(dio.table_scenery().sort("price", SortDir::Asc).open())
        .unwrap();
    assert_eq!(view.load_state(), LoadState::Complete);
    let order = |view: &diorama_core::TableScenery| -> Vec<String> {
        (0..view.row_count())
            .map(|i| view.row(i).unwrap().id.clone())
            .collect()
    };
    assert_eq!(order(&view), ["f", "b", "a", "d", "c", "e"]);

    view.set_sort(Some("price".into()), SortDir::Desc).unwrap();
    sim.run_until_idle();
    assert_eq!(
        order(&view),
        ["a", "d", "b", "f", "c", "e"],
        "nulls last and ties by id in both directions"
    );

    view.set_search(Some("lamp".into())).unwrap();
    sim.run_until_idle();
    assert_eq!(order(&view), ["f"]);
    view.set_search(Some("GARD".into())).unwrap();
    sim.run_until_idle();
    assert_eq!(order(&view), ["a"]);
    view.set_search(Some("2.5".into())).unwrap();
    sim.run_until_idle();
    assert_eq!(order(&view), ["b"]);
    assert_eq!(master.calls(VistaOp::FetchWindow), 0);
}

#[test]
fn local_views_re_place_a_changed_row_where_the_sort_puts_it() {
    let sim = SimRuntime::new(18);
    let master = products(10);
    let lens = local_lens(&sim, memory()).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim
        .block_on(dio.table_scenery().sort("price", SortDir::Asc).open())
        .unwrap();
    assert_eq!(view.row(0).unwrap().id, product_id(0));
    sim.block_on(dio.patched(product_id(0), record! { "price" => 1000 }))
        .unwrap();
    sim.run_until_idle();
    assert_eq!(view.row(9).unwrap().id, product_id(0));
    assert_eq!(view.row(0).unwrap().id, product_id(1));
    sim.block_on(dio.removed(product_id(5))).unwrap();
    sim.run_until_idle();
    assert_eq!(view.row_count(), 9);
    assert_eq!(view.index_of(&product_id(5)), None);
}

#[test]
fn a_reopen_shows_rows_at_their_positions_before_any_chunk_call() {
    let sim = SimRuntime::new(10);
    let master = products(1000);
    let backend = memory();
    {
        let lens = paged_lens(&sim, backend.clone(), true).build().unwrap();
        let dio = open_dio(&sim, &lens, &master);
        let view = sim.block_on(dio.table_scenery().open()).unwrap();
        sim.run_until_idle();
        view.set_viewport(500..600);
        settle(&sim);
        sim.block_on(dio.shutdown()).unwrap();
    }
    sim.run_until_idle();
    master.reset_calls();

    // A new Lens over the same cache, with no initial refresh.
    let lens = paged_lens(&sim, backend, false)
        .refresh_on_open(false)
        .build()
        .unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim
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
    settle(&sim);
    assert_eq!(master.total_calls(), 0);
    assert_eq!(view.row(42).unwrap().id, product_id(42));
}

#[test]
fn rows_past_the_ttl_read_stale_and_are_refetched_once_when_reached() {
    let sim = SimRuntime::new(11);
    let master = products(300);
    let lens = paged_lens(&sim, memory(), true)
        .cache_ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    assert_eq!(view.row(10).unwrap().status, RowStatus::Fresh);
    let generation = view.generation();
    sim.advance(Duration::from_secs(61));
    assert_eq!(view.row(10).unwrap().status, RowStatus::Stale);
    assert!(view.generation() > generation);

    let calls = master.calls(VistaOp::FetchWindow);
    view.set_viewport(0..50);
    settle(&sim);
    assert_eq!(master.calls(VistaOp::FetchWindow), calls + 1);
    assert_eq!(view.row(10).unwrap().status, RowStatus::Fresh);
    view.set_viewport(0..40);
    settle(&sim);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls + 1,
        "refetched once"
    );
}

#[test]
fn record_scenery_fetches_on_a_miss_and_follows_its_row_only() {
    let sim = SimRuntime::new(12);
    let master = products(10);
    let lens = paged_lens(&sim, memory(), false).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let record = sim.block_on(dio.record_scenery(product_id(3)));
    assert_eq!(record.status(), RecordStatus::Loading);
    sim.run_until_idle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(record.record().unwrap().record, product(3));
    assert_eq!(master.calls(VistaOp::Get), 1);

    let generation = record.generation();
    sim.block_on(dio.patched(product_id(4), record! { "price" => 1 }))
        .unwrap();
    sim.run_until_idle();
    assert_eq!(
        record.generation(),
        generation,
        "another row's event does not bump"
    );

    sim.block_on(dio.removed(product_id(3))).unwrap();
    sim.run_until_idle();
    assert_eq!(record.status(), RecordStatus::NotFound);

    let missing = sim.block_on(dio.record_scenery("nope"));
    sim.run_until_idle();
    assert_eq!(missing.status(), RecordStatus::NotFound);
}

#[test]
fn value_scenery_sums_ints_and_floats_and_bumps_only_on_change() {
    let sim = SimRuntime::new(13);
    let master = MemoryVista::new("m").with_rows([
        ("a", record! { "n" => 1 }),
        ("b", record! { "n" => 2.5 }),
        ("c", record! { "n" => Value::Null }),
        ("d", record! { "x" => 1 }),
    ]);
    let lens = local_lens(&sim, memory()).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let sum = sim.block_on(dio.value_scenery().sum("n"));
    assert_eq!(sum.value(), Some(Value::Float(3.5)));
    assert_eq!(sum.status(), ValueStatus::Ready);
    let count = sim.block_on(dio.value_scenery().count());
    assert_eq!(count.value(), Some(Value::from(4)));

    let generation = sum.generation();
    sim.block_on(dio.patched("d", record! { "x" => 2 }))
        .unwrap();
    sim.run_until_idle();
    assert_eq!(sum.generation(), generation, "unchanged value, no bump");

    sim.block_on(dio.patched("a", record! { "n" => 3 }))
        .unwrap();
    sim.run_until_idle();
    assert_eq!(sum.value(), Some(Value::Float(5.5)));
    assert!(sum.generation() > generation);

    sim.block_on(dio.patched("c", record! { "n" => "oops" }))
        .unwrap();
    sim.run_until_idle();
    assert!(matches!(sum.status(), ValueStatus::Failed { .. }));
    assert_eq!(
        sum.value(),
        Some(Value::Float(5.5)),
        "an error keeps the last value"
    );
}

#[test]
fn dropping_a_scenery_ends_its_tasks_and_sceneries_do_not_pin_the_dio() {
    let sim = SimRuntime::new(14);
    let master = products(300);
    let lens = paged_lens(&sim, memory(), true)
        .cache_ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let dio = open_dio(&sim, &lens, &master);
    sim.run_until_idle();
    let baseline = sim.live_tasks().len();
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    let record = sim.block_on(dio.record_scenery(product_id(1)));
    let value = sim.block_on(dio.value_scenery().count());
    sim.run_until_idle();
    assert!(sim.live_tasks().len() > baseline);
    drop((view, record, value));
    sim.run_until_idle();
    assert_eq!(
        sim.live_tasks().len(),
        baseline,
        "live: {:?}",
        sim.live_tasks()
    );

    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    drop(dio);
    sim.run_until_idle();
    assert!(
        sim.live_tasks()
            .iter()
            .all(|name| name.starts_with("diorama.table")),
        "the Dio's worker ended: {:?}",
        sim.live_tasks()
    );
    // The view outlives its Dio harmlessly: reads work, loads do nothing.
    assert!(view.row(0).is_some());
    view.set_viewport(200..300);
    settle(&sim);
    assert!(view.row(250).is_none());
    drop(view);
    sim.run_until_idle();
    assert!(sim.live_tasks().is_empty(), "live: {:?}", sim.live_tasks());
    let _ = Vista::new(master);
}

//! More scenery behaviour on the simulator: invalidation, sink lifetime,
//! paged search, record writes and the other aggregates.

mod scenery;

use std::sync::{Arc, Mutex};

use diorama_core::dio::DioEvent;
use diorama_core::scenery::{ChunkSink, RecordStatus, RowStatus, ValueStatus};
use diorama_core::sim::SimRuntime;
use diorama_core::vista::{CmpOp, VistaOp};
use diorama_core::{ErrorKind, Lens, MemoryVista, Value, Vista, record};
use scenery::*;

#[test]
fn invalidation_refetches_the_viewport_in_place_with_one_repaint() {
    let sim = SimRuntime::new(21);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    view.set_viewport(400..450);
    settle(&sim);
    master.put_row(product_id(410), record! { "name" => "renamed" });
    let generation = view.generation();
    let calls = master.calls(VistaOp::FetchWindow);

    dio.publish(DioEvent::Refreshing);
    sim.run_until_idle();
    assert_eq!(
        view.generation(),
        generation,
        "Refreshing alone changes nothing visible"
    );

    master.hold();
    dio.invalidate_all();
    sim.run_until_idle();
    assert_eq!(
        view.row(410).unwrap().record,
        product(410),
        "rows stay visible meanwhile"
    );
    master.release();
    sim.run_until_idle();
    assert_eq!(master.calls(VistaOp::FetchWindow), calls + 1);
    assert_eq!(
        view.row(410).unwrap().record,
        record! { "name" => "renamed" }
    );
    assert_eq!(view.row(410).unwrap().status, RowStatus::Fresh);
    assert_eq!(view.generation().0, generation.0 + 1, "one repaint");
    assert_eq!(
        view.row(10).unwrap().status,
        RowStatus::Stale,
        "rows away from the viewport are stale"
    );
}

#[test]
fn a_push_after_the_scenery_dropped_is_refused() {
    let sim = SimRuntime::new(22);
    let kept: Arc<Mutex<Option<ChunkSink>>> = Arc::default();
    let keep = kept.clone();
    let lens = Lens::builder()
        .cache_source(memory())
        .runtime(sim.runtime())
        .on_load_chunk(move |_dio, _range, _query, sink| {
            *keep.lock().unwrap() = Some(sink.clone());
            async move { sink.push(0, "a", record! { "n" => 1 }).await }
        })
        .build()
        .unwrap();
    let dio = open_dio(&sim, &lens, &MemoryVista::new("t"));
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    assert_eq!(view.row(0).unwrap().id, "a");
    drop(view);
    let sink = kept.lock().unwrap().take().unwrap();
    let err = sim
        .block_on(sink.push(1, "b", record! { "n" => 2 }))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}

#[test]
fn paged_search_passes_the_query_to_the_chunk_callback() {
    let sim = SimRuntime::new(23);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    view.set_search(Some("product 99".into())).unwrap();
    settle(&sim);
    let (query, _, _) = master.windows().last().cloned().unwrap();
    assert_eq!(query.search.as_deref(), Some("product 99"));
    // "Product 99" and "Product 990".."Product 999".
    assert_eq!(view.row_count(), 11);
    let shown: Vec<_> = (0..11).map(|i| view.row(i).unwrap().id.clone()).collect();
    assert!(shown.contains(&product_id(99)) && shown.contains(&product_id(995)));
    assert!(view.row(11).is_none());
}

#[test]
fn record_scenery_shows_its_own_writes_pending_then_settled() {
    let sim = SimRuntime::new(24);
    let master = products(10);
    let lens = local_lens(&sim, memory()).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let record = sim.block_on(dio.record_scenery(product_id(2)));
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(master.calls(VistaOp::Get), 0, "served from the cache");

    master.hold();
    dio.try_patch(product_id(2), record! { "stock" => 100 })
        .unwrap();
    sim.run_until_idle();
    assert_eq!(record.status(), RecordStatus::PendingWrite);
    assert_eq!(
        record.record().unwrap().record.get("stock"),
        Some(&Value::from(100))
    );
    master.release();
    sim.run_until_idle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(
        record.record().unwrap().record.get("stock"),
        Some(&Value::from(100))
    );

    master.fail_next(VistaOp::Patch, 1);
    dio.try_patch(product_id(2), record! { "stock" => 5 })
        .unwrap();
    sim.run_until_idle();
    assert!(matches!(record.status(), RecordStatus::WriteFailed { .. }));
    assert_eq!(
        record.record().unwrap().record.get("stock"),
        Some(&Value::from(100))
    );
}

#[test]
fn record_scenery_with_a_start_value_does_not_fetch() {
    let sim = SimRuntime::new(25);
    let master = products(3);
    let lens = local_lens(&sim, memory()).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let record = dio.record_scenery_with("x", record! { "n" => 1 });
    sim.run_until_idle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(master.calls(VistaOp::Get), 0);
}

#[test]
fn other_aggregates() {
    let sim = SimRuntime::new(26);
    let master = MemoryVista::new("m").with_rows([
        ("a", record! { "n" => 3, "kind" => "x" }),
        ("b", record! { "n" => -2.5, "kind" => "y" }),
        ("c", record! { "n" => 7, "kind" => "x" }),
        ("d", record! { "kind" => "x" }),
    ]);
    let lens = local_lens(&sim, memory()).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let min = sim.block_on(dio.value_scenery().min("n"));
    let max = sim.block_on(dio.value_scenery().max("n"));
    let xs = sim.block_on(dio.value_scenery().count_where("kind", CmpOp::Eq, "x"));
    let ints = sim.block_on(dio.value_scenery().where_eq("kind", "x").sum("n"));
    let ids = sim.block_on(dio.value_scenery().custom(|rows| {
        Ok(Value::Array(
            rows.iter()
                .map(|(id, _)| Value::from(id.as_str()))
                .collect(),
        ))
    }));
    assert_eq!(min.value(), Some(Value::Float(-2.5)));
    assert_eq!(max.value(), Some(Value::from(7)));
    assert_eq!(xs.value(), Some(Value::from(3)));
    assert_eq!(ints.value(), Some(Value::from(10)));
    assert_eq!(
        ids.value(),
        Some(Value::Array(vec![
            "a".into(),
            "b".into(),
            "c".into(),
            "d".into()
        ]))
    );
    assert_eq!(min.status(), ValueStatus::Ready);

    let generation = xs.generation();
    dio.publish(DioEvent::ViewportChanged {
        scenery: 99,
        range: 0..1,
    });
    sim.run_until_idle();
    assert_eq!(
        xs.generation(),
        generation,
        "viewport events are not relevant"
    );
    sim.block_on(dio.removed("a")).unwrap();
    sim.run_until_idle();
    assert_eq!(xs.value(), Some(Value::from(2)));
    assert_eq!(ints.value(), Some(Value::from(7)));
    let _ = Vista::new(master);
}

#[test]
fn a_query_change_loads_the_latest_requested_viewport_only() {
    let sim = SimRuntime::new(27);
    let master = products(1000);
    let lens = paged_lens(&sim, memory(), true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    view.set_viewport(900..920);
    settle(&sim);
    master.reset_calls();
    let before = windows(&master).len();
    // The UI jumps to the top and sorts in the same frame.
    view.set_viewport(0..20);
    view.set_sort(Some("price".into()), diorama_core::vista::SortDir::Desc)
        .unwrap();
    settle(&sim);
    let loaded: Vec<_> = windows(&master).into_iter().skip(before).collect();
    assert_eq!(loaded, vec![0..100], "no fetch at the old position");
    assert_eq!(view.row(0).unwrap().id, product_id(999));
}

#[test]
fn a_viewport_past_the_end_of_a_new_query_drops_the_old_rows() {
    let sim = SimRuntime::new(28);
    let master = products(1000);
    let backend = memory();
    let lens = paged_lens(&sim, backend, true).build().unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    sim.run_until_idle();
    // Learn the search's total once (a warm cache for that query).
    view.set_search(Some("product 99".into())).unwrap();
    settle(&sim);
    assert_eq!(view.row_count(), 11);
    view.set_search(None).unwrap();
    settle(&sim);
    view.set_viewport(500..520);
    settle(&sim);
    assert!(view.row(505).is_some());
    view.set_search(Some("product 99".into())).unwrap();
    settle(&sim);
    assert_eq!(view.row_count(), 11);
    assert!(
        view.row(505).is_none(),
        "no row of the old query stays shown"
    );
    assert_eq!(view.stats().rows_held, 0);
}

#[test]
fn a_warm_open_paints_before_asking_for_the_total() {
    let sim = SimRuntime::new(29);
    let master = products(1000);
    let backend = memory();
    {
        let lens = paged_lens(&sim, backend.clone(), true).build().unwrap();
        let dio = open_dio(&sim, &lens, &master);
        let _view = sim.block_on(dio.table_scenery().open()).unwrap();
        sim.run_until_idle();
        sim.block_on(dio.shutdown()).unwrap();
    }
    sim.run_until_idle();
    master.reset_calls();
    master.put_row("p9999", product(9999));
    let lens = paged_lens(&sim, backend, true)
        .refresh_on_open(false)
        .build()
        .unwrap();
    let dio = open_dio(&sim, &lens, &master);
    let view = sim.block_on(dio.table_scenery().open()).unwrap();
    assert_eq!(
        master.total_calls(),
        0,
        "open returned before any master call"
    );
    assert_eq!(view.row_count(), 1000, "the persisted total");
    assert_eq!(view.row(3).unwrap().id, product_id(3));
    sim.run_until_idle();
    assert_eq!(
        master.calls(VistaOp::Count),
        1,
        "the total is asked for in the background"
    );
    assert_eq!(view.row_count(), 1001);
}

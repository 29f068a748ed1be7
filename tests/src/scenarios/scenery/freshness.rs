//! Staleness: TTL expiry and invalidation (issue 5, tests 7 and 13).

use std::time::Duration;

use diorama_core::dio::DioEvent;
use diorama_core::scenery::RowStatus;
use diorama_core::vista::VistaOp;
use diorama_core::{RuntimeExt, record};
use futures_lite::future;

use super::support::*;
use crate::harness::Harness;

/// Rows older than the TTL turn `Stale` (with a repaint) and are refetched
/// once when the viewport reaches them.
pub fn rows_past_the_ttl_read_stale_and_are_refetched_once_when_reached<H: Harness>(h: &H) {
    // Two hours: scaled down on a real clock, still far longer than a
    // settle, so rows read fresh until the clock is moved past it.
    let ttl = h.scaled(Duration::from_secs(7200));
    let master = products(300);
    let lens = paged_lens(h, h.backend(), true)
        .cache_ttl(ttl)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    assert_eq!(view.row(10).unwrap().status, RowStatus::Fresh);
    let generation = view.generation();
    h.advance(ttl + h.scaled(Duration::from_secs(60)));
    assert_eq!(view.row(10).unwrap().status, RowStatus::Stale);
    assert!(view.generation() > generation);

    let calls = master.calls(VistaOp::FetchWindow);
    view.set_viewport(0..50);
    settle(h);
    assert_eq!(master.calls(VistaOp::FetchWindow), calls + 1);
    assert_eq!(view.row(10).unwrap().status, RowStatus::Fresh);
    view.set_viewport(0..40);
    settle(h);
    assert_eq!(
        master.calls(VistaOp::FetchWindow),
        calls + 1,
        "refetched once"
    );
}

/// `invalidate_all` refetches the viewport in place: rows stay visible
/// meanwhile, one repaint when the new rows land, rows away from the
/// viewport read `Stale`. `Refreshing` alone changes nothing visible.
pub fn invalidation_refetches_the_viewport_in_place_with_one_repaint<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true)
        // A refresh that never ends: only its `Refreshing` is published.
        .on_refresh(|_dio| future::pending())
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    view.set_viewport(400..450);
    settle(h);
    master.put_row(product_id(410), record! { "name" => "renamed" });
    let generation = view.generation();
    let calls = master.calls(VistaOp::FetchWindow);

    let mut events = dio.subscribe_events();
    let refresh = {
        let dio = dio.clone();
        h.runtime().spawn("test.refresh", async move {
            let _ = dio.refresh().await;
        })
    };
    h.settle();
    assert_eq!(events.try_recv(), Ok(DioEvent::Refreshing));
    assert_eq!(
        view.generation(),
        generation,
        "Refreshing alone changes nothing visible"
    );
    refresh.abort();
    h.settle();

    master.hold();
    dio.invalidate_all();
    h.settle();
    assert_eq!(
        view.row(410).unwrap().record,
        product(410),
        "rows stay visible meanwhile"
    );
    assert_eq!(
        view.row(410).unwrap().status,
        RowStatus::Loading,
        "being refetched"
    );
    assert_eq!(view.generation(), generation, "no repaint before they land");
    master.release();
    h.settle();
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

/// A stale row inside a chunk load in flight reads `Loading` (its old
/// value shown, with a repaint so a UI can mark it), then `Fresh` when the
/// chunk lands; when the refetch fails it reads `Stale` again.
pub fn a_stale_row_being_refetched_reads_loading<H: Harness>(h: &H) {
    let ttl = h.scaled(Duration::from_secs(7200));
    let master = products(300);
    let lens = paged_lens(h, h.backend(), true)
        .cache_ttl(ttl)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    h.advance(ttl + h.scaled(Duration::from_secs(60)));
    assert_eq!(view.row(10).unwrap().status, RowStatus::Stale);

    master.hold();
    let generation = view.generation();
    view.set_viewport(0..50);
    settle(h);
    let row = view.row(10).unwrap();
    assert_eq!(row.status, RowStatus::Loading);
    assert_eq!(row.record, product(10), "the old value is still shown");
    assert!(view.generation() > generation, "a repaint shows it");
    master.release();
    settle(h);
    assert_eq!(view.row(10).unwrap().status, RowStatus::Fresh);

    h.advance(ttl + h.scaled(Duration::from_secs(60)));
    assert_eq!(view.row(10).unwrap().status, RowStatus::Stale);
    let mut events = dio.subscribe_events();
    master.fail_next(VistaOp::FetchWindow, 1);
    view.set_viewport(0..40);
    settle(h);
    let failed = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|event| matches!(event, DioEvent::LoadFailed { .. }))
        .count();
    assert_eq!(failed, 1);
    let row = view.row(10).unwrap();
    assert_eq!(row.status, RowStatus::Stale, "the failed refetch ended");
    assert_eq!(row.record, product(10));
}

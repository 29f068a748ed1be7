//! List/detail hydration (issue 15, `LensBuilder::on_load_detail`): rows a
//! list window delivers read `Incomplete` until a viewport reaches them and
//! their detail loads; one call per id across sceneries, bounded, withdrawn
//! with a dropped scenery, failures shown and retried on the next reach,
//! and a reopen shows hydrated rows without any call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diorama_core::scenery::RowStatus;
use diorama_core::vista::{MemoryVista, VistaOp};
use diorama_core::{CacheBackend, Error, LensBuilder, TableScenery, Vista, record};

use super::support::*;
use crate::harness::Harness;

/// The detail API: the full row of each product, with a description the
/// list does not serve.
fn details(n: usize) -> MemoryVista {
    MemoryVista::new("product_details").with_rows((0..n).map(|i| {
        (
            product_id(i),
            record! { "name" => format!("Product {i}"), "description" => format!("About product {i}") },
        )
    }))
}

/// The most detail calls seen running at once.
#[derive(Clone, Default)]
struct Concurrency {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

/// A paged Lens over `backend` whose details come from `details`' `get`,
/// at most `limit` at once, measuring the concurrency into `seen`.
fn detail_lens<H: Harness>(
    h: &H,
    backend: Arc<dyn CacheBackend>,
    with_total: bool,
    details: &MemoryVista,
    limit: usize,
    seen: &Concurrency,
) -> LensBuilder {
    let source = Vista::new(details.clone());
    let seen = seen.clone();
    paged_lens(h, backend, with_total)
        .detail_concurrency(limit)
        .on_load_detail(move |_dio, id| {
            let source = source.clone();
            let seen = seen.clone();
            async move {
                let running = seen.now.fetch_add(1, Ordering::SeqCst) + 1;
                seen.max.fetch_max(running, Ordering::SeqCst);
                let row = source.get(&id).await;
                seen.now.fetch_sub(1, Ordering::SeqCst);
                row?.ok_or_else(|| Error::not_found(format!("no detail for {id}")))
            }
        })
}

/// A Dio over 200 products and their details that hydrates at most
/// `limit` rows at once (concurrency measured into `seen`).
struct Hydrating {
    details: MemoryVista,
    seen: Concurrency,
    dio: diorama_core::Dio,
}

fn hydrating<H: Harness>(h: &H, limit: usize) -> Hydrating {
    let master = products(200);
    let details = details(200);
    let seen = Concurrency::default();
    let lens = detail_lens(h, h.backend(), true, &details, limit, &seen)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    Hydrating { details, seen, dio }
}

fn statuses(view: &TableScenery, range: std::ops::Range<usize>) -> Vec<Option<RowStatus>> {
    view.rows(range)
        .into_iter()
        .map(|row| row.map(|row| row.status.clone()))
        .collect()
}

fn all(status: RowStatus, n: usize) -> Vec<Option<RowStatus>> {
    vec![Some(status); n]
}

/// Rows read `Incomplete` while their details are held, `Fresh` with the
/// detail's fields merged over the list's once they load; rows the chunk
/// delivered outside the viewport stay incomplete and are never called for.
pub fn summary_rows_read_incomplete_until_a_viewport_reaches_them_then_fresh<H: Harness>(h: &H) {
    let Hydrating { details, dio, .. } = hydrating(h, 4);
    details.hold();
    // The first chunk loads a page (0..100); the viewport is 0..10.
    let view = h
        .block_on(dio.table_scenery().initial_range(0..10).open())
        .unwrap();
    settle(h);
    assert_eq!(statuses(&view, 0..10), all(RowStatus::Incomplete, 10));
    assert_eq!(details.in_flight(), 4, "the default bound here is 4");
    details.release();
    settle(h);
    assert_eq!(statuses(&view, 0..10), all(RowStatus::Fresh, 10));
    assert_eq!(
        view.row(3).unwrap().record,
        record! {
            "name" => "Product 3", "price" => 3.5, "stock" => 3_i64,
            "description" => "About product 3"
        },
        "detail columns merged over the list row"
    );
    assert_eq!(details.calls(VistaOp::Get), 10, "one call per viewport row");
    assert_eq!(view.row(50).unwrap().status, RowStatus::Incomplete);
    let stored = dio.cache().get(&product_id(3)).unwrap().unwrap();
    assert_eq!(stored.state, diorama_core::cache::RowState::Complete);
}

/// Two sceneries reaching the same rows cause one detail call per id, and
/// no more than `detail_concurrency` run at once.
pub fn details_are_single_flight_across_sceneries_and_bounded<H: Harness>(h: &H) {
    let Hydrating {
        details, seen, dio, ..
    } = hydrating(h, 3);
    details.hold();
    let first = h
        .block_on(dio.table_scenery().initial_range(0..12).open())
        .unwrap();
    let second = h
        .block_on(dio.table_scenery().initial_range(0..12).open())
        .unwrap();
    settle(h);
    assert_eq!(details.in_flight(), 3, "the bound, with the rest queued");
    details.release();
    settle(h);
    assert_eq!(statuses(&first, 0..12), all(RowStatus::Fresh, 12));
    assert_eq!(statuses(&second, 0..12), all(RowStatus::Fresh, 12));
    assert_eq!(details.calls(VistaOp::Get), 12, "one call per id");
    assert_eq!(
        seen.max.load(Ordering::SeqCst),
        3,
        "never more than the bound"
    );
}

/// A dropped scenery's queued ids are never called for; ids another
/// scenery still wants are.
pub fn a_dropped_scenery_withdraws_its_queued_detail_ids<H: Harness>(h: &H) {
    let Hydrating { details, dio, .. } = hydrating(h, 1);
    details.hold();
    let leaving = h
        .block_on(dio.table_scenery().initial_range(0..10).open())
        .unwrap();
    settle(h);
    let staying = h
        .block_on(dio.table_scenery().initial_range(20..25).open())
        .unwrap();
    settle(h);
    assert_eq!(
        details.calls(VistaOp::Get),
        1,
        "one in flight, the rest queued"
    );
    drop(leaving);
    details.release();
    settle(h);
    assert_eq!(
        details.calls(VistaOp::Get),
        1 + 5,
        "the call in flight, then only the staying scenery's rows"
    );
    assert_eq!(statuses(&staying, 20..25), all(RowStatus::Fresh, 5));
    let untouched = dio.cache().get(&product_id(5)).unwrap().unwrap();
    assert_eq!(untouched.state, diorama_core::cache::RowState::Incomplete);
}

/// A failed detail shows on its row with the error; no timer retries it;
/// the next time a viewport reaches the row it is called again.
pub fn a_failed_detail_shows_on_its_row_and_is_retried_when_reached_again<H: Harness>(h: &H) {
    let Hydrating { details, dio, .. } = hydrating(h, 1);
    let view = h
        .block_on(dio.table_scenery().initial_range(0..3).open())
        .unwrap();
    settle(h);
    assert_eq!(details.calls(VistaOp::Get), 3);
    // Rows 10..13 are loaded (the first page) but not hydrated yet.
    details.fail_next(VistaOp::Get, 1);
    view.set_viewport(10..13);
    settle(h);
    let failed = view.row(10).unwrap();
    assert!(
        matches!(failed.status, RowStatus::DetailFailed { .. }),
        "the failure shows on the row: {:?}",
        failed.status
    );
    assert_eq!(failed.record, product(10), "the summary");
    assert_eq!(statuses(&view, 11..13), all(RowStatus::Fresh, 2));
    assert_eq!(details.calls(VistaOp::Get), 6);
    // Long on a virtual clock; on a real one every advance sleeps.
    let wait = if h.virtual_clock() {
        Duration::from_secs(600)
    } else {
        Duration::from_millis(200)
    };
    h.advance(wait);
    assert_eq!(details.calls(VistaOp::Get), 6, "no retry by timer");
    assert!(matches!(
        view.row(10).unwrap().status,
        RowStatus::DetailFailed { .. }
    ));
    view.set_viewport(10..13);
    settle(h);
    assert_eq!(view.row(10).unwrap().status, RowStatus::Fresh);
    assert_eq!(details.calls(VistaOp::Get), 7, "only the failed row again");
}

/// Hydrated rows are persisted complete: a reopen over the same cache shows
/// them fresh with their detail, without a list or detail call.
pub fn a_reopen_shows_hydrated_rows_without_calls<H: Harness>(h: &H) {
    let master = products(200);
    let details = details(200);
    let seen = Concurrency::default();
    let backend = h.backend();
    {
        let lens = detail_lens(h, backend.clone(), true, &details, 4, &seen)
            .build()
            .unwrap();
        let dio = open_dio(h, &lens, &master);
        let view = h
            .block_on(dio.table_scenery().initial_range(0..10).open())
            .unwrap();
        settle(h);
        assert_eq!(statuses(&view, 0..10), all(RowStatus::Fresh, 10));
        h.block_on(dio.shutdown()).unwrap();
    }
    h.settle();
    master.reset_calls();
    details.reset_calls();
    let lens = detail_lens(h, backend, false, &details, 4, &seen)
        .refresh_on_open(false)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().initial_range(0..10).open())
        .unwrap();
    view.set_viewport(0..10);
    settle(h);
    assert_eq!(statuses(&view, 0..10), all(RowStatus::Fresh, 10));
    assert_eq!(
        view.row(7).unwrap().record.get("description"),
        Some(&diorama_core::Value::from("About product 7"))
    );
    assert_eq!(master.total_calls(), 0, "no list call");
    assert_eq!(details.total_calls(), 0, "no detail call");
}

/// A row a view still shows incomplete whose detail is already in the
/// cache (stored a moment before the view was told) is not called for
/// again when the viewport reaches it: the cache decides, and the view
/// shows the stored row.
pub fn a_row_already_hydrated_in_the_cache_is_not_called_for_again<H: Harness>(h: &H) {
    let Hydrating { details, dio, .. } = hydrating(h, 4);
    let view = h
        .block_on(dio.table_scenery().initial_range(0..3).open())
        .unwrap();
    settle(h);
    assert_eq!(details.calls(VistaOp::Get), 3);
    assert_eq!(view.row(20).unwrap().status, RowStatus::Incomplete);
    // Row 20's detail lands in the cache with no view told (as between a
    // call's end and the views hearing of it).
    let mut whole = product(20);
    whole.merge(&record! { "description" => "About product 20" });
    let now = dio.runtime().wall_clock();
    dio.cache()
        .insert_batch(vec![(
            product_id(20),
            diorama_core::cache::CachedRow::complete(whole.clone(), Some(now)),
        )])
        .unwrap();
    view.set_viewport(20..22);
    settle(h);
    assert_eq!(details.calls(VistaOp::Get), 4, "only row 21 is called for");
    h.settle_until("the view shows the stored row", || {
        view.row(20)
            .is_some_and(|row| row.status == RowStatus::Fresh)
    });
    assert_eq!(view.row(20).unwrap().record, whole);
    assert_eq!(view.row(21).unwrap().status, RowStatus::Fresh);
}

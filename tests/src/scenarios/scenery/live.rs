//! Live views (issue 11): the lifecycle paths that went wrong — a
//! non-blocking `on_start` reaching open views, pending writes shown before
//! the write call returns, empty pages and overstated totals, a window
//! loaded twice, and bad input on the view API.

use std::collections::BTreeMap;
use std::time::Duration;

use diorama_core::dio::DioEvent;
use diorama_core::scenery::{RecordStatus, RowStatus};
use diorama_core::vista::VistaOp;
use diorama_core::{ErrorKind, Value, record};

use super::support::*;
use crate::harness::Harness;

/// A table view opened while a non-blocking `on_start` is still copying
/// the master shows the rows once it finishes (with a repaint).
pub fn a_non_blocking_on_start_reaches_views_opened_before_it_finished<H: Harness>(h: &H) {
    let master = products(40);
    let lens = local_lens(h, h.backend())
        .on_start_blocking(false)
        .build()
        .unwrap();
    // on_start waits on the held master, so the view opens before it ends.
    master.hold();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    let record = h
        .block_on(dio.record_scenery(product_id(3)).open())
        .unwrap();
    assert_eq!(view.row_count(), 0);
    let generation = view.generation();

    master.release();
    h.block_on(dio.started()).unwrap();
    h.settle_until("the view shows what on_start copied", || {
        view.row_count() == 40
    });
    assert!(view.generation() > generation, "a repaint");
    assert_eq!(view.row(0).unwrap().id, product_id(0));
    assert_eq!(view.row(39).unwrap().record, product(39));
    h.settle_until("the record view shows its row", || {
        record.status() == RecordStatus::Fresh
    });
    assert_eq!(record.record().unwrap().record, product(3));
}

/// Right after `try_patch` returns, before any task runs, paged, local and
/// record views already show the row `PendingWrite` with the new value,
/// and their generations moved.
pub fn pending_writes_show_before_the_write_call_returns<H: Harness>(h: &H) {
    let master = products(300);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let paged = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    let record = h
        .block_on(dio.record_scenery(product_id(5)).open())
        .unwrap();
    h.settle();
    let local_lens = local_lens(h, h.backend()).build().unwrap();
    let local_dio = h
        .block_on(
            local_lens.make_dio_as(diorama_core::Vista::new(master.clone()), "products_local"),
        )
        .unwrap();
    let local = h.block_on(local_dio.table_scenery().open()).unwrap();
    h.settle();
    let (paged_gen, record_gen, local_gen) =
        (paged.generation(), record.generation(), local.generation());

    master.hold();
    dio.try_patch(product_id(5), record! { "price" => 99 })
        .unwrap();
    local_dio
        .try_patch(product_id(7), record! { "price" => 98 })
        .unwrap();
    // No settle: what a UI reads on the same thread, at once.
    let row = paged.row(5).unwrap();
    assert_eq!(row.status, RowStatus::PendingWrite);
    assert_eq!(row.record.get("price"), Some(&Value::from(99)));
    assert!(paged.generation() > paged_gen);
    assert_eq!(record.status(), RecordStatus::PendingWrite);
    assert_eq!(
        record.record().unwrap().record.get("price"),
        Some(&Value::from(99))
    );
    assert!(record.generation() > record_gen);
    let row = local.row(7).unwrap();
    assert_eq!(row.status, RowStatus::PendingWrite);
    assert_eq!(row.record.get("price"), Some(&Value::from(98)));
    assert!(local.generation() > local_gen);

    master.release();
    h.settle();
    assert_eq!(paged.row(5).unwrap().status, RowStatus::Fresh);
    assert_eq!(local.row(7).unwrap().status, RowStatus::Fresh);
    assert_eq!(record.status(), RecordStatus::Fresh);
}

/// Without a total, an empty page far past the rows known does not make
/// the count jump there: the view finds the real end (250) and shows it.
pub fn an_empty_page_past_the_known_rows_finds_the_real_end<H: Harness>(h: &H) {
    let master = products(250);
    let lens = chunked_lens(h, h.backend(), false).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().page_size(100).open())
        .unwrap();
    h.settle();
    view.set_viewport(500..600);
    settle(h);
    h.settle();
    assert_eq!(view.row_count(), 250);
    assert_eq!(view.estimated_total(), Some(250));
    assert!(!view.has_more());
    assert!(
        view.rows(0..250).iter().all(Option::is_some),
        "no placeholder"
    );
    let windows = windows(&master);
    assert_eq!(
        windows.iter().filter(|w| w.start == 500).count(),
        1,
        "the empty window is asked once: {windows:?}"
    );
}

/// A `total_provider` stating 1,000 rows of a 250-row source: jumping to
/// 980..1000 asks that window once, and the count ends at the real end,
/// not at 980.
pub fn an_overstated_total_is_corrected_without_refetching_a_window<H: Harness>(h: &H) {
    let master = products(250);
    let lens = chunked_lens(h, h.backend(), false)
        .total_provider(|_, _| async { Ok(1000) })
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    assert_eq!(view.row_count(), 1000);
    view.set_viewport(980..1000);
    settle(h);
    h.settle();
    let windows = windows(&master);
    assert_eq!(
        windows.iter().filter(|w| w.start == 980).count(),
        1,
        "980..1000 asked once: {windows:?}"
    );
    assert_eq!(view.row_count(), 250);
    assert!(!view.has_more());
}

/// Scrolling chunk by chunk with no debounce, each viewport committed
/// while the previous chunk may still be landing, never asks the master
/// for a window twice, nor for overlapping windows.
pub fn scrolling_chunk_by_chunk_never_loads_a_window_twice<H: Harness>(h: &H) {
    let master = products(30_000);
    let lens = paged_lens(h, h.backend(), true)
        .viewport_debounce(Duration::ZERO)
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().page_size(1000).open())
        .unwrap();
    h.settle();
    for i in 1..30 {
        view.set_viewport(i * 1000..(i + 1) * 1000);
        if h.virtual_clock() {
            h.advance(Duration::from_micros(300));
        } else {
            std::thread::sleep(Duration::from_micros(300));
        }
    }
    h.settle();
    let mut asked: BTreeMap<usize, usize> = BTreeMap::new();
    for window in windows(&master) {
        for row in window {
            *asked.entry(row).or_default() += 1;
        }
    }
    let twice: Vec<usize> = asked
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(row, _)| *row)
        .collect();
    assert!(
        twice.is_empty(),
        "rows asked twice: {} (first {:?}); windows {:?}",
        twice.len(),
        twice.first(),
        windows(&master)
    );
}

/// Bad input on the view API is clamped or refused, never a spin or a
/// huge allocation: a viewport to `usize::MAX` on a set of unknown size, a
/// push at index 2^40, and `rows` over a huge range.
pub fn huge_ranges_and_indices_are_clamped_or_refused<H: Harness>(h: &H) {
    let master = products(250);
    let pushed = std::sync::Arc::new(std::sync::Mutex::new(None));
    let lens = lens_over(h, h.backend())
        .on_load_chunk({
            let pushed = pushed.clone();
            move |dio, range, query, sink| {
                let pushed = pushed.clone();
                async move {
                    let page = dio
                        .master()
                        .shell()
                        .fetch_window(&query, range.start, range.len().min(1000))
                        .await?;
                    for (i, (id, record)) in page.rows.into_iter().enumerate() {
                        sink.push(range.start + i, id, record)?;
                    }
                    let far = sink.push(1 << 40, "far", record! {});
                    *pushed.lock().unwrap() = Some(far.map_err(|e| e.kind()));
                    Ok(())
                }
            }
        })
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    assert_eq!(
        *pushed.lock().unwrap(),
        Some(Err(ErrorKind::InvalidInput)),
        "a push far outside the load's range is refused"
    );
    assert!(view.index_of("far").is_none());

    let mut events = dio.subscribe_events();
    view.set_viewport(0..usize::MAX);
    settle(h);
    h.settle();
    let committed = view.viewport().expect("a viewport was committed");
    assert!(
        committed.len() < 1 << 20,
        "the viewport is clamped: {committed:?}"
    );
    assert!(
        drain(&mut events)
            .iter()
            .any(|e| matches!(e, DioEvent::ViewportChanged { range, .. } if *range == committed))
    );
    assert_eq!(view.row_count(), 250);

    let rows = view.rows(0..usize::MAX);
    assert_eq!(rows.len(), 250, "rows past the count are left out");
    assert!(rows.iter().all(Option::is_some));
    assert!(view.rows(usize::MAX - 1..usize::MAX).is_empty());
}

/// The ids the master has at `range` for `view`'s query.
fn master_ids<H: Harness>(
    h: &H,
    master: &diorama_core::MemoryVista,
    view: &diorama_core::TableScenery,
    range: std::ops::Range<usize>,
) -> Vec<Option<String>> {
    let page = h
        .block_on(
            diorama_core::Vista::new(master.clone())
                .shell()
                .fetch_window(&view.query(), range.start, range.len()),
        )
        .unwrap();
    page.rows.into_iter().map(|(id, _)| Some(id)).collect()
}

/// Every loaded row of `view` at `0..n`: in the master's order, each once.
fn assert_loaded_rows_in_order<H: Harness>(
    h: &H,
    master: &diorama_core::MemoryVista,
    view: &diorama_core::TableScenery,
    n: usize,
) {
    let truth = master_ids(h, master, view, 0..n);
    let shown = ids(view, 0..n);
    let mut seen = std::collections::BTreeSet::new();
    for (i, id) in shown.iter().enumerate() {
        let Some(id) = id else { continue };
        assert!(seen.insert(id.clone()), "{id} shown twice");
        assert_eq!(Some(id), truth[i].as_ref(), "row {i}");
    }
}

/// In a paged view sorted by price, editing a row's price moves it: to
/// between its new neighbours when they are loaded (the rows between close
/// up), out of the loaded rows when its key falls past them (the hole is
/// filled from the master); it shows once, where the master has it.
pub fn a_sorted_paged_view_moves_an_edited_row_where_its_key_falls<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(
            dio.table_scenery()
                .sort("price", diorama_core::vista::SortDir::Asc)
                .open(),
        )
        .unwrap();
    h.settle();
    assert_eq!(view.row(7).unwrap().id, product_id(7));

    // The grid tour: row 7 (7.5) to 19.99, between p0019 (19.5) and p0020.
    master.hold();
    dio.try_patch(product_id(7), record! { "price" => 19.99 })
        .unwrap();
    assert_eq!(view.index_of(&product_id(7)), Some(19), "moved at once");
    assert_eq!(view.row(19).unwrap().status, RowStatus::PendingWrite);
    master.release();
    h.settle();
    assert_eq!(view.index_of(&product_id(7)), Some(19));
    assert_eq!(view.row(7).unwrap().id, product_id(8));
    assert_loaded_rows_in_order(h, &master, &view, 1000);

    // The cheapest to 9999: out of the first page, whose last row the
    // master fills; then found on the last page, once.
    dio.try_patch(product_id(0), record! { "price" => 9999 })
        .unwrap();
    h.settle();
    assert_eq!(view.index_of(&product_id(0)), None);
    assert!(
        view.rows(0..100).iter().all(Option::is_some),
        "the hole was filled"
    );
    assert_loaded_rows_in_order(h, &master, &view, 1000);
    view.set_viewport(900..1000);
    settle(h);
    h.settle();
    assert_eq!(view.index_of(&product_id(0)), Some(999));
    assert_loaded_rows_in_order(h, &master, &view, 1000);
    assert_eq!(view.row_count(), 1000);
}

/// A pending write moves its row at once; when it fails the row moves
/// back to where its cached value puts it, marked failed.
pub fn a_failed_write_moves_its_row_back<H: Harness>(h: &H) {
    let master = products(300);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(
            dio.table_scenery()
                .sort("price", diorama_core::vista::SortDir::Asc)
                .open(),
        )
        .unwrap();
    h.settle();
    master.fail_next(VistaOp::Patch, 1);
    master.hold();
    dio.try_patch(product_id(3), record! { "price" => 50.25 })
        .unwrap();
    assert_eq!(view.index_of(&product_id(3)), Some(50));
    master.release();
    h.settle();
    assert_eq!(view.index_of(&product_id(3)), Some(3));
    assert!(matches!(
        view.row(3).unwrap().status,
        RowStatus::WriteFailed { .. }
    ));
    assert_loaded_rows_in_order(h, &master, &view, 300);
}

/// A row that stops matching the view's condition leaves (the count
/// shrinks, the rows after it close up); one that starts matching enters
/// where its key falls (the count grows).
pub fn rows_leave_and_enter_a_filtered_paged_view<H: Harness>(h: &H) {
    let master = products(700);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = open_stock_3_by_price(h, &dio);
    h.settle();
    assert_eq!(view.row_count(), 100);
    assert_eq!(view.row(1).unwrap().id, product_id(10));

    dio.try_patch(product_id(10), record! { "stock" => 0 })
        .unwrap();
    // On a real clock a settle can end while the write is still on its way.
    h.settle_until("p0010 leaves", || view.row_count() == 99);
    assert_eq!(view.index_of(&product_id(10)), None);
    assert_eq!(view.row(1).unwrap().id, product_id(17));

    dio.try_patch(product_id(11), record! { "stock" => 3 })
        .unwrap();
    h.settle_until("p0011 enters", || view.row_count() == 100);
    assert_eq!(view.index_of(&product_id(11)), Some(1));
    assert_loaded_rows_in_order(h, &master, &view, 100);
}

/// After a sort change the old rows stay until the new order's first
/// window lands, but never as `Fresh` under the new query: they read
/// `Loading` and `shown_query` is still the old query.
pub fn a_query_change_marks_the_old_order_until_the_new_lands<H: Harness>(h: &H) {
    let master = products(1000);
    let lens = paged_lens(h, h.backend(), true).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    let before = view.query();
    master.hold();
    view.set_sort(Some("price".into()), diorama_core::vista::SortDir::Desc)
        .unwrap();
    settle(h);
    assert_eq!(view.shown_query(), before, "the header of the rows shown");
    assert_ne!(view.query(), before);
    for row in view.rows(0..100).into_iter().flatten() {
        assert_ne!(row.status, RowStatus::Fresh, "{} of the old order", row.id);
    }
    master.release();
    h.settle();
    assert_eq!(view.shown_query(), view.query());
    assert_eq!(view.row(0).unwrap().id, product_id(999));
    assert_eq!(view.row(0).unwrap().status, RowStatus::Fresh);
}

/// Local sceneries of one query share one view: the same row objects, one
/// set of tasks however many are open; each has its own id and
/// generation, and a change bumps every one. A sort on one gives it a view
/// of its own; the others keep theirs. The last drop stops the tasks.
pub fn local_sceneries_of_one_query_share_one_view<H: Harness>(h: &H) {
    let master = products(50);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let table_tasks = || {
        h.live_tasks().map(|tasks| {
            tasks
                .iter()
                .filter(|name| name.starts_with("diorama.table"))
                .count()
        })
    };
    let first = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    let one = table_tasks();
    let views: Vec<_> = (0..20)
        .map(|_| h.block_on(dio.table_scenery().open()).unwrap())
        .collect();
    h.settle();
    assert_eq!(table_tasks(), one, "no task per scenery");
    let last = views.last().unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &first.row(3).unwrap(),
        &last.row(3).unwrap()
    ));
    assert_ne!(first.id(), last.id());
    let generations: Vec<_> = views.iter().map(|v| v.generation()).collect();

    dio.patched(product_id(3), record! { "stock" => 99 })
        .unwrap();
    h.settle();
    for (view, before) in views.iter().zip(&generations) {
        assert!(view.generation() > *before, "every scenery bumps");
        assert_eq!(
            view.row(3).unwrap().record.get("stock"),
            Some(&Value::from(99))
        );
    }

    // A sort on one: its own view, in the new order; the others keep theirs.
    let sorted = &views[0];
    sorted
        .set_sort(Some("price".into()), diorama_core::vista::SortDir::Desc)
        .unwrap();
    h.settle();
    assert_eq!(sorted.row(0).unwrap().id, product_id(49));
    assert_eq!(sorted.shown_query(), sorted.query());
    assert_eq!(last.row(0).unwrap().id, product_id(0));
    assert_eq!(last.query().sort, None);
    // Another scenery opened on the sorted query shares the sorted view.
    let again = h
        .block_on(
            dio.table_scenery()
                .sort("price", diorama_core::vista::SortDir::Desc)
                .open(),
        )
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &again.row(0).unwrap(),
        &sorted.row(0).unwrap()
    ));

    drop((first, views, again));
    h.settle();
    if let Some(left) = table_tasks() {
        assert_eq!(left, 0, "the last drop stopped the views' tasks");
    }
}

/// Aggregates kept from row deltas equal what the master's rows give after
/// every change: the min's row rising past others, the max's row removed,
/// rows leaving and entering a filtered count, floats entering a sum.
pub fn aggregates_follow_row_changes_as_a_fresh_scan_would<H: Harness>(h: &H) {
    let master = products(60);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let open = |b: diorama_core::scenery::ValueSceneryBuilder| h.block_on(b.open()).unwrap();
    let min = open(dio.value_scenery().min("price"));
    let max = open(dio.value_scenery().max("price"));
    let sum = open(dio.value_scenery().sum("stock"));
    let count = open(
        dio.value_scenery()
            .count_where("stock", diorama_core::vista::CmpOp::Eq, 3),
    );
    let truth = |field: &str, f: &dyn Fn(&[f64]) -> f64| {
        let rows = h
            .block_on(diorama_core::Vista::new(master.clone()).list())
            .unwrap();
        let values: Vec<f64> = rows
            .iter()
            .filter_map(|(_, r)| r.get(field).and_then(Value::as_f64))
            .collect();
        f(&values)
    };
    let check = |what: &str| {
        let as_f64 = |v: Option<Value>| v.and_then(|v| v.as_f64());
        assert_eq!(
            as_f64(min.value()),
            Some(truth("price", &|v| v
                .iter()
                .cloned()
                .fold(f64::INFINITY, f64::min))),
            "min after {what}"
        );
        assert_eq!(
            as_f64(max.value()),
            Some(truth("price", &|v| v
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max))),
            "max after {what}"
        );
        assert_eq!(
            as_f64(sum.value()),
            Some(truth("stock", &|v| v.iter().sum())),
            "sum after {what}"
        );
        let threes = h
            .block_on(diorama_core::Vista::new(master.clone()).list())
            .unwrap()
            .iter()
            .filter(|(_, r)| r.get("stock") == Some(&Value::from(3)))
            .count();
        assert_eq!(
            count.value(),
            Some(Value::from(threes)),
            "count after {what}"
        );
    };
    check("open");
    let writes: Vec<(usize, diorama_core::Record)> = vec![
        (0, record! { "price" => 1000 }),
        (1, record! { "price" => -1.5 }),
        (3, record! { "stock" => 0 }),
        (4, record! { "stock" => 3 }),
        (5, record! { "stock" => 2.5 }),
        (59, record! { "price" => 0.25 }),
    ];
    for (i, fields) in writes {
        h.block_on(async {
            dio.patch(product_id(i), fields.clone())
                .await
                .unwrap()
                .outcome()
                .await
                .unwrap()
        });
        h.settle();
        check(&format!("patching {i}"));
    }
    h.block_on(async {
        dio.delete(product_id(0))
            .await
            .unwrap()
            .outcome()
            .await
            .unwrap()
    });
    h.settle();
    check("removing the max");
}

/// A filtered local view over more rows than one cache scan step, whose
/// last match comes well before the end of a step, opens with exactly the
/// matching rows (the scan goes on from the last row read, not from the
/// last match, which read the same rows for ever).
pub fn a_filtered_local_view_over_many_unmatched_rows_opens<H: Harness>(h: &H) {
    let master = products(3000);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().where_eq("name", "Product 2").open())
        .unwrap();
    assert_eq!(view.row_count(), 1);
    assert_eq!(view.row(0).unwrap().id, product_id(2));
}

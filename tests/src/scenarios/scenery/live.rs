//! Live views (issue 11): the lifecycle paths that went wrong — a
//! non-blocking `on_start` reaching open views, pending writes shown before
//! the write call returns, empty pages and overstated totals, a window
//! loaded twice, and bad input on the view API.

use std::collections::BTreeMap;
use std::time::Duration;

use diorama_core::dio::DioEvent;
use diorama_core::scenery::{RecordStatus, RowStatus};
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

//! Shared fixtures of the scenery scenarios: a product master, paged and
//! local Lenses on the harness, event collection, and debounce timing.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::cache::CachedRow;
use diorama_core::dio::DioEvent;
use diorama_core::sync::broadcast::BroadcastReceiver;
use diorama_core::vista::{Id, MemoryVista};
use diorama_core::{CacheBackend, Dio, Lens, LensBuilder, Record, TableScenery, Vista, record};

use crate::harness::Harness;

/// The viewport debounce on a virtual clock (the Lens default).
const DEBOUNCE: Duration = Duration::from_millis(50);

/// The viewport debounce of the scenery Lenses: the default on a virtual
/// clock; short on a real one, where every settle sleeps it.
pub(crate) fn debounce<H: Harness>(h: &H) -> Duration {
    if h.virtual_clock() {
        DEBOUNCE
    } else {
        Duration::from_millis(5)
    }
}

/// The debounce of a scenario whose changes, made one after another by the
/// test thread, must coalesce: on a real clock long enough that a busy
/// machine does not let it expire between two statements.
pub(crate) fn coalescing_debounce<H: Harness>(h: &H) -> Duration {
    if h.virtual_clock() {
        DEBOUNCE
    } else {
        Duration::from_millis(300)
    }
}

/// Let a debounce of `debounce` pass and every task settle.
///
/// On a real clock the work done inside the span (a total counted, a chunk
/// pushed) can delay when the debounce is armed past the span's end, so
/// this keeps advancing while a timer no longer than the debounce is
/// pending (bounded: a loop that re-arms forever fails the scenario later).
pub(crate) fn settle_after<H: Harness>(h: &H, debounce: Duration) {
    h.advance(debounce + Duration::from_millis(1));
    for _ in 0..100 {
        match h.next_timer_in() {
            Some(left) if left <= debounce => h.advance(left + Duration::from_millis(1)),
            _ => return,
        }
    }
}

/// Let the fixtures' debounce pass and every task settle.
pub(crate) fn settle<H: Harness>(h: &H) {
    settle_after(h, debounce(h));
}

/// `p0000 .. p{n-1}` with a name, a price (ints and floats mixed) and a stock.
pub(crate) fn products(n: usize) -> MemoryVista {
    MemoryVista::new("products").with_rows((0..n).map(|i| (product_id(i), product(i))))
}

/// The id of product `i`.
pub(crate) fn product_id(i: usize) -> Id {
    format!("p{i:04}")
}

/// Product `i` as the master holds it.
pub(crate) fn product(i: usize) -> Record {
    let price = if i.is_multiple_of(2) {
        diorama_core::Value::from(i as i64)
    } else {
        diorama_core::Value::from(i as f64 + 0.5)
    };
    record! { "name" => format!("Product {i}"), "price" => price, "stock" => (i % 7) as i64 }
}

/// A Lens builder on the harness's runtime over `backend`, with the
/// fixtures' debounce.
pub(crate) fn lens_over<H: Harness>(h: &H, backend: Arc<dyn CacheBackend>) -> LensBuilder {
    Lens::builder()
        .cache_source(backend)
        .runtime(h.runtime())
        .viewport_debounce(debounce(h))
}

/// A Lens whose chunks come from the master's `fetch_window` with the
/// scenery's query; `with_total` adds a `total_provider` from `count`.
pub(crate) fn paged_lens<H: Harness>(
    h: &H,
    backend: Arc<dyn CacheBackend>,
    with_total: bool,
) -> LensBuilder {
    let builder = chunked_lens(h, backend, with_total);
    if with_total {
        builder.total_provider(|dio, query| async move { dio.master().shell().count(&query).await })
    } else {
        builder
    }
}

/// A Lens whose chunks come from the master's `fetch_window`; the sink is
/// told the window's total only when `sink_total`.
pub(crate) fn chunked_lens<H: Harness>(
    h: &H,
    backend: Arc<dyn CacheBackend>,
    sink_total: bool,
) -> LensBuilder {
    lens_over(h, backend).on_load_chunk(move |dio, range, query, sink| async move {
        let page = dio
            .master()
            .shell()
            .fetch_window(&query, range.start, range.len())
            .await?;
        if let (true, Some(total)) = (sink_total, page.total) {
            sink.set_total(total)?;
        }
        for (i, (id, record)) in page.rows.into_iter().enumerate() {
            sink.push(range.start + i, id, record)?;
        }
        Ok(())
    })
}

/// A Lens whose `on_start` copies the whole master into the cache (local views).
pub(crate) fn local_lens<H: Harness>(h: &H, backend: Arc<dyn CacheBackend>) -> LensBuilder {
    lens_over(h, backend).on_start(|dio| async move {
        let rows = dio.master().list().await?;
        let now = dio.runtime().wall_clock();
        dio.cache().insert_batch(
            rows.into_iter()
                .map(|(id, r)| (id, CachedRow::complete(r, Some(now))))
                .collect(),
        )
    })
}

/// A Dio over `master` made by `lens`.
pub(crate) fn open_dio<H: Harness>(h: &H, lens: &Lens, master: &MemoryVista) -> Dio {
    h.block_on(lens.make_dio(Vista::new(master.clone())))
        .expect("make_dio")
}

/// The paged view of products with `stock == 3` (`i % 7 == 3`: 100 of
/// 700 rows, `p0003`, `p0010`, …) ordered by price, opened on `dio`.
pub(crate) fn open_stock_3_by_price<H: Harness>(h: &H, dio: &Dio) -> TableScenery {
    h.block_on(
        dio.table_scenery()
            .where_eq("stock", 3)
            .sort("price", diorama_core::vista::SortDir::Asc)
            .open(),
    )
    .unwrap()
}

/// Every event published so far.
pub(crate) fn drain(events: &mut BroadcastReceiver<DioEvent>) -> Vec<DioEvent> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

/// Only the viewport events.
pub(crate) fn viewport_events(events: &[DioEvent]) -> Vec<DioEvent> {
    events
        .iter()
        .filter(|e| e.is_viewport_event())
        .cloned()
        .collect()
}

/// Windows the master served, as ranges.
pub(crate) fn windows(master: &MemoryVista) -> Vec<Range<usize>> {
    master
        .windows()
        .into_iter()
        .map(|(_, offset, limit)| offset..offset + limit)
        .collect()
}

/// The ids shown at `range` (`None` where no row is loaded).
pub(crate) fn ids(view: &TableScenery, range: Range<usize>) -> Vec<Option<String>> {
    view.rows(range)
        .into_iter()
        .map(|r| r.map(|r| r.id.clone()))
        .collect()
}

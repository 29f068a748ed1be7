//! Shared fixtures of the scenery tests: a product master, paged and local
//! Lenses on the simulator, and event collection.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use diorama_core::cache::CachedRow;
use diorama_core::dio::DioEvent;
use diorama_core::sim::SimRuntime;
use diorama_core::sync::broadcast::BroadcastReceiver;
use diorama_core::vista::{Id, MemoryVista, VistaCapabilities};
use diorama_core::{CacheBackend, Dio, Lens, LensBuilder, MemoryBackend, Record, Vista, record};

pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// `p0000 .. p{n-1}` with a name, a price (ints and floats mixed) and a stock.
pub fn products(n: usize) -> MemoryVista {
    MemoryVista::new("products").with_rows((0..n).map(|i| (product_id(i), product(i))))
}

pub fn product_id(i: usize) -> Id {
    format!("p{i:04}")
}

pub fn product(i: usize) -> Record {
    let price = if i.is_multiple_of(2) {
        diorama_core::Value::from(i as i64)
    } else {
        diorama_core::Value::from(i as f64 + 0.5)
    };
    record! { "name" => format!("Product {i}"), "price" => price, "stock" => (i % 7) as i64 }
}

/// A Lens on `sim` whose chunks come from the master's `fetch_window` with
/// the scenery's query; `with_total` adds a `total_provider` from `count`.
pub fn paged_lens(
    sim: &SimRuntime,
    backend: Arc<dyn CacheBackend>,
    with_total: bool,
) -> LensBuilder {
    let builder = chunked_lens(sim, backend, with_total);
    if with_total {
        builder.total_provider(|dio, query| async move { dio.master().shell().count(&query).await })
    } else {
        builder
    }
}

/// A Lens whose chunks come from the master's `fetch_window`; the sink is
/// told the window's total only when `sink_total`.
pub fn chunked_lens(
    sim: &SimRuntime,
    backend: Arc<dyn CacheBackend>,
    sink_total: bool,
) -> LensBuilder {
    Lens::builder()
        .cache_source(backend)
        .runtime(sim.runtime())
        .on_load_chunk(move |dio, range, query, sink| async move {
            let page = dio
                .master()
                .shell()
                .fetch_window(&query, range.start, range.len())
                .await?;
            if let (true, Some(total)) = (sink_total, page.total) {
                sink.set_total(total)?;
            }
            for (i, (id, record)) in page.rows.into_iter().enumerate() {
                sink.push(range.start + i, id, record).await?;
            }
            Ok(())
        })
}

/// A Lens whose `on_start` copies the whole master into the cache (local views).
pub fn local_lens(sim: &SimRuntime, backend: Arc<dyn CacheBackend>) -> LensBuilder {
    Lens::builder()
        .cache_source(backend)
        .runtime(sim.runtime())
        .on_start(|dio| async move {
            let rows = dio.master().list().await?;
            let now = dio.runtime().wall_clock();
            dio.cache().insert_batch(
                rows.into_iter()
                    .map(|(id, r)| (id, CachedRow::complete(r, Some(now))))
                    .collect(),
            )
        })
}

pub fn memory() -> Arc<dyn CacheBackend> {
    Arc::new(MemoryBackend::new())
}

pub fn open_dio(sim: &SimRuntime, lens: &Lens, master: &MemoryVista) -> Dio {
    sim.block_on(lens.make_dio(Vista::new(master.clone())))
        .expect("make_dio")
}

/// Every event published so far.
pub fn drain(events: &mut BroadcastReceiver<DioEvent>) -> Vec<DioEvent> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

/// Only this scenery's viewport events.
pub fn viewport_events(events: &[DioEvent]) -> Vec<DioEvent> {
    events
        .iter()
        .filter(|e| e.is_viewport_event())
        .cloned()
        .collect()
}

/// Windows the master served, as ranges.
pub fn windows(master: &MemoryVista) -> Vec<std::ops::Range<usize>> {
    master
        .windows()
        .into_iter()
        .map(|(_, offset, limit)| offset..offset + limit)
        .collect()
}

/// Let the debounce pass and every task settle.
pub fn settle(sim: &SimRuntime) {
    sim.advance(DEBOUNCE + Duration::from_millis(1));
    sim.run_until_idle();
}

pub fn ids(
    view: &diorama_core::TableScenery,
    range: std::ops::Range<usize>,
) -> Vec<Option<String>> {
    view.rows(range)
        .into_iter()
        .map(|r| r.map(|r| r.id.clone()))
        .collect()
}

pub fn all_caps() -> VistaCapabilities {
    VistaCapabilities::ALL
}

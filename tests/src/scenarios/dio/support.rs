//! Small builders and event helpers shared by the Dio scenarios.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diorama_core::cache::{CacheTable, CachedRow};
use diorama_core::sync::broadcast::{BroadcastReceiver, TryRecvError};
use diorama_core::vista::Id;
use diorama_core::{Dio, DioEvent, Lens, LensBuilder, MemoryVista, Record, Result, record};

use crate::harness::Harness;

/// A Lens builder with the harness's runtime and a fresh cache backend.
pub(crate) fn lens_on<H: Harness>(h: &H) -> LensBuilder {
    Lens::builder()
        .cache_source(h.backend())
        .runtime(h.runtime())
}

/// Product `i` as stored in the test masters.
pub(crate) fn product(i: usize) -> (Id, Record) {
    let color = if i.is_multiple_of(2) { "red" } else { "blue" };
    (
        format!("p{i:03}"),
        record! { "name" => format!("product {i}"), "price" => i as i64, "color" => color },
    )
}

/// A master called `name` holding products `0..n`.
pub(crate) fn products(name: &str, n: usize) -> MemoryVista {
    MemoryVista::generate(name, n, product)
}

/// The master's rows sorted by id (the cache's scan order).
pub(crate) fn master_rows(master: &MemoryVista) -> Vec<(Id, Record)> {
    let mut rows = master.rows();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Every cached record, in id order.
pub(crate) fn cache_rows(cache: &Arc<dyn CacheTable>) -> Vec<(Id, Record)> {
    cache
        .scan(None, usize::MAX)
        .expect("cache scan")
        .into_iter()
        .map(|(id, row)| (id, row.record))
        .collect()
}

/// The `on_start` of the seed's eager example: copy every master row into
/// the cache as complete.
pub(crate) async fn copy_master(dio: Dio) -> Result<()> {
    let rows = dio.master().list().await?;
    let now = dio.runtime().wall_clock();
    dio.cache().insert_batch(
        rows.into_iter()
            .map(|(id, record)| (id, CachedRow::complete(record, Some(now))))
            .collect(),
    )
}

/// Every event available to `rx` right now, in order. Panics on a lag: the
/// scenarios size their buses so that none happens.
pub(crate) fn drain(rx: &mut BroadcastReceiver<DioEvent>) -> Vec<DioEvent> {
    let mut events = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(event) => events.push(event),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return events,
            Err(TryRecvError::Lagged(n)) => panic!("event receiver lagged by {n}"),
        }
    }
}

/// Just the outcome events (`WriteCompleted` / `WriteFailed`), in order.
pub(crate) fn outcomes(events: &[DioEvent]) -> Vec<DioEvent> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                DioEvent::WriteCompleted { .. } | DioEvent::WriteFailed { .. }
            )
        })
        .cloned()
        .collect()
}

/// `WriteQueued { id }` for a named row.
pub(crate) fn queued(id: &str) -> DioEvent {
    DioEvent::WriteQueued {
        id: Some(id.into()),
    }
}

/// `WriteCompleted { id }` for a named row.
pub(crate) fn completed(id: &str) -> DioEvent {
    DioEvent::WriteCompleted {
        id: Some(id.into()),
    }
}

/// A shared call counter for callbacks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// Count one call; returns the count before it.
    pub(crate) fn hit(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst)
    }

    /// Calls so far.
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

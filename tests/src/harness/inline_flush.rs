//! The flush adapters harnesses wrap every backend in: inline flushes for
//! virtual clocks, counted flushes for real runtimes.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use diorama_core::cache::{CacheBackend, CacheBatch, CacheTable, CachedRow};
use diorama_core::error::Result;
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::Id;

/// `backend` with every table's `flush` done on the calling thread.
///
/// For virtual clocks, which wrap every backend of their factory in it: a
/// backend may flush on another thread (sled's runs on the `blocking` pool),
/// and a virtual clock cannot wait for another thread (the simulator reports
/// a stall; a paused tokio clock jumps to the next timer while it waits).
/// Flushing inline keeps the schedule in the harness's hands; a flush that
/// is already done on the calling thread (the memory backend's) is
/// unchanged. Real runtimes use the backend as it is.
pub fn inline_flush(backend: Arc<dyn CacheBackend>) -> Arc<dyn CacheBackend> {
    Arc::new(InlineFlushBackend {
        inner: backend,
        mode: Mode::Inline,
        tables: Mutex::default(),
    })
}

/// `backend` with every table's flush counted in `in_flight` while it
/// runs (it still runs where the backend runs it, sled's on the `blocking`
/// pool).
///
/// For real runtimes: a durable write waits for a flush on another thread,
/// which no executor sees, so a harness's settle also waits for the count
/// to reach zero.
pub fn counted_flush(
    backend: Arc<dyn CacheBackend>,
    in_flight: Arc<AtomicUsize>,
) -> Arc<dyn CacheBackend> {
    Arc::new(InlineFlushBackend {
        inner: backend,
        mode: Mode::Counted(in_flight),
        tables: Mutex::default(),
    })
}

#[derive(Clone, Debug)]
enum Mode {
    Inline,
    Counted(Arc<AtomicUsize>),
}

/// Counts one flush in flight while alive.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct InlineFlushBackend {
    inner: Arc<dyn CacheBackend>,
    mode: Mode,
    /// One adapter per table name, so opening a name twice yields one table.
    tables: Mutex<HashMap<String, Arc<InlineFlushTable>>>,
}

impl fmt::Debug for InlineFlushBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineFlush")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl CacheBackend for InlineFlushBackend {
    fn open_table(&self, name: &str) -> Result<Arc<dyn CacheTable>> {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(table) = tables.get(name) {
            return Ok(table.clone());
        }
        let table = Arc::new(InlineFlushTable(
            self.inner.open_table(name)?,
            self.mode.clone(),
        ));
        tables.insert(name.to_owned(), table.clone());
        Ok(table)
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        self.inner.list_tables()
    }

    fn drop_table(&self, name: &str) -> Result<()> {
        self.tables
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        self.inner.drop_table(name)
    }
}

#[derive(Debug)]
struct InlineFlushTable(Arc<dyn CacheTable>, Mode);

impl CacheTable for InlineFlushTable {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn get(&self, id: &str) -> Result<Option<CachedRow>> {
        self.0.get(id)
    }

    fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<CachedRow>>> {
        self.0.get_many(ids)
    }

    fn apply(&self, batch: CacheBatch) -> Result<()> {
        self.0.apply(batch)
    }

    fn insert_batch(&self, rows: Vec<(Id, CachedRow)>) -> Result<()> {
        self.0.insert_batch(rows)
    }

    fn delete(&self, id: &str) -> Result<bool> {
        self.0.delete(id)
    }

    fn clear(&self) -> Result<()> {
        self.0.clear()
    }

    fn count(&self) -> Result<usize> {
        self.0.count()
    }

    fn scan(&self, after: Option<&str>, limit: usize) -> Result<Vec<(Id, CachedRow)>> {
        self.0.scan(after, limit)
    }

    fn meta_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.0.meta_get(key)
    }

    fn meta_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.0.meta_range(start, end, limit)
    }

    fn flush(&self) -> BoxFuture<'_, Result<()>> {
        match &self.1 {
            // The real flush (its thread hand-off included), waited for on
            // the thread that polls: the harness's only one.
            Mode::Inline => Box::pin(async move { futures_lite::future::block_on(self.0.flush()) }),
            Mode::Counted(in_flight) => {
                let counted = InFlight::enter(in_flight);
                Box::pin(async move {
                    let _counted = counted;
                    self.0.flush().await
                })
            }
        }
    }

    fn corrupt_reads(&self) -> u64 {
        self.0.corrupt_reads()
    }

    fn integrity(&self) -> diorama_core::cache::IntegrityReport {
        self.0.integrity()
    }
}

//! The inline-flush adapter virtual clocks wrap every backend in.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use diorama_core::cache::{CacheBackend, CacheBatch, CacheTable, CachedRow};
use diorama_core::error::Result;
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::Id;

/// `backend` with every table's `flush` done on the calling thread.
///
/// Every harness wraps the backends of its factory in it: a backend may
/// flush on another thread (sled's runs on the `blocking` pool), which no
/// harness can see. A virtual clock cannot wait for another thread (the
/// simulator reports a stall; a paused tokio clock jumps to the next timer
/// while it waits), and a real-clock `settle` would call the runtime quiet
/// while a durable write's flush still runs (the write not yet at the
/// master). Flushed inline, the flush is part of the task that awaits it,
/// so the schedule stays in the harness's hands; a flush that is already
/// done on the calling thread (the memory backend's) is unchanged. The
/// off-thread hand-off itself is tested in diorama-std's own sled tests.
pub fn inline_flush(backend: Arc<dyn CacheBackend>) -> Arc<dyn CacheBackend> {
    Arc::new(InlineFlushBackend {
        inner: backend,
        tables: Mutex::default(),
    })
}

struct InlineFlushBackend {
    inner: Arc<dyn CacheBackend>,
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
        let table = Arc::new(InlineFlushTable(self.inner.open_table(name)?));
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
struct InlineFlushTable(Arc<dyn CacheTable>);

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
        // The real flush (its thread hand-off included), waited for on the
        // thread that polls: the harness's only one.
        Box::pin(async move { futures_lite::future::block_on(self.0.flush()) })
    }
}

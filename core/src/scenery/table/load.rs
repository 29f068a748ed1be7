//! The chunk task: runs `on_load_chunk` for a load the model registered,
//! stores what it delivered (rows, positions, extent: one batch) and tells
//! the model; and the sink side where the callback's rows arrive.

use alloc::collections::BTreeSet;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::ops::Range;

use super::model::{Action, Landing};
use super::state::TableState;
use crate::cache::CacheBatch;
use crate::dio::stamps::{Changed, ReadStamp};
use crate::dio::{ChunkSink, ChunkTarget, DioEvent};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeExt;
use crate::value::Record;
use crate::vista::{Id, Query};

impl TableState {
    /// Start load `id` of `range` of `query` (the model registered it).
    pub(super) fn spawn_load(
        self: &Arc<Self>,
        id: u64,
        range: Range<usize>,
        query: Query,
    ) -> Vec<Action> {
        let Some(dio) = self.dio() else {
            // Nothing will run it: it ends at once.
            let mut model = self.model.write();
            model.handle_chunk_returned(id, Err(Error::new(ErrorKind::Closed, "the Dio is gone")));
            return model.take_actions();
        };
        let target: Weak<dyn ChunkTarget> = Arc::downgrade(&(self.clone() as Arc<dyn ChunkTarget>));
        let sink = ChunkSink::new(target, id, range.clone());
        let state = Arc::downgrade(self);
        let task = self.runtime.spawn("diorama.table.load_chunk", async move {
            // Changes of rows reaching the Dio from now on are newer than
            // what the callback reads.
            let stamp = dio.begin_read();
            let outcome = match dio.policy().on_load_chunk() {
                Some(on_load_chunk) => on_load_chunk(&dio, range, query, sink).await,
                None => Ok(()),
            };
            drop(dio);
            if let Some(state) = state.upgrade() {
                state.finish(id, outcome, &stamp).await;
            }
        });
        self.keep(task.abort_on_drop());
        Vec::new()
    }

    /// Load `id`'s callback returned: store the chunk and land it, or roll
    /// it back.
    async fn finish(self: &Arc<Self>, id: u64, outcome: Result<()>, stamp: &ReadStamp) {
        let Some(landing) = self.drive(|model| model.handle_chunk_returned(id, outcome)) else {
            return;
        };
        // A chunk the cache cannot record is still what the master said:
        // it is shown (and refetched next time), never held back.
        let stored = match self.persist(&landing, stamp).await {
            Err(error) if error.kind() != ErrorKind::Closed => {
                self.publish(DioEvent::CacheWriteFailed {
                    id: None,
                    error: error.context("a loaded chunk could not be cached"),
                });
                Ok(BTreeSet::new())
            }
            stored => stored,
        };
        let missed = stored.is_ok() && self.missed_entries(stamp, &landing);
        self.drive(|model| model.handle_chunk_stored(landing.load, stored, missed));
    }

    /// Whether a row the load did not bring changed while it was out and
    /// matches the query's conditions or search now (it may belong in the
    /// window, and the chunk's total may not count it).
    fn missed_entries(&self, stamp: &ReadStamp, landing: &Landing) -> bool {
        let Some(dio) = self.dio() else { return false };
        let rows = match stamp.changed() {
            Changed::Everything => return true,
            Changed::Rows(rows) => rows,
        };
        if rows.is_empty() {
            return false;
        }
        let query = &landing.query;
        if query.conditions.is_empty() && query.search.is_none() {
            // Every row is in the set: a change moves rows (re-placed by
            // its event), it does not bring one in.
            return false;
        }
        let brought: BTreeSet<&str> = landing
            .load
            .staged
            .iter()
            .map(|s| s.row.id.as_str())
            .collect();
        rows.iter()
            .filter(|id| !brought.contains(id.as_str()))
            .any(|id| match dio.cache().get(id) {
                Ok(Some(row)) => super::local::matches(query, &row.record),
                Ok(None) => false,
                Err(_) => true,
            })
    }

    /// Write the chunk's rows, positions and the new extent as one batch.
    /// Position blocks are read, merged and written under the Dio's
    /// positions lock, so concurrent loads never lose each other's entries.
    /// Rows changed since the load began (`stamp`) keep the cache's newer
    /// value; they are returned.
    async fn persist(&self, landing: &Landing, stamp: &ReadStamp) -> Result<BTreeSet<Id>> {
        let dio = self
            .dio()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "the Dio is gone"))?;
        let Landing {
            load, keys, extent, ..
        } = landing;
        let now = self.now();
        let mut batch = CacheBatch::new();
        let rows: Vec<_> = load
            .staged
            .iter()
            .map(|staged| {
                let row = self.stored_row(&dio, &staged.row.record, now, &staged.row.id);
                (staged.row.id.clone(), row)
            })
            .collect();
        keys.stage_extent(&mut batch, extent);
        let _positions = dio.positions_lock().lock().await;
        let cache = dio.cache();
        keys.stage(
            &**cache,
            &mut batch,
            load.staged
                .iter()
                .map(|staged| (staged.index, staged.row.id.as_str())),
        )?;
        // Room for the chunk's rows: no regrowth while they are staged.
        batch.puts.reserve_exact(rows.len());
        dio.store_read(stamp, rows, batch)
    }
}

impl ChunkTarget for TableState {
    fn push(&self, load_id: u64, index: usize, id: Id, record: Record) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::Closed, "the scenery was dropped"));
        }
        let row = self.listed_row(id, record, self.now());
        self.model.write().handle_chunk_row(load_id, index, row)
    }

    fn set_total(&self, load_id: u64, total: usize) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorKind::Closed, "the scenery was dropped"));
        }
        self.model.write().handle_chunk_total(load_id, total)
    }
}

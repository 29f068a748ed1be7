//! Read stamps: which rows changed while a read of the master was on its
//! way, so the read's (older) answer never overwrites a newer change in
//! the cache.
//!
//! A chunk load, a record fetch or a detail load reads the master, then
//! stores what it read. A change applied in between (a live-source event,
//! a replica's change, a write the queue completed) is newer than that
//! answer; storing the answer over it would show the old value as fresh
//! until its TTL ran out. So every change *announces* its row before it
//! writes the cache ([`Dio::touch_row`]), and every read takes a
//! [`ReadStamp`] before it asks the master and stores through
//! [`Dio::store_read`]: rows changed since the stamp keep what the cache
//! has of them, and a row whose change raced the store itself is dropped
//! (an absent row is refetched; an old one would lie).
//!
//! Memory stays bounded: changes are remembered only while a read is in
//! flight, at most [`LOG_CAP`] of them; a read that began before a
//! forgotten one treats every row as changed.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Dio, DioEvent};
use crate::cache::{CacheBatch, CachedRow, RowState};
use crate::error::Result;
use crate::runtime::RuntimeExt;
use crate::sync::Mutex;
use crate::vista::Id;

/// Changes remembered at most while reads are in flight.
pub(crate) const LOG_CAP: usize = 1024;

/// The rows changed since a stamp.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Changed {
    /// Exactly these rows (possibly none).
    Rows(BTreeSet<Id>),
    /// Anything may have changed (a wholesale change, or too many to remember).
    Everything,
}

impl Changed {
    /// Whether row `id` may have changed.
    pub(crate) fn contains(&self, id: &str) -> bool {
        match self {
            Changed::Rows(rows) => rows.contains(id),
            Changed::Everything => true,
        }
    }
}

/// The change log: a clock, the stamps of reads in flight and the changes
/// made since the oldest of them. Plain state, no I/O.
#[derive(Debug, Default)]
pub(crate) struct StampLog {
    clock: u64,
    /// Stamps of reads in flight, with how many reads hold each.
    active: BTreeMap<u64, u32>,
    /// `(tick, row)` of changes after the oldest active stamp; `None` is
    /// a change of every row.
    log: VecDeque<(u64, Option<Id>)>,
    /// Changes up to this tick were forgotten while a read still needed them.
    forgotten: u64,
}

impl StampLog {
    /// A read begins: its stamp.
    pub(crate) fn begin(&mut self) -> u64 {
        *self.active.entry(self.clock).or_default() += 1;
        self.clock
    }

    /// The read of `stamp` ended.
    pub(crate) fn end(&mut self, stamp: u64) {
        if let Some(count) = self.active.get_mut(&stamp) {
            *count -= 1;
            if *count == 0 {
                self.active.remove(&stamp);
            }
        }
        match self.active.keys().next() {
            Some(&oldest) => {
                while self.log.front().is_some_and(|(tick, _)| *tick <= oldest) {
                    self.log.pop_front();
                }
            }
            None => self.log.clear(),
        }
    }

    /// Row `id` (`None`: every row) is about to change.
    pub(crate) fn touch(&mut self, id: Option<&str>) {
        self.clock += 1;
        if self.active.is_empty() {
            // Nobody reads: nothing to remember.
            return;
        }
        self.log.push_back((self.clock, id.map(Id::from)));
        if self.log.len() > LOG_CAP
            && let Some((tick, _)) = self.log.pop_front()
        {
            self.forgotten = tick;
        }
    }

    /// The rows changed after `stamp`.
    pub(crate) fn changed_since(&self, stamp: u64) -> Changed {
        if self.forgotten > stamp {
            return Changed::Everything;
        }
        let mut rows = BTreeSet::new();
        for (tick, id) in self.log.iter().rev() {
            if *tick <= stamp {
                break;
            }
            match id {
                Some(id) => {
                    rows.insert(id.clone());
                }
                None => return Changed::Everything,
            }
        }
        Changed::Rows(rows)
    }
}

/// The shared log of one Dio.
#[derive(Debug, Default)]
pub(crate) struct ChangeStamps {
    log: Mutex<StampLog>,
}

/// A read of the master in flight, begun at a point of the Dio's change
/// log. Dropping it ends the read.
#[derive(Debug)]
pub(crate) struct ReadStamp {
    stamps: Arc<ChangeStamps>,
    stamp: u64,
}

impl ReadStamp {
    /// The rows changed since the read began.
    pub(crate) fn changed(&self) -> Changed {
        self.stamps.log.lock().changed_since(self.stamp)
    }
}

impl Drop for ReadStamp {
    fn drop(&mut self) {
        self.stamps.log.lock().end(self.stamp);
    }
}

impl Dio {
    /// Begin a read of the master whose answer will be stored in the cache.
    pub(crate) fn begin_read(&self) -> ReadStamp {
        let stamp = self.inner.stamps.log.lock().begin();
        ReadStamp {
            stamps: self.inner.stamps.clone(),
            stamp,
        }
    }

    /// Row `id` is about to change in the cache with news newer than any
    /// read in flight (call before writing it).
    pub(crate) fn touch_row(&self, id: &str) {
        self.inner.stamps.log.lock().touch(Some(id));
    }

    /// Every row is about to change (a clear, a wholesale invalidation).
    pub(crate) fn touch_all(&self) {
        self.inner.stamps.log.lock().touch(None);
    }

    /// Store `rows`, read from the master since `stamp`, together with
    /// `batch` (positions, meta). A row changed since the stamp keeps the
    /// cache's newer value: as it is, or, when the change left it
    /// incomplete (fields learned while the row was not cached), completed
    /// by the read under the newer fields. A row changed while this store
    /// ran is dropped and `RecordChanged` published, so views read it
    /// again. Returns the rows not stored as read (the caller must not show
    /// what it read of them as fresh).
    ///
    /// # Errors
    /// The cache's error when the batch cannot be written (nothing of it
    /// was stored).
    pub(crate) fn store_read(
        &self,
        stamp: &ReadStamp,
        rows: Vec<(Id, CachedRow)>,
        batch: CacheBatch,
    ) -> Result<BTreeSet<Id>> {
        self.store_read_then(stamp, rows, batch, true)
    }

    /// [`store_read`](Self::store_read); rows dropped are read again only
    /// when `refetch` (a refetch's own store does not start another).
    fn store_read_then(
        &self,
        stamp: &ReadStamp,
        rows: Vec<(Id, CachedRow)>,
        mut batch: CacheBatch,
        refetch: bool,
    ) -> Result<BTreeSet<Id>> {
        // Changes from here on race the store itself.
        let storing = self.begin_read();
        let before = stamp.changed();
        let mut written = Vec::with_capacity(rows.len());
        let mut raced = BTreeSet::new();
        for (id, mut row) in rows {
            if before.contains(&id) {
                match self.cache().get(&id) {
                    Ok(Some(cached)) if cached.state == RowState::Incomplete => {
                        row.record.merge(&cached.record);
                        batch.put(id.clone(), row);
                        written.push(id.clone());
                    }
                    _ => {}
                }
                raced.insert(id);
            } else {
                batch.put(id.clone(), row);
                written.push(id);
            }
        }
        self.cache().apply(batch)?;
        let after = storing.changed();
        let mut drop = CacheBatch::new();
        let mut dropped = Vec::new();
        for id in written {
            if after.contains(&id) {
                drop.delete(id.clone());
                dropped.push(id);
            }
        }
        if dropped.is_empty() {
            return Ok(raced);
        }
        // The change's own write may have landed before ours: neither
        // value can be vouched for, an absent row is refetched. A failed
        // drop leaves the row as it is (the change may have won).
        let _ = self.cache().apply(drop);
        for id in dropped {
            self.publish(DioEvent::RecordChanged { id: id.clone() });
            if refetch {
                self.refetch_dropped(id.clone());
            }
            raced.insert(id);
        }
        Ok(raced)
    }

    /// Read row `id`, dropped because two changes of it raced, again from
    /// the master in the background, so every view of the Dio has it back
    /// (an aggregate over the cache too, not only the views that refetch
    /// what they show). A failed read leaves it absent: views read it when
    /// they need it.
    pub(crate) fn refetch_dropped(&self, id: Id) {
        let weak = self.downgrade();
        drop(self.runtime().spawn("diorama.dio.refetch", async move {
            let Some(dio) = Dio::upgrade(&weak).filter(|dio| !dio.is_shutting_down()) else {
                return;
            };
            let stamp = dio.begin_read();
            let span = super::spans::master_get(dio.table_name(), &id);
            let Ok(Some(record)) = super::spans::master_call(span, dio.master().get(&id)).await
            else {
                // Gone at the master (the change that raced said so) or
                // unreadable now: absent is the truth or a refetch later.
                return;
            };
            let now = Some(dio.runtime().wall_clock());
            let rows = alloc::vec![(id.clone(), CachedRow::complete(record, now))];
            if let Ok(raced) = dio.store_read_then(&stamp, rows, CacheBatch::new(), false)
                && raced.is_empty()
            {
                dio.publish(DioEvent::RecordChanged { id });
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(ids: &[&str]) -> Changed {
        Changed::Rows(ids.iter().map(|id| Id::from(*id)).collect())
    }

    #[test]
    fn a_read_sees_the_changes_made_after_it_began_and_only_those() {
        let mut log = StampLog::default();
        log.touch(Some("before"));
        let stamp = log.begin();
        assert_eq!(log.changed_since(stamp), rows(&[]));
        log.touch(Some("a"));
        log.touch(Some("b"));
        assert_eq!(log.changed_since(stamp), rows(&["a", "b"]));
        let later = log.begin();
        log.touch(Some("c"));
        assert_eq!(log.changed_since(later), rows(&["c"]));
        assert_eq!(log.changed_since(stamp), rows(&["a", "b", "c"]));
        log.touch(None);
        assert_eq!(log.changed_since(later), Changed::Everything);
        assert!(log.changed_since(stamp).contains("anything"));
    }

    #[test]
    fn nothing_is_remembered_without_reads_and_ended_reads_free_their_changes() {
        let mut log = StampLog::default();
        for i in 0..10_000 {
            log.touch(Some(&alloc::format!("r{i}")));
        }
        assert!(log.log.is_empty());
        let first = log.begin();
        log.touch(Some("x"));
        let second = log.begin();
        log.touch(Some("y"));
        log.end(first);
        // Only what the remaining read needs is kept.
        assert_eq!(log.log.len(), 1);
        assert_eq!(log.changed_since(second), rows(&["y"]));
        log.end(second);
        assert!(log.log.is_empty() && log.active.is_empty());
    }

    #[test]
    fn too_many_changes_during_a_read_count_as_everything() {
        let mut log = StampLog::default();
        let stamp = log.begin();
        for i in 0..=LOG_CAP {
            log.touch(Some(&alloc::format!("r{i}")));
        }
        assert_eq!(log.log.len(), LOG_CAP);
        assert_eq!(log.changed_since(stamp), Changed::Everything);
        // A read begun after the forgotten change still sees exact rows.
        let later = log.begin();
        log.touch(Some("z"));
        assert_eq!(log.changed_since(later), rows(&["z"]));
    }

    #[test]
    fn two_reads_with_one_stamp_end_independently() {
        let mut log = StampLog::default();
        let a = log.begin();
        let b = log.begin();
        assert_eq!(a, b);
        log.touch(Some("x"));
        log.end(a);
        assert_eq!(log.changed_since(b), rows(&["x"]));
        log.end(b);
        assert!(log.log.is_empty());
    }
}

//! The optimistic overlay: what rows will look like once queued writes land.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::WriteOp;
use crate::sync::Mutex;
use crate::value::Record;

/// The optimistic view of one row with writes queued or running.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingWrite {
    /// What the row will be if every pending write succeeds; `None` when a
    /// delete is pending.
    pub record: Option<Record>,
    /// How many writes to the row are queued or running.
    pub count: usize,
    /// The fields the pending writes change, in the order first written,
    /// when every one of them is a patch; `None` when a whole-row write
    /// (insert, replace, delete) is among them, since then any field may
    /// change. What a view shows as the row's
    /// [`dirty_fields`](crate::scenery::EnrichedRecord::dirty_fields).
    pub dirty_fields: Option<Vec<String>>,
}

/// A row held by [`PendingWrites::hold_unrecorded`]: the value the master
/// has, and the meta keys of the intents to delete with the row.
type Unrecorded = (Option<Record>, Vec<Vec<u8>>);

/// Pending writes by row id, plus a total including writes without an id.
///
/// Also the rows whose applied write the cache could not record *and*
/// could not drop (a failing disk refused both): the cache still holds
/// their old value, so they read as pending with the value the master has
/// until the Dio manages to drop them (see `worker::repair`).
#[derive(Debug, Default)]
pub(crate) struct PendingWrites {
    rows: Mutex<BTreeMap<String, PendingWrite>>,
    total: AtomicUsize,
    unrecorded: Mutex<BTreeMap<String, Unrecorded>>,
    unrecorded_count: AtomicUsize,
}

impl PendingWrites {
    /// Record that `op` was queued; `base` is the cached record of its row,
    /// used when the op is a patch of a row with nothing pending yet.
    pub(crate) fn add(&self, op: &WriteOp, base: Option<Record>) {
        self.total.fetch_add(1, Ordering::AcqRel);
        let Some(id) = op.id() else { return };
        let mut rows = self.rows.lock();
        let entry = rows
            .entry(String::from(id))
            .or_insert_with(|| PendingWrite {
                record: base,
                count: 0,
                dirty_fields: Some(Vec::new()),
            });
        entry.count += 1;
        match op {
            WriteOp::Patch { fields, .. } => {
                if let Some(dirty) = &mut entry.dirty_fields {
                    for (field, _) in fields.iter() {
                        if !dirty.iter().any(|known| known == field) {
                            dirty.push(String::from(field));
                        }
                    }
                }
            }
            _ => entry.dirty_fields = None,
        }
        entry.record = match op {
            WriteOp::Insert { record, .. } | WriteOp::Replace { record, .. } => {
                Some(record.clone())
            }
            WriteOp::Patch { fields, .. } => {
                let mut merged = entry.record.take().unwrap_or_default();
                merged.merge(fields);
                Some(merged)
            }
            WriteOp::Delete { .. } => None,
            WriteOp::DeleteAll => entry.record.take(),
        };
    }

    /// One write on `id` (or without id) finished, either way.
    pub(crate) fn finish(&self, id: Option<&str>) {
        self.total.fetch_sub(1, Ordering::AcqRel);
        let Some(id) = id else { return };
        let mut rows = self.rows.lock();
        if let Some(entry) = rows.get_mut(id) {
            entry.count -= 1;
            if entry.count == 0 {
                rows.remove(id);
            }
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<PendingWrite> {
        if let Some(pending) = self.rows.lock().get(id).cloned() {
            return Some(pending);
        }
        if self.unrecorded_count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let record = self.unrecorded.lock().get(id).cloned()?.0;
        Some(PendingWrite {
            record,
            count: 0,
            dirty_fields: None,
        })
    }

    /// Whether the one write pending on `id` is the only write to it and
    /// the cache's value of the row is not held as unrecorded: called while
    /// that write is announced (before it is queued), the cache then holds
    /// the value the master has, as far as this Dio knows.
    pub(crate) fn is_sole(&self, id: &str) -> bool {
        let sole = self
            .rows
            .lock()
            .get(id)
            .is_some_and(|entry| entry.count == 1);
        sole && (self.unrecorded_count.load(Ordering::Acquire) == 0
            || !self.unrecorded.lock().contains_key(id))
    }

    /// Writes queued or running, with or without an id.
    pub(crate) fn total(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// Whether [`get`](Self::get) can answer anything at all (cheap).
    pub(crate) fn any(&self) -> bool {
        self.total() > 0 || self.unrecorded_count.load(Ordering::Acquire) > 0
    }

    /// Row `id` is cached with an old value the master no longer has, and
    /// the cache refused to drop it: read it as `record` (pending) instead,
    /// until the row can be dropped together with `intent` (the meta key of
    /// the write's intent, kept so a crash meanwhile replays it).
    pub(crate) fn hold_unrecorded(&self, id: &str, record: Option<Record>, intent: Vec<u8>) {
        let mut unrecorded = self.unrecorded.lock();
        let entry = unrecorded
            .entry(String::from(id))
            .or_insert_with(|| (None, Vec::new()));
        entry.0 = record;
        entry.1.push(intent);
        self.unrecorded_count
            .store(unrecorded.len(), Ordering::Release);
    }

    /// The rows held by [`hold_unrecorded`](Self::hold_unrecorded), each
    /// with the intents to delete when it is dropped.
    pub(crate) fn unrecorded(&self) -> Vec<(String, Vec<Vec<u8>>)> {
        if self.unrecorded_count.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let unrecorded = self.unrecorded.lock();
        unrecorded
            .iter()
            .map(|(id, (_, intents))| (id.clone(), intents.clone()))
            .collect()
    }

    /// Row `id` was dropped from the cache at last: read it as cached again.
    pub(crate) fn release_unrecorded(&self, id: &str) {
        let mut unrecorded = self.unrecorded.lock();
        unrecorded.remove(id);
        self.unrecorded_count
            .store(unrecorded.len(), Ordering::Release);
    }
}

//! The optimistic overlay: what rows will look like once queued writes land.

use alloc::collections::BTreeMap;
use alloc::string::String;
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
}

/// Pending writes by row id, plus a total including writes without an id.
#[derive(Debug, Default)]
pub(crate) struct PendingWrites {
    rows: Mutex<BTreeMap<String, PendingWrite>>,
    total: AtomicUsize,
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
            });
        entry.count += 1;
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
        self.rows.lock().get(id).cloned()
    }

    /// Writes queued or running, with or without an id.
    pub(crate) fn total(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

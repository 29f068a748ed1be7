//! The bridge's [`ChangeTap`]: what a Dio learned outside its write queue
//! (a live source's event, a user's patch or invalidation) is announced to
//! the other replicas; what it applied from the stream is not (no echo).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use diorama_core::dio::{ChangeTap, LocalChange};

use super::message::Op;
use super::shell::{announce_now, now_ms};
use super::table::TableState;

#[derive(Debug)]
pub(crate) struct BridgeTap {
    pub(crate) table: Arc<TableState>,
}

impl ChangeTap for BridgeTap {
    fn applied(&self, _table: &str, change: LocalChange<'_>) {
        if self.table.is_echo(&change) {
            return;
        }
        let op = match change {
            LocalChange::Patched { fields, .. } => Op::Patch(fields.clone()),
            LocalChange::Inserted { record, .. } => Op::Upsert(record.clone()),
            LocalChange::Removed { .. } => Op::Remove,
            LocalChange::InvalidatedRecord { .. } => Op::Invalidate,
            LocalChange::InvalidatedAll => Op::Reset,
        };
        self.table
            .replica
            .stats
            .learned
            .fetch_add(1, Ordering::Relaxed);
        // Not waited for: the tap runs inside the Dio's apply path.
        announce_now(&self.table, change.id().map(String::from), op, now_ms());
    }
}

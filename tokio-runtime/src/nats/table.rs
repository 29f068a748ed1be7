//! What the shell, the feed and the tap of one table share on one replica.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use diorama_core::dio::LocalChange;
use diorama_core::{ChangeEvent, TableShell};

use super::ReplicaInner;
use super::order::Ordering;

/// One master table as this replica shares it.
#[derive(Debug)]
pub(crate) struct TableState {
    /// The master's name: the table part of subjects and keys.
    pub(crate) name: String,
    /// The master itself (the tier and refetches read it).
    pub(crate) master: Arc<dyn TableShell>,
    pub(crate) replica: Arc<ReplicaInner>,
    pub(crate) ordering: Mutex<Ordering>,
    /// The stream sequence this replica has applied up to for this table
    /// (chunk keys of the shared tier name it).
    pub(crate) position: AtomicU64,
    /// When the stream was made (millis; 0: not read yet): chunk keys name
    /// it too, so a stream made again never meets windows of the old one.
    pub(crate) epoch: AtomicU64,
    /// Set once the feed knows where it reads from: before that, windows
    /// bypass the shared tier (the position would not vouch for them).
    pub(crate) positioned: std::sync::atomic::AtomicBool,
    /// A Dio follows this table (one per table and replica).
    pub(crate) attached: std::sync::atomic::AtomicBool,
    /// The remote change being applied per row (`"*"`: a reset), so the
    /// tap does not announce it again.
    echoes: Mutex<HashMap<String, ChangeEvent>>,
}

const ALL: &str = "*";

impl TableState {
    pub(crate) fn new(
        name: String,
        master: Arc<dyn TableShell>,
        replica: Arc<ReplicaInner>,
    ) -> Self {
        let options = &replica.link.options;
        let ordering = Ordering::new(
            &options.replica,
            replica.outbox.boot,
            u64::try_from(options.order_window.as_millis()).unwrap_or(u64::MAX),
            u64::try_from(options.clock_skew.as_millis()).unwrap_or(u64::MAX),
        );
        TableState {
            name,
            master,
            replica,
            ordering: Mutex::new(ordering),
            position: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            positioned: std::sync::atomic::AtomicBool::new(false),
            attached: std::sync::atomic::AtomicBool::new(false),
            echoes: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn position(&self) -> u64 {
        self.position.load(AtomicOrdering::Acquire)
    }

    pub(crate) fn set_position(&self, sequence: u64) {
        self.position.fetch_max(sequence, AtomicOrdering::AcqRel);
    }

    /// The feed reads the stream made at `epoch` from after `sequence`.
    pub(crate) fn start_at(&self, epoch: u64, sequence: u64) {
        if self.epoch.swap(epoch, AtomicOrdering::AcqRel) != epoch {
            // Another stream: its sequences start over.
            self.position.store(sequence, AtomicOrdering::Release);
        } else {
            self.set_position(sequence);
        }
        self.positioned.store(true, AtomicOrdering::Release);
    }

    /// `(epoch, position)` for a window's key, once the feed is positioned.
    pub(crate) fn window_version(&self) -> Option<(u64, u64)> {
        self.positioned
            .load(AtomicOrdering::Acquire)
            .then(|| (self.epoch.load(AtomicOrdering::Acquire), self.position()))
    }

    /// `event` from the stream is about to be applied.
    pub(crate) fn expect_echo(&self, event: &ChangeEvent) {
        let key = event.id().unwrap_or(ALL).to_string();
        lock(&self.echoes).insert(key, event.clone());
    }

    /// Something else changed row `id` (or everything): an identical change
    /// later is news again.
    pub(crate) fn forget_echo(&self, id: Option<&str>) {
        let mut echoes = lock(&self.echoes);
        match id {
            Some(id) => {
                echoes.remove(id);
            }
            None => echoes.clear(),
        }
    }

    /// True (and forgotten) when `change` is how the Dio applied the remote
    /// change expected for its row.
    pub(crate) fn is_echo(&self, change: &LocalChange<'_>) -> bool {
        let key = change.id().unwrap_or(ALL);
        let mut echoes = lock(&self.echoes);
        let Some(expected) = echoes.get(key) else {
            return false;
        };
        let same = match (change, expected) {
            (
                LocalChange::Patched { fields, .. },
                ChangeEvent::Updated {
                    fields: Some(expected),
                    ..
                },
            ) => *fields == expected,
            (LocalChange::Removed { .. }, ChangeEvent::Removed { .. })
            | (LocalChange::InvalidatedRecord { .. }, ChangeEvent::Updated { fields: None, .. })
            | (LocalChange::InvalidatedAll, ChangeEvent::Reset) => true,
            _ => false,
        };
        if same {
            echoes.remove(key);
        }
        same
    }
}

/// A poisoned lock still holds consistent data here (every critical
/// section is a few map operations).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

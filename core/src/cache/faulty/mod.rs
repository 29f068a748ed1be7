//! A simulated disk for cache backends, with faults on demand: failing
//! writes and flushes, crashes that lose what was not flushed, rollbacks to
//! an older flush, damaged entries.
//!
//! [`FaultyDisk`] is the disk and the test's remote control; each simulated
//! process lifetime sees it through a [`FaultyBackend`] (a
//! [`CacheBackend`](crate::cache::CacheBackend) to hand to a Lens). A crash
//! kills the current view; [`reopen`](FaultyDisk::reopen) hands out a fresh
//! one over what survived, the way a restarted process reopens its cache:
//!
//! ```
//! use diorama_core::cache::{CacheBackend, CacheBatch, CachedRow, RowState};
//! use diorama_core::cache::FaultyDisk;
//! use futures_lite::future::block_on;
//!
//! let disk = FaultyDisk::new(7);
//! let table = disk.backend().open_table("items")?;
//! table.insert_batch(vec![("a".into(), CachedRow::default())])?;
//! block_on(table.flush())?;
//! table.insert_batch(vec![("b".into(), CachedRow::default())])?;
//!
//! // The process dies before flushing `b`.
//! let backend = disk.crash_and_reopen();
//! assert!(table.get("a").is_err(), "the old handle died with its process");
//! let table = backend.open_table("items")?;
//! assert!(table.get("a")?.is_some());
//! assert!(table.get("b")?.is_none(), "never flushed, lost in the crash");
//!
//! // The next write fails as on a full disk, and changes nothing.
//! disk.fail_next_writes(1);
//! assert!(table.insert_batch(vec![("c".into(), CachedRow::default())]).is_err());
//! assert_eq!(table.count()?, 1);
//!
//! // After a rollback the disk comes back at an older flush; the table
//! // says so, and rows from before read as stale.
//! block_on(table.flush())?;
//! let table = disk.rollback(1).open_table("items")?;
//! assert!(table.integrity().rollback.is_some());
//! assert_eq!(table.get("a")?.map(|row| row.state), Some(RowState::Stale));
//! # Ok::<(), diorama_core::Error>(())
//! ```
//!
//! # Model
//!
//! The disk holds what is *applied* (what the current process sees) and
//! what is *durable* (as of the last completed flush), plus the durable
//! states of the last [`history`](FaultyDisk::set_history) flushes. A
//! flush of any table makes every table durable (one log, as in sled). A
//! crash resets applied to durable. A rollback resets durable to an older
//! flush first and then reports like the sled backend with its flush
//! marker: the reopened tables' [`integrity`](crate::cache::CacheTable::integrity)
//! carries the [`Rollback`](crate::cache::Rollback), the flush sequence
//! resumes past everything seen, and (unless
//! [`demote_on_rollback`](FaultyDisk::demote_on_rollback) is turned off)
//! complete rows stored before read as stale until written again.
//!
//! # Determinism
//!
//! Random write failures are drawn from a generator seeded at
//! [`new`](FaultyDisk::new) (pass the simulator's seed), one draw per write
//! while a failure rate is set; nothing else is random. Under the
//! simulator the calls come in a seeded order, so one seed replays the same
//! faults.

mod backend;
mod state;
mod table;

pub use backend::FaultyBackend;
pub use state::FaultStats;
pub use table::FaultyTable;

use alloc::sync::Arc;
use core::fmt;

use crate::sync::Mutex;
use state::{DiskState, StoredMeta};

/// A simulated disk under a cache backend, and the handle that injects its
/// faults; see the [module docs](self).
///
/// Cheap to clone: clones control the same disk.
///
/// # Thread safety
///
/// `Send + Sync`; every operation takes the disk's lock once.
#[derive(Clone)]
pub struct FaultyDisk {
    state: Arc<Mutex<DiskState>>,
    current: Arc<Mutex<Arc<FaultyBackend>>>,
}

impl FaultyDisk {
    /// An empty disk whose random faults are drawn from `seed`, with a view
    /// for the first process ready ([`backend`](Self::backend)).
    pub fn new(seed: u64) -> FaultyDisk {
        let state = Arc::new(Mutex::new(DiskState::new(seed)));
        let first = Arc::new(FaultyBackend::new(0, state.clone()));
        FaultyDisk {
            state,
            current: Arc::new(Mutex::new(first)),
        }
    }

    /// The latest process's view of the disk: the same one until
    /// [`reopen`](Self::reopen) follows a crash (between the two, the dead
    /// one, whose calls fail).
    pub fn backend(&self) -> Arc<FaultyBackend> {
        self.current.lock().clone()
    }

    /// The next `n` writes (applies, deletes, clears) fail with a `Failed`
    /// error and change nothing. Adds to any already due.
    pub fn fail_next_writes(&self, n: u64) {
        let mut disk = self.state.lock();
        disk.faults.fail_applies = disk.faults.fail_applies.saturating_add(n);
    }

    /// Every write fails with probability `rate` (clamped to 0…1), drawn
    /// from the disk's seeded generator; 0 turns it off.
    pub fn set_write_failure_rate(&self, rate: f64) {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.state.lock().faults.write_failure_rate = rate;
    }

    /// The next `n` flushes fail with a `Failed` error and make nothing
    /// durable. Adds to any already due.
    pub fn fail_next_flushes(&self, n: u64) {
        let mut disk = self.state.lock();
        disk.faults.fail_flushes = disk.faults.fail_flushes.saturating_add(n);
    }

    /// No more injected write or flush failures (crashes and rollbacks are
    /// explicit and unaffected).
    pub fn heal(&self) {
        let mut disk = self.state.lock();
        disk.faults.fail_applies = 0;
        disk.faults.fail_flushes = 0;
        disk.faults.write_failure_rate = 0.0;
    }

    /// Whether a rollback demotes rows stored before it to stale (default
    /// `true`, as the sled backend does). With `false` the rollback is only
    /// reported, so a reader's own demotion can be tested.
    pub fn demote_on_rollback(&self, demote: bool) {
        self.state.lock().faults.demote_on_rollback = demote;
    }

    /// How many earlier flushes' durable states are kept for
    /// [`rollback`](Self::rollback) (default 16; at least 1).
    pub fn set_history(&self, flushes: usize) {
        let mut disk = self.state.lock();
        disk.history_limit = flushes.max(1);
        while disk.history.len() > disk.history_limit {
            disk.history.pop_front();
        }
    }

    /// Damage the stored row `id` of `table` (as applied now): it reads as
    /// absent and is counted until it is written again. Returns whether
    /// there was such a row.
    pub fn damage_row(&self, table: &str, id: &str) -> bool {
        let mut disk = self.state.lock();
        match disk.live.get_mut(table).and_then(|t| t.rows.get_mut(id)) {
            Some(stored) => {
                stored.damaged = true;
                true
            }
            None => false,
        }
    }

    /// Damage the meta entry `key` of `table`, like [`damage_row`](Self::damage_row).
    pub fn damage_meta(&self, table: &str, key: &[u8]) -> bool {
        let mut disk = self.state.lock();
        match disk.live.get_mut(table).and_then(|t| t.meta.get_mut(key)) {
            Some(StoredMeta { damaged, .. }) => {
                *damaged = true;
                true
            }
            None => false,
        }
    }

    /// Simulate the process dying now: everything applied since the last
    /// completed flush is lost, and the current view and its tables fail
    /// every call from now on. [`reopen`](Self::reopen) starts the next
    /// process.
    pub fn crash(&self) {
        self.state.lock().crash();
    }

    /// A fresh view of what survived, for the next process (after
    /// [`crash`](Self::crash) or [`rollback`](Self::rollback)). Without a
    /// crash it returns the current view: a live process keeps its handles.
    pub fn reopen(&self) -> Arc<FaultyBackend> {
        let generation = self.state.lock().generation;
        let mut current = self.current.lock();
        if current.generation() != generation {
            *current = Arc::new(FaultyBackend::new(generation, self.state.clone()));
        }
        current.clone()
    }

    /// [`crash`](Self::crash), then [`reopen`](Self::reopen).
    pub fn crash_and_reopen(&self) -> Arc<FaultyBackend> {
        self.crash();
        self.reopen()
    }

    /// Simulate a crash after which the disk comes back `flushes` flushes
    /// behind its last completed one (as sled does when it recovers an
    /// older prefix of its log), and reopen. Goes back at most as far as
    /// the kept history; `0` is a plain crash. The new view's tables report
    /// the rollback from [`integrity`](crate::cache::CacheTable::integrity).
    pub fn rollback(&self, flushes: u64) -> Arc<FaultyBackend> {
        self.state.lock().crash_with_rollback(flushes);
        self.reopen()
    }

    /// Completed flushes so far: the disk's flush sequence.
    pub fn flushes(&self) -> u64 {
        self.state.lock().flushes
    }

    /// Counts of what happened on the disk.
    pub fn stats(&self) -> FaultStats {
        self.state.lock().stats
    }
}

impl fmt::Debug for FaultyDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_lock`: formatting must never wait on a caller holding it.
        match self.state.try_lock() {
            Some(disk) => f
                .debug_struct("FaultyDisk")
                .field("flushes", &disk.flushes)
                .field("generation", &disk.generation)
                .field("tables", &disk.live.len())
                .finish(),
            None => f.debug_struct("FaultyDisk").finish_non_exhaustive(),
        }
    }
}

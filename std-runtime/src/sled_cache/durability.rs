//! Flushing a sled cache: group commit, the flush counter, the marker file,
//! and the epochs that let a reader distrust rows from before a rollback.
//!
//! One [`Durability`] per open database, shared by the backend and every
//! table. A flush round:
//!
//! 1. stores the next flush sequence `n` at `FLUSHED_KEY` in sled;
//! 2. flushes sled (everything applied so far, `n` included, is on disk);
//! 3. rewrites the marker file with `n` in place and syncs it (see
//!    `marker`): one `fdatasync`, which also flushes the device cache that
//!    sled's own writes (`sync_file_range`) went to.
//!
//! Flushes requested while a round runs share the next round (group
//! commit): with many concurrent writers each round costs the same fsyncs
//! however many callers it answers. Async callers wait on an event, not on
//! a thread: only the round itself runs on the `blocking` pool, so 256
//! writers flushing at once occupy one pool thread, not 256.
//!
//! Every row is stored with the *epoch* it was written in: the last
//! completed flush plus one. sled's stored counter is written before the
//! round's flush, so it is never behind the epoch of any row it holds minus
//! one. When a reopen finds a rollback (`recovery`), it resumes the counter
//! past both the stored and the marker's value and sets the *trust floor* to
//! the next epoch: every row written before reads as stale, every row
//! written after as it was written.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use event_listener::Event;

use diorama_core::cache::Rollback;
use diorama_core::error::{Error, Result};

use super::codec::{self, FLUSHED_KEY};
use super::marker;
use super::sled_error;
use super::snapshot::SnapshotOnClose;

/// What opening the database established (from `recovery`).
#[derive(Clone, Debug)]
pub(super) struct Recovered {
    /// The last completed flush to resume from.
    pub(super) flushed: u64,
    /// Rows of an epoch below this read as stale.
    pub(super) floor: u64,
    /// Set when the store reopened behind its marker.
    pub(super) rollback: Option<Rollback>,
}

/// The flush state of one sled database, shared by its backend and tables.
pub(super) struct Durability {
    db: sled::Db,
    /// The cache directory; `None` for a temporary cache (nothing outlives
    /// it, so no marker is kept).
    marker_dir: Option<PathBuf>,
    /// The marker file held open for the rounds (opened by the first one,
    /// and again after a failed write).
    marker: Mutex<Option<marker::InPlace>>,
    floor: u64,
    rollback: Option<Rollback>,
    resumed_from: u64,
    /// The epoch rows written now carry: the last completed flush + 1.
    epoch: AtomicU64,
    /// Whether anything was written since the last round began.
    dirty: AtomicBool,
    gate: Mutex<Gate>,
    /// Wakes threads in [`flush`](Durability::flush) when a round ends.
    round_done: Condvar,
    /// Wakes tasks in [`flush_async`](Durability::flush_async) when a round
    /// ends.
    round_done_event: Event,
    /// Last: dropped after `db` closed (see `snapshot`).
    snapshot: SnapshotOnClose,
}

/// What a flusher does next.
enum Step {
    /// Its round finished with this outcome.
    Done(Result<()>),
    /// Run round `round`, recording flush sequence `next`.
    Run { round: u64, next: u64 },
    /// Wait for the running round to end.
    Wait,
}

/// Group-commit bookkeeping.
struct Gate {
    /// The last flush sequence stored in sled.
    flushed: u64,
    /// Rounds started and finished so far.
    started: u64,
    finished: u64,
    running: bool,
    /// The outcome of the last finished round.
    last: Result<()>,
}

impl Durability {
    pub(super) fn new(
        db: sled::Db,
        marker_dir: Option<PathBuf>,
        recovered: Recovered,
        snapshot: SnapshotOnClose,
    ) -> Self {
        Durability {
            snapshot,
            db,
            marker_dir,
            marker: Mutex::new(None),
            floor: recovered.floor,
            rollback: recovered.rollback,
            resumed_from: recovered.flushed,
            epoch: AtomicU64::new(recovered.flushed.saturating_add(1)),
            dirty: AtomicBool::new(false),
            gate: Mutex::new(Gate {
                flushed: recovered.flushed,
                started: 0,
                finished: 0,
                running: false,
                last: Ok(()),
            }),
            round_done: Condvar::new(),
            round_done_event: Event::new(),
        }
    }

    /// The database.
    pub(super) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The epoch to store with a row written now.
    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Rows stored with an epoch below this read as stale.
    pub(super) fn floor(&self) -> u64 {
        self.floor
    }

    /// The rollback found when the database was opened.
    pub(super) fn rollback(&self) -> Option<&Rollback> {
        self.rollback.as_ref()
    }

    /// The flush sequence the database resumed from at open.
    pub(super) fn resumed_from(&self) -> u64 {
        self.resumed_from
    }

    /// Note a write, so the next flush (or the final one at close) runs a
    /// round.
    pub(super) fn touched(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// Note a write of `bytes` (keys and values): a session that wrote a
    /// lot takes sled's snapshot when it closes (`snapshot`).
    pub(super) fn wrote(&self, bytes: u64) {
        self.touched();
        self.snapshot.wrote(bytes);
    }

    fn gate(&self) -> MutexGuard<'_, Gate> {
        // The gate holds counters updated whole under the lock; a panic
        // elsewhere cannot leave it half-written.
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The round that answers a flush asked for now, or `None` when
    /// nothing was written since a round that succeeded.
    fn target(&self, gate: &Gate) -> Option<u64> {
        if !gate.running && gate.last.is_ok() && !self.dirty.load(Ordering::Acquire) {
            return None;
        }
        // A round already running may have begun before this caller's
        // writes: only one that starts from now on answers it.
        Some(gate.started + 1)
    }

    /// The next step towards round `target`; claims the round when none
    /// runs.
    fn step(gate: &mut Gate, target: u64) -> Step {
        if gate.finished >= target {
            // A later round answers too: it began after the caller's writes.
            return Step::Done(gate.last.clone());
        }
        if gate.running {
            return Step::Wait;
        }
        gate.running = true;
        gate.started += 1;
        Step::Run {
            round: gate.started,
            next: gate.flushed + 1,
        }
    }

    /// Run a claimed round to the end and wake everyone waiting for it.
    fn run_round(&self, round: u64, next: u64) {
        let (stored, outcome) = self.round(next);
        let mut gate = self.gate();
        if stored {
            gate.flushed = next;
            self.epoch.store(next + 1, Ordering::Release);
        }
        gate.running = false;
        gate.finished = round;
        gate.last = outcome;
        drop(gate);
        self.round_done.notify_all();
        self.round_done_event.notify(usize::MAX);
    }

    /// Make everything written so far durable, and record it in sled's
    /// counter and the marker. Blocks until the disk confirms; concurrent
    /// callers share rounds. The error of a failed round goes to every
    /// caller it answered.
    pub(super) fn flush(&self) -> Result<()> {
        let mut gate = self.gate();
        let Some(target) = self.target(&gate) else {
            return Ok(());
        };
        loop {
            match Self::step(&mut gate, target) {
                Step::Done(outcome) => return outcome,
                Step::Run { round, next } => {
                    drop(gate);
                    self.run_round(round, next);
                    gate = self.gate();
                }
                Step::Wait => {
                    gate = self
                        .round_done
                        .wait(gate)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }

    /// [`flush`](Self::flush) for async callers: the round runs on the
    /// `blocking` pool, detached (a dropped caller cannot strand a round
    /// half-claimed), and waiting costs no thread.
    ///
    /// Cancel safety: dropping the future abandons only the wait; a round
    /// it started still completes and answers the other callers.
    pub(super) async fn flush_async(self: Arc<Self>) -> Result<()> {
        let Some(target) = self.target(&self.gate()) else {
            return Ok(());
        };
        loop {
            // Listen before looking, so a round ending in between is seen.
            let listener = self.round_done_event.listen();
            let step = Self::step(&mut self.gate(), target);
            match step {
                Step::Done(outcome) => return outcome,
                Step::Run { round, next } => {
                    let this = self.clone();
                    blocking::unblock(move || this.run_round(round, next)).detach();
                    listener.await;
                }
                Step::Wait => listener.await,
            }
        }
    }

    /// One flush round recording `next`. Returns whether sled holds `next`
    /// durably, and the round's outcome.
    fn round(&self, next: u64) -> (bool, Result<()>) {
        self.dirty.store(false, Ordering::Release);
        let stored = self
            .db
            .insert(FLUSHED_KEY, codec::encode_u64(FLUSHED_KEY, next))
            .and_then(|_| self.db.flush())
            .map_err(|e| sled_error(e).context("cannot flush the cache"));
        if let Err(error) = stored {
            // The round did not complete: the next flush must run one.
            self.dirty.store(true, Ordering::Release);
            return (false, Err(error));
        }
        let Some(dir) = &self.marker_dir else {
            return (true, Ok(()));
        };
        let outcome = self.record_marker(dir, next).map_err(|e| {
            Error::failed(format!(
                "the cache was flushed, but its flush marker in {} could not be written: {e}",
                dir.display()
            ))
        });
        if outcome.is_err() {
            self.dirty.store(true, Ordering::Release);
        }
        (true, outcome)
    }
}

impl Durability {
    /// Rewrite the marker in `dir` with `flush`.
    fn record_marker(&self, dir: &Path, flush: u64) -> io::Result<()> {
        // Only the round running takes it: never contended.
        let mut held = self.marker.lock().unwrap_or_else(PoisonError::into_inner);
        let marker = match &mut *held {
            Some(marker) => marker,
            None => held.insert(marker::InPlace::open(dir, flush)?),
        };
        let outcome = marker.record(flush);
        if outcome.is_err() {
            // The next round opens it again (or creates it, if gone).
            *held = None;
        }
        outcome
    }
}

impl Drop for Durability {
    /// The last handle closing flushes what was written since the last
    /// flush, so a clean stop leaves sled and the marker in step (sled
    /// flushes on close too, but only a round updates the marker).
    fn drop(&mut self) {
        if self.dirty.load(Ordering::Acquire)
            && let Err(error) = self.flush()
        {
            self.snapshot.cancel();
            log::warn!("closing the cache: {error}");
        }
    }
}

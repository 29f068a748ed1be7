//! The outbox: each queued write's intent, stored in the cache table's meta
//! space before the write leaves for the master, flushed (group commit)
//! before it is acknowledged durable, deleted in the same batch that
//! records the master's answer.
//!
//! The rules live in `intent` (encoding, replay order, run numbers); this
//! file keeps the running state: the run and sequence counters, the intents
//! not yet confirmed (for `DeleteAll`, which clears the table), the flush
//! watermark shared by every ticket, and each write's [`Durability`] cell.
//!
//! # Group commit
//! Every intent stored bumps `applied`. A flush that starts after an
//! intent was stored makes it durable, so a waiter records `applied` before
//! calling the backend's flush and, on success, raises `flushed` to it.
//! Many tickets waiting at once call the backend's flush at once, and the
//! sled backend answers them all with one round.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;
use portable_atomic::AtomicU64;

use super::WriteOp;
use super::intent;
use crate::cache::{CacheBatch, CacheTable, meta};
use crate::error::{Error, ErrorKind, Result};
use crate::sync::Mutex;
use crate::vista::WriteKey;

/// Where one write stands on the way to disk.
#[derive(Clone, Debug)]
enum Stage {
    /// It has its key and is queued; its intent is being stored.
    Storing,
    /// Its intent is applied to the cache; durable once a flush that
    /// started after `applied` reached that count succeeds.
    Stored { applied: u64 },
    /// Its intent is on disk (or the backend keeps nothing on disk and
    /// has it in memory).
    Durable,
    /// Its intent could not be stored or flushed (the worker tries once
    /// more before it would send the write).
    Failed(Error),
    /// The Lens keeps no intents (`durable_writes(false)`).
    Off,
}

/// One write's durability, shared by its ticket and the worker.
#[derive(Debug)]
pub(crate) struct Durability {
    stage: Mutex<Stage>,
    /// Woken when the intent has been stored (or failed to be).
    stored: Event,
}

impl Durability {
    fn new(stage: Stage) -> Arc<Self> {
        Arc::new(Durability {
            stage: Mutex::new(stage),
            stored: Event::new(),
        })
    }

    /// Already durable (a replayed intent read from disk).
    pub(crate) fn durable() -> Arc<Self> {
        Self::new(Stage::Durable)
    }

    fn stage(&self) -> Stage {
        self.stage.lock().clone()
    }

    /// Whether the Lens keeps no intents.
    pub(crate) fn is_off(&self) -> bool {
        matches!(*self.stage.lock(), Stage::Off)
    }

    fn settle(&self, stage: Stage) {
        let mut current = self.stage.lock();
        if matches!(*current, Stage::Stored { .. } | Stage::Storing) {
            *current = stage;
        }
        drop(current);
        self.stored.notify(usize::MAX);
    }
}

/// The outbox of one Dio; see the module docs.
pub(crate) struct Outbox {
    cache: Arc<dyn CacheTable>,
    name: Arc<str>,
    enabled: bool,
    run: u64,
    /// The next sequence number (under `order`).
    next_seq: Mutex<u64>,
    /// Held while a write takes its sequence number and enters the queue,
    /// so sequence order is queue order (its intent is stored right after,
    /// outside the lock).
    pub(crate) order: Mutex<()>,
    /// Intents stored and not yet confirmed, by (run, seq).
    unconfirmed: Mutex<BTreeMap<(u64, u64), Vec<u8>>>,
    /// Intent keys whose deletion failed (a failing disk); deleted with the
    /// next batch that succeeds.
    leftovers: Mutex<Vec<Vec<u8>>>,
    /// Whether this run's number is stored at `WRITE_RUN` (it goes with
    /// the first intent stored, not with every one: a second write of the
    /// same value would only cost the backend a key per intent).
    run_stored: AtomicBool,
    applied: AtomicU64,
    flushed: AtomicU64,
    /// The `applied` count a flush must reach before the next write leaves
    /// for the master: the deletion of a refused write's intent (which a
    /// flush of another write may have made durable) must be on disk first,
    /// or a crash would replay it after later writes.
    refused_through: AtomicU64,
    /// Woken when the worker takes a write off the queue (room for one
    /// more) and when the queue closes.
    pub(crate) room: Event,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .field("run", &self.run)
            .field("unconfirmed", &self.unconfirmed.lock().len())
            .finish_non_exhaustive()
    }
}

/// A write as it enters the queue: its key, its durability and its
/// intent's bytes to store.
pub(crate) struct Admitted {
    intent: Option<Vec<u8>>,
    pub(crate) key: WriteKey,
    pub(crate) durability: Arc<Durability>,
}

impl Outbox {
    /// The outbox of a Dio named `name` opened as run `run`; `enabled`
    /// follows the Lens's `durable_writes`.
    pub(crate) fn new(cache: Arc<dyn CacheTable>, name: Arc<str>, enabled: bool, run: u64) -> Self {
        Outbox {
            cache,
            name,
            enabled,
            run,
            next_seq: Mutex::new(1),
            order: Mutex::new(()),
            unconfirmed: Mutex::new(BTreeMap::new()),
            leftovers: Mutex::new(Vec::new()),
            run_stored: AtomicBool::new(false),
            applied: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            refused_through: AtomicU64::new(0),
            room: Event::new(),
        }
    }

    /// Take the next key for `op` (the caller holds `order` and queues the
    /// write right after; its intent is then stored with
    /// [`store`](Self::store), outside the lock).
    pub(crate) fn admit(&self, op: &WriteOp) -> Admitted {
        let seq = {
            let mut next = self.next_seq.lock();
            let seq = *next;
            *next += 1;
            seq
        };
        let key = WriteKey::new(self.name.clone(), self.run, seq);
        if !self.enabled {
            return Admitted {
                intent: None,
                key,
                durability: Durability::new(Stage::Off),
            };
        }
        Admitted {
            intent: Some(intent::encode(op)),
            key,
            durability: Durability::new(Stage::Storing),
        }
    }

    /// Store the intent of a write [`admit`](Self::admit)ted and queued. A
    /// failure leaves the write queued, not durable (the worker tries once
    /// more before it would send it).
    pub(crate) fn store(&self, admitted: Admitted) {
        let Some(bytes) = admitted.intent else { return };
        let (run, seq) = (admitted.key.run(), admitted.key.seq());
        let mut batch = CacheBatch::new();
        // Intents whose deletion failed go in the same batch: a flush that
        // makes this intent durable must not make one of a refused write
        // durable without its deletion (it would be replayed).
        let leftovers: Vec<Vec<u8>> = self.leftovers.lock().clone();
        for key in &leftovers {
            batch.meta_delete(key.clone());
        }
        batch.meta_put(meta::outbox(run, seq), bytes.clone());
        // The run number must be stored once an intent of this run is (a
        // later opening takes a higher one, so no idempotency key comes
        // back); with it, this batch is the intent alone, which a backend
        // may store without a multi-key transaction.
        let with_run = !self.run_stored.load(Ordering::Acquire);
        if with_run {
            batch.meta_put(meta::WRITE_RUN, self.run.to_be_bytes().to_vec());
        }
        // Listed before it is stored: a DeleteAll clearing the table now
        // stores it again.
        self.unconfirmed.lock().insert((run, seq), bytes);
        let stage = match self.cache.apply(batch) {
            Ok(()) => {
                if with_run {
                    self.run_stored.store(true, Ordering::Release);
                }
                self.leftovers.lock().retain(|key| !leftovers.contains(key));
                let applied = self.applied.fetch_add(1, Ordering::AcqRel) + 1;
                Stage::Stored { applied }
            }
            Err(error) => {
                self.unconfirmed.lock().remove(&(run, seq));
                Stage::Failed(error.context("storing the write's intent"))
            }
        };
        admitted.durability.settle(stage);
    }

    /// A replayed intent found at open, under its stored key.
    pub(crate) fn readmit(&self, run: u64, seq: u64, op: &WriteOp) -> WriteKey {
        self.unconfirmed
            .lock()
            .insert((run, seq), intent::encode(op));
        WriteKey::new(self.name.clone(), run, seq)
    }

    /// Drop `key` from the intents kept in memory (it is over, or about to
    /// be cleared with the whole table).
    pub(crate) fn forget(&self, key: &WriteKey) -> bool {
        self.unconfirmed
            .lock()
            .remove(&(key.run(), key.seq()))
            .is_some()
    }

    /// Add the deletion of `key`'s intent (and of earlier leftovers) to
    /// `batch`, the one that records the write's result, so the intent
    /// goes exactly when the result is stored.
    pub(crate) fn confirm_in(&self, batch: &mut CacheBatch, key: &WriteKey) {
        if !self.forget(key) {
            return;
        }
        batch.meta_delete(meta::outbox(key.run(), key.seq()));
        for leftover in self.leftovers.lock().drain(..) {
            batch.meta_delete(leftover);
        }
    }

    /// The batch that carried `key`'s confirmation failed: the earlier
    /// leftovers it carried are left over again. `key`'s own intent stays
    /// (on disk, and in the cache): the row was not recorded, so a replay
    /// must still find it; see [`intent_key`](Self::intent_key).
    pub(crate) fn confirm_failed(&self, batch: &CacheBatch, key: &WriteKey) {
        let own = meta::outbox(key.run(), key.seq());
        let mut leftovers = self.leftovers.lock();
        for deleted in &batch.meta_deletes {
            if deleted.starts_with(meta::OUTBOX) && *deleted != own && !leftovers.contains(deleted)
            {
                leftovers.push(deleted.clone());
            }
        }
    }

    /// The meta key of `key`'s intent.
    pub(crate) fn intent_key(key: &WriteKey) -> alloc::vec::Vec<u8> {
        meta::outbox(key.run(), key.seq())
    }

    /// Delete `key`'s intent on its own (a write routed by `on_write`, or a
    /// failed one); remembered for later when the cache refuses.
    pub(crate) fn confirm(&self, key: &WriteKey) {
        let mut batch = CacheBatch::new();
        self.confirm_in(&mut batch, key);
        if !batch.is_empty() {
            self.apply_or_remember(batch);
        }
    }

    fn apply_or_remember(&self, batch: CacheBatch) {
        if self.cache.apply(batch.clone()).is_err() {
            let mut leftovers = self.leftovers.lock();
            for deleted in batch.meta_deletes {
                if deleted.starts_with(meta::OUTBOX) && !leftovers.contains(&deleted) {
                    leftovers.push(deleted);
                }
            }
        }
    }

    /// Clear the cache table (a `DeleteAll` the master applied) and store
    /// the intents still unconfirmed again (clearing wipes the meta space).
    ///
    /// # Errors
    /// The cache's error when it cannot clear or store them.
    pub(crate) fn clear_table(&self) -> Result<()> {
        let cleared = self.cache.clear();
        // Whether or not the clear got through, `WRITE_RUN` may be gone: the
        // next batch that stores an intent stores it again.
        self.run_stored.store(false, Ordering::Release);
        cleared?;
        let mut batch = CacheBatch::new();
        for ((run, seq), bytes) in self.unconfirmed.lock().iter() {
            batch.meta_put(meta::outbox(*run, *seq), bytes.clone());
        }
        batch.meta_put(meta::WRITE_RUN, self.run.to_be_bytes().to_vec());
        self.leftovers.lock().clear();
        self.cache.apply(batch)?;
        self.run_stored.store(true, Ordering::Release);
        Ok(())
    }

    /// A write was refused (its intent could not be made durable): delete
    /// its intent, and see that the deletion is on disk before any later
    /// write is sent (now if the disk allows, else before the next send).
    pub(crate) async fn refuse(&self, key: &WriteKey) {
        self.confirm(key);
        let applied = self.applied.fetch_add(1, Ordering::AcqRel) + 1;
        self.refused_through.fetch_max(applied, Ordering::AcqRel);
        let _ = self.clear_refusals().await;
    }

    /// `Ok` once no refused write's intent can come back: their deletions
    /// are stored and flushed. Cheap when nothing was refused.
    ///
    /// # Errors
    /// The cache's error when it still cannot store or flush them.
    pub(crate) async fn clear_refusals(&self) -> Result<()> {
        let leftovers: Vec<Vec<u8>> = self.leftovers.lock().clone();
        if !leftovers.is_empty() {
            let mut batch = CacheBatch::new();
            for key in &leftovers {
                batch.meta_delete(key.clone());
            }
            self.cache.apply(batch)?;
            self.leftovers.lock().retain(|key| !leftovers.contains(key));
            self.applied.fetch_add(1, Ordering::AcqRel);
        }
        let through = self.refused_through.load(Ordering::Acquire);
        if self.flushed.load(Ordering::Acquire) >= through {
            return Ok(());
        }
        let covered = self.applied.load(Ordering::Acquire);
        self.cache.flush().await?;
        self.flushed.fetch_max(covered, Ordering::AcqRel);
        Ok(())
    }

    /// One more attempt for a write whose intent could not be stored or
    /// flushed (a disk failing for a moment): store it again (the same key)
    /// and flush.
    ///
    /// # Errors
    /// The cache's error when it fails again.
    pub(crate) async fn retry(
        &self,
        durability: &Durability,
        key: &WriteKey,
        op: &WriteOp,
    ) -> Result<()> {
        if matches!(durability.stage(), Stage::Failed(_)) {
            let bytes = intent::encode(op);
            let mut batch = CacheBatch::new();
            batch.meta_put(meta::outbox(key.run(), key.seq()), bytes.clone());
            batch.meta_put(meta::WRITE_RUN, self.run.to_be_bytes().to_vec());
            self.cache.apply(batch)?;
            self.unconfirmed
                .lock()
                .insert((key.run(), key.seq()), bytes);
            let applied = self.applied.fetch_add(1, Ordering::AcqRel) + 1;
            *durability.stage.lock() = Stage::Stored { applied };
        }
        self.make_durable(durability).await
    }

    /// Wait until `durability`'s intent is on disk, flushing the cache
    /// (shared with every other waiter) when it is not yet.
    ///
    /// # Errors
    /// Why the intent is not durable: it could not be stored or flushed
    /// (the error of the cache), or the Lens keeps no intents
    /// ([`Unsupported`](ErrorKind::Unsupported)).
    pub(crate) async fn make_durable(&self, durability: &Durability) -> Result<()> {
        loop {
            let applied = match durability.stage() {
                Stage::Storing => {
                    let stored = durability.stored.listen();
                    if matches!(durability.stage(), Stage::Storing) {
                        stored.await;
                    }
                    continue;
                }
                Stage::Durable => return Ok(()),
                Stage::Failed(error) => return Err(error),
                Stage::Off => {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        "this Lens keeps no write intents (durable_writes is off)",
                    ));
                }
                Stage::Stored { applied } => applied,
            };
            if self.flushed.load(Ordering::Acquire) >= applied {
                durability.settle(Stage::Durable);
                continue;
            }
            let covered = self.applied.load(Ordering::Acquire);
            match self.cache.flush().await {
                Ok(()) => {
                    self.flushed.fetch_max(covered, Ordering::AcqRel);
                }
                Err(error) => {
                    durability.settle(Stage::Failed(error.context("flushing the write's intent")));
                }
            }
        }
    }
}

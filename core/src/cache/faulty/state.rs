//! The simulated disk's contents and fault plan: what is applied, what is
//! durable, and the durable states of earlier flushes.
//!
//! Everything here is plain data and synchronous rules; the backend and
//! table views lock it for one call at a time.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Bound;

use fastrand::Rng;

use crate::cache::{CacheBatch, CachedRow, Rollback, RowState};
use crate::error::{Error, ErrorKind, Result};
use crate::vista::Id;

/// How many earlier flushes' durable states are kept for rollbacks.
pub(super) const DEFAULT_HISTORY: usize = 16;

/// A stored row: the row, the flush epoch it was written in, and whether
/// the simulated disk damaged it.
#[derive(Clone, Debug)]
pub(super) struct StoredRow {
    pub(super) row: CachedRow,
    pub(super) epoch: u64,
    pub(super) damaged: bool,
}

/// A stored meta value and whether it was damaged.
#[derive(Clone, Debug)]
pub(super) struct StoredMeta {
    pub(super) value: Vec<u8>,
    pub(super) damaged: bool,
}

/// One table's contents. `incarnation` tells a table re-created after a
/// drop from the one an old handle pointed at.
#[derive(Clone, Debug)]
pub(super) struct TableData {
    pub(super) incarnation: u64,
    pub(super) rows: BTreeMap<Id, StoredRow>,
    pub(super) meta: BTreeMap<Vec<u8>, StoredMeta>,
}

/// Every table on the disk, by name.
pub(super) type Tables = BTreeMap<String, TableData>;

/// Faults waiting to be injected.
#[derive(Clone, Debug, Default)]
pub(super) struct Faults {
    pub(super) fail_applies: u64,
    pub(super) fail_flushes: u64,
    /// Probability that any one write fails, drawn from the disk's seeded
    /// generator.
    pub(super) write_failure_rate: f64,
    /// Whether a rollback demotes the rows stored before it to stale, as
    /// the sled backend does.
    pub(super) demote_on_rollback: bool,
}

/// What happened on the disk so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultStats {
    /// Writes (applies, deletes, clears) that took effect.
    pub writes: u64,
    /// Writes refused by an injected fault.
    pub failed_writes: u64,
    /// Flushes completed.
    pub flushes: u64,
    /// Flushes refused by an injected fault.
    pub failed_flushes: u64,
    /// Simulated crashes (rollbacks included).
    pub crashes: u64,
    /// Simulated rollbacks.
    pub rollbacks: u64,
    /// Reads that met a damaged entry.
    pub corrupt_reads: u64,
}

/// The whole simulated disk.
#[derive(Debug)]
pub(super) struct DiskState {
    pub(super) rng: Rng,
    /// The current process lifetime; handles of an older one are dead.
    pub(super) generation: u64,
    /// What is applied (visible to the current process).
    pub(super) live: Tables,
    /// What the last completed flush made durable.
    pub(super) durable: Tables,
    /// Durable states of earlier flushes, oldest first, each with the flush
    /// sequence that made it durable.
    pub(super) history: VecDeque<(u64, Tables)>,
    pub(super) history_limit: usize,
    /// Completed flushes: the flush sequence.
    pub(super) flushes: u64,
    /// Rows of an epoch below this read as stale.
    pub(super) floor: u64,
    /// The flush sequence the current process resumed from.
    pub(super) resumed_from: u64,
    /// The rollback the current process found at open.
    pub(super) rollback: Option<Rollback>,
    next_incarnation: u64,
    pub(super) faults: Faults,
    pub(super) stats: FaultStats,
}

impl DiskState {
    pub(super) fn new(seed: u64) -> Self {
        DiskState {
            rng: Rng::with_seed(seed),
            generation: 0,
            live: Tables::new(),
            durable: Tables::new(),
            history: VecDeque::new(),
            history_limit: DEFAULT_HISTORY,
            flushes: 0,
            floor: 0,
            resumed_from: 0,
            rollback: None,
            next_incarnation: 0,
            faults: Faults {
                demote_on_rollback: true,
                ..Faults::default()
            },
            stats: FaultStats::default(),
        }
    }

    /// An error for a handle of an earlier process lifetime.
    pub(super) fn check_alive(&self, generation: u64) -> Result<()> {
        if generation == self.generation {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Closed,
                "this cache handle belongs to a simulated process that crashed",
            ))
        }
    }

    /// The live table `name` if it is still the incarnation `incarnation`.
    pub(super) fn table(&self, name: &str, incarnation: u64) -> Option<&TableData> {
        self.live.get(name).filter(|t| t.incarnation == incarnation)
    }

    pub(super) fn table_mut(&mut self, name: &str, incarnation: u64) -> Option<&mut TableData> {
        self.live
            .get_mut(name)
            .filter(|t| t.incarnation == incarnation)
    }

    /// The incarnation of live table `name`, creating it if needed.
    pub(super) fn open_table(&mut self, name: &str) -> u64 {
        if let Some(table) = self.live.get(name) {
            return table.incarnation;
        }
        self.next_incarnation += 1;
        let incarnation = self.next_incarnation;
        self.live.insert(
            String::from(name),
            TableData {
                incarnation,
                rows: BTreeMap::new(),
                meta: BTreeMap::new(),
            },
        );
        incarnation
    }

    /// Consume an injected write fault, if one is due.
    pub(super) fn write_fault(&mut self) -> Result<()> {
        let due = if self.faults.fail_applies > 0 {
            self.faults.fail_applies -= 1;
            true
        } else {
            self.faults.write_failure_rate > 0.0 && self.rng.f64() < self.faults.write_failure_rate
        };
        if due {
            self.stats.failed_writes += 1;
            return Err(Error::failed(
                "injected cache write failure (simulated: no space left on device)",
            ));
        }
        self.stats.writes += 1;
        Ok(())
    }

    /// The epoch a row written now carries.
    pub(super) fn epoch(&self) -> u64 {
        self.flushes + 1
    }

    /// A stored row as a reader sees it: `None` when damaged, stale when
    /// from before a rollback.
    pub(super) fn visible(&self, stored: &StoredRow) -> Option<CachedRow> {
        if stored.damaged {
            return None;
        }
        let mut row = stored.row.clone();
        if stored.epoch < self.floor && row.state == RowState::Complete {
            row.state = RowState::Stale;
        }
        Some(row)
    }

    /// Complete a flush: everything applied becomes durable.
    pub(super) fn flush(&mut self) -> Result<()> {
        if self.faults.fail_flushes > 0 {
            self.faults.fail_flushes -= 1;
            self.stats.failed_flushes += 1;
            return Err(Error::failed(
                "injected cache flush failure (simulated: I/O error)",
            ));
        }
        let previous = core::mem::replace(&mut self.durable, self.live.clone());
        self.history.push_back((self.flushes, previous));
        while self.history.len() > self.history_limit {
            self.history.pop_front();
        }
        self.flushes += 1;
        self.stats.flushes += 1;
        Ok(())
    }

    /// The process dies: everything not flushed is lost, and every handle
    /// of this lifetime is dead.
    pub(super) fn crash(&mut self) {
        self.live = self.durable.clone();
        self.generation += 1;
        self.stats.crashes += 1;
        self.resumed_from = self.flushes;
        self.rollback = None;
    }

    /// The process dies and the disk comes back `flushes_back` flushes
    /// behind its last one (at most as far back as the history reaches).
    /// Returns how many flush sequence numbers were lost (0: a plain crash).
    pub(super) fn crash_with_rollback(&mut self, flushes_back: u64) -> u64 {
        let kept = self.history.len();
        let back = usize::try_from(flushes_back)
            .unwrap_or(usize::MAX)
            .min(kept);
        if back == 0 {
            self.crash();
            return 0;
        }
        self.history.truncate(kept - back + 1);
        let Some((stored, tables)) = self.history.pop_back() else {
            self.crash();
            return 0;
        };
        let expected = self.flushes;
        self.durable = tables;
        self.crash();
        self.stats.rollbacks += 1;
        // As the sled backend does on finding a rollback: resume past
        // everything seen (reopening records a flush of its own), so no
        // epoch repeats, and demote what was stored before.
        self.flushes = expected + 1;
        self.resumed_from = self.flushes;
        let demote = self.faults.demote_on_rollback;
        if demote {
            self.floor = self.flushes + 1;
        }
        self.rollback = Some(
            Rollback::new(
                Some(stored),
                Some(expected),
                format!(
                    "simulated rollback: the disk came back at flush {stored}, \
                     its last flush was {expected}"
                ),
            )
            .demoted(demote),
        );
        expected - stored
    }
}

/// Apply `batch` to `table` in the order [`CacheBatch`] documents.
pub(super) fn apply_batch(table: &mut TableData, batch: CacheBatch, epoch: u64) {
    let CacheBatch {
        puts,
        deletes,
        meta_puts,
        meta_deletes,
        meta_delete_prefixes,
    } = batch;
    for id in &deletes {
        table.rows.remove(id.as_str());
    }
    for (id, row) in puts {
        table.rows.insert(
            id,
            StoredRow {
                row,
                epoch,
                damaged: false,
            },
        );
    }
    for key in &meta_deletes {
        table.meta.remove(key.as_slice());
    }
    for prefix in &meta_delete_prefixes {
        table.meta.retain(|key, _| !key.starts_with(prefix));
    }
    for (key, value) in meta_puts {
        table.meta.insert(
            key,
            StoredMeta {
                value,
                damaged: false,
            },
        );
    }
}

/// Rows with ids strictly after `after`, in id order.
pub(super) fn rows_after<'a>(
    table: &'a TableData,
    after: Option<&str>,
) -> impl Iterator<Item = (&'a Id, &'a StoredRow)> {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    table.rows.range::<str, _>((start, Bound::Unbounded))
}

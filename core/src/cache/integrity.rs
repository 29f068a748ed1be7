//! What a backend can tell about whether a table's stored data is what it
//! promised to keep: rollbacks found at open, damaged entries found on read.

use alloc::string::String;
use core::fmt;

/// A table's integrity as its backend knows it, from
/// [`CacheTable::integrity`](super::CacheTable::integrity).
///
/// A backend that cannot lose or damage data (the memory backend) reports
/// the default: no rollback, no corrupt reads, flush sequence 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntegrityReport {
    /// Set when the store was found, at open, to hold less than it had
    /// promised to keep (it recovered an older state than its last flush, or
    /// the evidence of its last flush is gone).
    pub rollback: Option<Rollback>,
    /// Reads since the table was opened that found a damaged row or meta
    /// entry and treated it as absent (see
    /// [`CacheTable::corrupt_reads`](super::CacheTable::corrupt_reads)).
    pub corrupt_reads: u64,
    /// The flush sequence the backend resumed from when it was opened: never
    /// lower than at any earlier open of the same store, a rollback
    /// included. A Dio can use it to keep keys it derives per open (such as
    /// idempotency keys of writes) unique across restarts. 0 for backends
    /// that do not count flushes.
    pub resumed_from_flush: u64,
}

impl IntegrityReport {
    /// A report of `corrupt_reads` damaged reads, no rollback.
    pub fn new(corrupt_reads: u64) -> Self {
        IntegrityReport {
            corrupt_reads,
            ..IntegrityReport::default()
        }
    }

    /// This report with `rollback` set.
    pub fn with_rollback(mut self, rollback: Rollback) -> Self {
        self.rollback = Some(rollback);
        self
    }

    /// This report with [`resumed_from_flush`](Self::resumed_from_flush) set.
    pub fn with_resumed_from_flush(mut self, flush: u64) -> Self {
        self.resumed_from_flush = flush;
        self
    }

    /// True when there is nothing to act on: no rollback, no corrupt read.
    pub fn is_clean(&self) -> bool {
        self.rollback.is_none() && self.corrupt_reads == 0
    }
}

/// A store that reopened behind what it had promised: what a reader of the
/// cache must no longer trust.
///
/// After a rollback, rows and meta entries may hold values older than the
/// ones the cache last flushed: shown as they are, they could look `Fresh`
/// while the master holds a later write. When [`rows_demoted`](Self::rows_demoted)
/// is true the backend already reads every row stored before the rollback as
/// [`RowState::Stale`](super::RowState::Stale) (until it is written again),
/// so readers revalidate them; meta entries (positions, intents, feed
/// positions) are the reader's to re-derive.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rollback {
    /// The flush sequence the store holds, if it could be read.
    pub stored_flush: Option<u64>,
    /// The flush sequence the store's out-of-band record (the sled
    /// backend's marker file) says was last completed, if it could be read.
    pub expected_flush: Option<u64>,
    /// Whether rows stored before the rollback now read as stale.
    pub rows_demoted: bool,
    /// What was found, for people.
    pub reason: String,
}

impl Rollback {
    /// A rollback from `expected_flush` back to `stored_flush`, explained by
    /// `reason`; rows not demoted until [`demoted`](Self::demoted) says so.
    pub fn new(
        stored_flush: Option<u64>,
        expected_flush: Option<u64>,
        reason: impl Into<String>,
    ) -> Self {
        Rollback {
            stored_flush,
            expected_flush,
            rows_demoted: false,
            reason: reason.into(),
        }
    }

    /// This rollback with [`rows_demoted`](Self::rows_demoted) set.
    pub fn demoted(mut self, rows_demoted: bool) -> Self {
        self.rows_demoted = rows_demoted;
        self
    }
}

impl fmt::Display for Rollback {
    /// `the cache rolled back: <reason> (rows stored before now read as stale)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the cache rolled back: {}", self.reason)?;
        if self.rows_demoted {
            f.write_str(" (rows stored before now read as stale)")?;
        }
        Ok(())
    }
}

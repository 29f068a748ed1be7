//! A sled snapshot taken when a cache that wrote a lot closes, so the next
//! start does not replay the session's log.
//!
//! sled 0.34 writes its snapshot (the page table) only while opening: it
//! reads the last snapshot, replays every log message written since, and
//! stores the result. A session that wrote the whole table leaves its whole
//! log to replay, which the next start pays for: 118–166 ms after filling a
//! million rows, against 18–33 ms for an open with a recent snapshot. So
//! when a backend that wrote at least [`SNAPSHOT_AFTER_BYTES`] closes, and
//! after its final flush and sled's own close, it opens the database once
//! more and closes it: sled replays and snapshots then, at shutdown, instead
//! of at the next start. Nothing is written but sled's snapshot; a failure
//! is logged and costs only the replay at the next open.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Bytes written in one session past which closing takes a snapshot.
pub(super) const SNAPSHOT_AFTER_BYTES: u64 = 8 * 1024 * 1024;

/// How long closing waits for sled's background threads to release the
/// directory's lock.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Counts what a session writes; dropped after the database, it takes the
/// snapshot when the count calls for it.
#[derive(Debug)]
pub(super) struct SnapshotOnClose {
    /// `None` for a temporary cache (nothing outlives it).
    path: Option<PathBuf>,
    cache_capacity: u64,
    written: AtomicU64,
    /// Set when the final flush failed: the store is not in a state worth
    /// snapshotting (a full disk, say), so leave it alone.
    cancelled: AtomicBool,
}

impl SnapshotOnClose {
    pub(super) fn new(path: Option<PathBuf>, cache_capacity: u64) -> Self {
        SnapshotOnClose {
            path,
            cache_capacity,
            written: AtomicU64::new(0),
            cancelled: AtomicBool::new(false),
        }
    }

    /// Take no snapshot at close.
    pub(super) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Note `bytes` written to sled.
    pub(super) fn wrote(&self, bytes: u64) {
        self.written.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Whether closing now would take a snapshot.
    fn due(&self) -> bool {
        self.path.is_some()
            && !self.cancelled.load(Ordering::Relaxed)
            && self.written.load(Ordering::Relaxed) >= SNAPSHOT_AFTER_BYTES
    }
}

impl Drop for SnapshotOnClose {
    /// Runs after the database closed (this is the last field of the
    /// durability state): reopen it so sled snapshots, then close it.
    fn drop(&mut self) {
        if !self.due() {
            return;
        }
        let Some(path) = &self.path else { return };
        // A directory already gone (deleted by its owner once the handles it
        // knew of closed) is not recreated by a snapshot.
        if !path.join("conf").exists() {
            return;
        }
        let started = Instant::now();
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(self.cache_capacity)
            .mode(sled::Mode::LowSpace)
            .flush_every_ms(None);
        loop {
            // sled 0.34 can panic on files changing under it (a directory
            // being deleted): closing must never take the process down.
            let opened = catch_unwind(AssertUnwindSafe(|| config.open().map(drop)));
            match opened {
                Ok(Ok(())) => {
                    log::debug!(
                        "cache at {}: snapshot taken at close in {:?}",
                        path.display(),
                        started.elapsed()
                    );
                    return;
                }
                // sled releases the lock from threads still winding down.
                Ok(Err(_)) if started.elapsed() < LOCK_WAIT && path.join("conf").exists() => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(Err(error)) => {
                    log::debug!(
                        "cache at {}: no snapshot at close ({error}); the next open replays the log",
                        path.display()
                    );
                    return;
                }
                Err(_) => {
                    log::warn!(
                        "cache at {}: sled panicked taking a snapshot at close; the next open replays the log",
                        path.display()
                    );
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_session_that_wrote_enough_to_a_lasting_cache_is_due() {
        let lasting = SnapshotOnClose::new(Some(PathBuf::from("/nonexistent")), 1);
        assert!(!lasting.due());
        lasting.wrote(SNAPSHOT_AFTER_BYTES - 1);
        assert!(!lasting.due());
        lasting.wrote(1);
        assert!(lasting.due());
        // Not dropped as due: it would try to open the path.
        lasting.written.store(0, Ordering::Relaxed);
        let temporary = SnapshotOnClose::new(None, 1);
        temporary.wrote(SNAPSHOT_AFTER_BYTES);
        assert!(!temporary.due());
    }
}

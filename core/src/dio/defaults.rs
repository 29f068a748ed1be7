//! Policy values of a Lens, with the seed's defaults (re-exported as
//! `lens::LensDefaults`).

use core::time::Duration;

/// The policy defaults every Dio and scenery under a Lens follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LensDefaults {
    /// Period of the background refresh; `None` (default) disables it.
    pub refresh_interval: Option<Duration>,
    /// Age after which a cached row reads as `Stale` and is refetched when a
    /// viewport reaches it; `None` (default) means rows never age.
    pub cache_ttl: Option<Duration>,
    /// Capacity of each Dio's write queue (default 256).
    pub write_queue_capacity: usize,
    /// Capacity of each Dio's event bus: how far a subscriber may fall behind
    /// before it is told it lagged (default 1024).
    pub event_bus_capacity: usize,
    /// Whether `make_dio` awaits `on_start` (default `true`).
    pub on_start_blocking: bool,
    /// Whether a table scenery loads its initial range when opened (default `true`).
    pub refresh_on_open: bool,
    /// Quiet time that coalesces rapid viewport changes (default 50 ms).
    pub viewport_debounce: Duration,
    /// Whether each queued write's intent is stored in the cache (and
    /// flushed before the write leaves for the master), so it survives a
    /// crash and is replayed on open (default `true`). Off, writes are
    /// faster and a crash loses the queued ones.
    pub durable_writes: bool,
    /// How many `on_load_detail` calls of one Dio run at once (default
    /// [`DEFAULT_DETAIL_CONCURRENCY`](super::DEFAULT_DETAIL_CONCURRENCY);
    /// must be ≥ 1).
    pub detail_concurrency: usize,
}

impl Default for LensDefaults {
    fn default() -> Self {
        LensDefaults {
            refresh_interval: None,
            cache_ttl: None,
            write_queue_capacity: 256,
            event_bus_capacity: 1024,
            on_start_blocking: true,
            refresh_on_open: true,
            viewport_debounce: Duration::from_millis(50),
            durable_writes: true,
            detail_concurrency: super::DEFAULT_DETAIL_CONCURRENCY,
        }
    }
}

//! Wall clocks: where an [`EmbassyRuntime`](crate::EmbassyRuntime) gets the
//! time it stamps cached rows with (`fetched_at`, TTL ages).
//!
//! Many boards have no real-time clock. Diorama needs wall time only to age
//! rows: within one boot any clock that moves forward at the right rate will
//! do, so the default, [`Uptime`], counts from boot. Stamps then mean
//! nothing across a reboot, which is harmless with a cache that does not
//! outlive the boot (the memory cache) and wrong with one that does: rows
//! stamped late in the last boot would look young. Give a persistent cache a
//! real clock: an RTC read through a closure, or a [`SettableClock`] set
//! from SNTP, GPS or a host message once the time is known.

use alloc::sync::Arc;
use core::fmt;

use diorama_core::Timestamp;
use portable_atomic::{AtomicBool, AtomicU64, Ordering};

/// A source of wall-clock time, in milliseconds since the Unix epoch.
///
/// Closures `Fn() -> Timestamp` are wall clocks, so an RTC driver plugs in
/// as `move || Timestamp::from_millis(rtc.unix_millis())`.
pub trait WallClock: Send + Sync {
    /// The current wall-clock time. Need not be monotonic.
    fn now(&self) -> Timestamp;
}

impl<F: Fn() -> Timestamp + Send + Sync> WallClock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

impl<W: WallClock + ?Sized> WallClock for Arc<W> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// Milliseconds since boot (embassy-time's clock) taken as wall time: the
/// default for boards without a real-time clock. Right for ages within one
/// boot; across a reboot only with a cache that does not persist.
#[derive(Clone, Copy, Debug, Default)]
pub struct Uptime;

impl WallClock for Uptime {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(uptime_millis())
    }
}

fn uptime_millis() -> u64 {
    embassy_time::Instant::now().as_millis()
}

/// A wall clock set once the time becomes known (SNTP, GPS, a message from
/// a host), running on embassy-time's clock in between.
///
/// Until [`set`](SettableClock::set) it reads as [`Uptime`]. Setting it
/// moves it to real time, usually far forward: rows stamped before then look
/// old and are refetched, which errs on the honest side. Put it in a
/// `static` (or an `Arc`) and hand the runtime a reference, so the code that
/// learns the time can set it later.
pub struct SettableClock {
    /// Wall time at boot in ms (the epoch offset of the uptime clock).
    at_boot: AtomicU64,
    set: AtomicBool,
}

impl SettableClock {
    /// A clock not yet set (reads as uptime).
    pub const fn new() -> Self {
        SettableClock {
            at_boot: AtomicU64::new(0),
            set: AtomicBool::new(false),
        }
    }

    /// Declare that it is `now`; later readings advance from it with
    /// embassy-time's clock. May be called again (a later SNTP sync).
    pub fn set(&self, now: Timestamp) {
        let at_boot = now.as_millis().saturating_sub(uptime_millis());
        self.at_boot.store(at_boot, Ordering::Release);
        self.set.store(true, Ordering::Release);
    }

    /// True once [`set`](SettableClock::set) was called.
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }
}

impl Default for SettableClock {
    fn default() -> Self {
        Self::new()
    }
}

impl WallClock for SettableClock {
    fn now(&self) -> Timestamp {
        let at_boot = self.at_boot.load(Ordering::Acquire);
        Timestamp::from_millis(at_boot.saturating_add(uptime_millis()))
    }
}

/// A `static` clock, handed to the runtime by reference and set later.
impl WallClock for &'static SettableClock {
    fn now(&self) -> Timestamp {
        SettableClock::now(self)
    }
}

impl fmt::Debug for SettableClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettableClock")
            .field("set", &self.is_set())
            .field("now", &self.now())
            .finish()
    }
}

/// The host's clock (`std::time::SystemTime`), for `std` builds.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(feature = "std")]
impl WallClock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_millis(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
    }
}

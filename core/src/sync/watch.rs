//! A generation watch: one monotonic counter that receivers wait on; they see the latest value, never a queue of values.
//!
//! Hand-written over an `AtomicU64` and an `event-listener` [`Event`]: the
//! watch channels of the maintained crates either need `std` (tokio) or fix
//! the number of receivers at compile time (`embassy-sync`), and a counter
//! needs no lock at all (on targets without 64-bit atomics, such as
//! Cortex-M, the core's [`Mutex`](super::Mutex) stands in for the atomic).

use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// A change counter: each [`bump`](GenerationSender::bump) yields a larger
/// generation. Only comparable within one watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Generation(pub u64);

/// Create a watch starting at `Generation(0)`, with its first receiver
/// (which has seen generation 0).
pub fn generation() -> (GenerationSender, GenerationReceiver) {
    let shared = Arc::new(Shared {
        value: Counter::new(),
        closed: AtomicBool::new(false),
        event: Event::new(),
    });
    (
        GenerationSender {
            shared: shared.clone(),
        },
        GenerationReceiver {
            shared,
            seen: Generation(0),
        },
    )
}

struct Shared {
    value: Counter,
    closed: AtomicBool,
    /// Notified on every bump and when the sender goes.
    event: Event,
}

/// The single writer of a generation watch.
///
/// Unlike a [`broadcast`](super::broadcast) bus it carries no payload and
/// keeps no history: receivers learn *that* something changed and read the
/// new state elsewhere.
///
/// # Lagging
/// A receiver cannot lag: however many bumps happen while it is away, its
/// next [`changed`](GenerationReceiver::changed) returns once, with the
/// latest generation.
///
/// # Closing
/// Dropping the sender closes the watch. Receivers that have not seen the
/// last generation still get it once, then [`Closed`].
///
/// # Thread safety
/// `Send` and `Sync`: `bump` may be called from many threads at once (through
/// a shared reference); every call yields a distinct, larger generation, and
/// the value readers see never goes back.
pub struct GenerationSender {
    shared: Arc<Shared>,
}

impl GenerationSender {
    /// Increment the generation, wake every waiting receiver, and return the
    /// new generation.
    pub fn bump(&self) -> Generation {
        // Wrapping would need 2^64 bumps (584 years at one per nanosecond),
        // so `fetch_add` keeps the counter monotonic in practice.
        let new = self.shared.value.increment();
        self.shared.event.notify(usize::MAX);
        Generation(new)
    }

    /// The current generation.
    pub fn get(&self) -> Generation {
        Generation(self.shared.value.get())
    }

    /// A new receiver that has seen the current generation, so its first
    /// `changed` waits for the next bump.
    pub fn subscribe(&self) -> GenerationReceiver {
        GenerationReceiver {
            shared: self.shared.clone(),
            seen: self.get(),
        }
    }
}

impl Drop for GenerationSender {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.event.notify(usize::MAX);
    }
}

impl fmt::Debug for GenerationSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenerationSender")
            .field("generation", &self.get())
            .finish()
    }
}

/// A reader of a generation watch that remembers the last generation it saw.
/// Cloning keeps that memory.
///
/// # Lagging
/// Never lags: bumps it did not observe collapse into one change (see
/// [`GenerationSender`]).
///
/// # Closing
/// Once the sender is dropped, [`changed`](Self::changed) returns the last
/// generation if this receiver has not seen it, then [`Closed`].
///
/// # Thread safety
/// `Send` and `Sync`. Waiting takes `&mut self`; clone the receiver for
/// another waiter.
#[derive(Clone)]
pub struct GenerationReceiver {
    shared: Arc<Shared>,
    seen: Generation,
}

impl GenerationReceiver {
    /// The latest generation (whether or not this receiver has seen it).
    pub fn get(&self) -> Generation {
        Generation(self.shared.value.get())
    }

    /// The last generation this receiver saw.
    pub fn seen(&self) -> Generation {
        self.seen
    }

    /// True when the latest generation is newer than the last one seen.
    pub fn has_changed(&self) -> bool {
        self.get() > self.seen
    }

    /// Mark the latest generation as seen and return it.
    pub fn mark_seen(&mut self) -> Generation {
        self.seen = self.get();
        self.seen
    }

    /// True once the sender is dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Wait until the generation is newer than the last one this receiver
    /// saw, mark it seen and return it.
    ///
    /// # Errors
    /// [`Closed`] when the sender is gone and there is nothing new.
    ///
    /// # Cancel safety
    /// Cancel safe: the generation is marked seen only by the poll that
    /// returns it, so dropping the future misses no change.
    pub async fn changed(&mut self) -> Result<Generation, Closed> {
        loop {
            if let Some(outcome) = self.check() {
                return outcome;
            }
            // Register before checking again so a bump between the check
            // above and this listener cannot be missed.
            let listener = self.shared.event.listen();
            if let Some(outcome) = self.check() {
                return outcome;
            }
            listener.await;
        }
    }

    /// `None` while nothing changed and the sender lives.
    fn check(&mut self) -> Option<Result<Generation, Closed>> {
        // Read `closed` first: the sender's last bump happens before it sets
        // `closed`, so a closed watch shows its final value below.
        let closed = self.is_closed();
        let current = self.get();
        if current > self.seen {
            self.seen = current;
            Some(Ok(current))
        } else if closed {
            Some(Err(Closed))
        } else {
            None
        }
    }
}

impl fmt::Debug for GenerationReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenerationReceiver")
            .field("seen", &self.seen)
            .field("latest", &self.get())
            .finish()
    }
}

/// The generation counter: an `AtomicU64` where the target has one.
#[cfg(target_has_atomic = "64")]
struct Counter(core::sync::atomic::AtomicU64);

#[cfg(target_has_atomic = "64")]
impl Counter {
    fn new() -> Counter {
        Counter(core::sync::atomic::AtomicU64::new(0))
    }

    /// Add one and return the new value.
    fn increment(&self) -> u64 {
        self.0.fetch_add(1, Ordering::AcqRel) + 1
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The generation counter: a `u64` behind the core's lock on targets without
/// 64-bit atomics (each critical section is one load or add).
#[cfg(not(target_has_atomic = "64"))]
struct Counter(crate::sync::Mutex<u64>);

#[cfg(not(target_has_atomic = "64"))]
impl Counter {
    fn new() -> Counter {
        Counter(crate::sync::Mutex::new(0))
    }

    /// Add one and return the new value.
    fn increment(&self) -> u64 {
        let mut value = self.0.lock();
        *value += 1;
        *value
    }

    fn get(&self) -> u64 {
        *self.0.lock()
    }
}

/// [`GenerationReceiver::changed`] found the sender gone and nothing new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("generation watch closed")
    }
}

impl core::error::Error for Closed {}

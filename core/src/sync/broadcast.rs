//! A bounded fan-out bus: every receiver sees every event sent after it subscribed, unless it falls more than `capacity` events behind (then it is told how many it missed).
//!
//! Hand-written because the maintained broadcast crates are not `no_std`
//! (`async-broadcast` needs `std`) or are fixed-capacity at compile time
//! (`embassy-sync`'s `PubSubChannel`), while the Lens needs a run-time
//! capacity. It is a ring of the last `capacity` events, each stored once
//! behind an [`Arc`] and numbered; a receiver is just a position in that
//! numbering. Waiting receivers park on an `event-listener` [`Event`].

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::fmt;

use crate::sync::Mutex;
use event_listener::Event;

/// Create a bus that retains the last `capacity` events, and its first
/// receiver.
///
/// A `capacity` of 0 (a bus that retains nothing could never deliver) is
/// treated as 1.
pub fn channel<T: Clone>(capacity: usize) -> (BroadcastSender<T>, BroadcastReceiver<T>) {
    let shared = Arc::new(Shared {
        ring: Mutex::new(Ring {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            head: 0,
            senders: 1,
            receivers: 1,
        }),
        event: Event::new(),
    });
    (
        BroadcastSender {
            shared: shared.clone(),
        },
        BroadcastReceiver { shared, next: 0 },
    )
}

struct Shared<T> {
    ring: Mutex<Ring<T>>,
    /// Notified on every send and when the last sender goes.
    event: Event,
}

struct Ring<T> {
    /// The retained events, oldest first. Shared through `Arc` so a receive
    /// holds the lock only for a reference-count bump, never for `T::clone`.
    events: VecDeque<Arc<T>>,
    capacity: usize,
    /// Sequence number of `events[0]`; the next event sent gets
    /// `head + events.len()`.
    head: u64,
    senders: usize,
    receivers: usize,
}

impl<T> Ring<T> {
    fn tail(&self) -> u64 {
        self.head + self.events.len() as u64
    }
}

/// The sending half of a broadcast bus. Cheap to clone.
///
/// Unlike a [`queue`](super::queue) sender it never waits: a send stores one
/// copy of the event and wakes the receivers waiting for it, whatever the
/// number of subscribers; when the ring is full the oldest event is
/// overwritten.
///
/// # Lagging
/// The ring retains the last `capacity` events. A receiver that falls more
/// than `capacity` events behind misses the overwritten ones: its next
/// receive returns [`RecvError::Lagged`] with the exact number missed (once),
/// and the receive after that continues with the oldest retained event.
///
/// # Closing
/// The bus closes when the last sender is dropped. Receivers still get every
/// retained event they have not seen, then [`RecvError::Closed`]. Sending
/// with no receiver alive is not an error: the event is dropped at once and
/// `send` returns 0.
///
/// # Thread safety
/// `BroadcastSender<T>` is `Send` and `Sync` when `T: Send + Sync` (each event
/// is shared between the receivers that read it).
pub struct BroadcastSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> BroadcastSender<T> {
    /// Publish `value` to every receiver, returning how many receivers were
    /// alive to see it (0 means it was dropped).
    pub fn send(&self, value: T) -> usize {
        let value = Arc::new(value);
        let (receivers, overwritten) = {
            let mut ring = self.shared.ring.lock();
            if ring.receivers == 0 {
                (0, Some(value))
            } else {
                let overwritten = if ring.events.len() >= ring.capacity {
                    ring.head += 1;
                    ring.events.pop_front()
                } else {
                    None
                };
                ring.events.push_back(value);
                (ring.receivers, overwritten)
            }
        };
        // Dropped outside the lock: `T`'s destructor is user code.
        drop(overwritten);
        if receivers > 0 {
            self.shared.event.notify(usize::MAX);
        }
        receivers
    }

    /// A new receiver that sees only events sent from now on.
    pub fn subscribe(&self) -> BroadcastReceiver<T> {
        let mut ring = self.shared.ring.lock();
        ring.receivers += 1;
        BroadcastReceiver {
            shared: self.shared.clone(),
            next: ring.tail(),
        }
    }

    /// Number of receivers alive right now.
    pub fn receiver_count(&self) -> usize {
        self.shared.ring.lock().receivers
    }

    /// The most events the ring retains (at least 1).
    pub fn capacity(&self) -> usize {
        self.shared.ring.lock().capacity
    }
}

impl<T> Clone for BroadcastSender<T> {
    fn clone(&self) -> Self {
        self.shared.ring.lock().senders += 1;
        BroadcastSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for BroadcastSender<T> {
    fn drop(&mut self) {
        let last = {
            let mut ring = self.shared.ring.lock();
            ring.senders -= 1;
            ring.senders == 0
        };
        if last {
            self.shared.event.notify(usize::MAX);
        }
    }
}

impl<T> fmt::Debug for BroadcastSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ring = self.shared.ring.lock();
        f.debug_struct("BroadcastSender")
            .field("retained", &ring.events.len())
            .field("capacity", &ring.capacity)
            .field("receivers", &ring.receivers)
            .finish()
    }
}

/// The receiving half of a broadcast bus: a position in the stream of
/// events. Cloning it makes a receiver at the same position.
///
/// # Lagging
/// See [`BroadcastSender`]: a receiver more than `capacity` events behind
/// gets [`RecvError::Lagged(n)`](RecvError::Lagged) once, `n` being the exact
/// number of events it missed, then continues with the oldest retained one.
///
/// # Closing
/// Once every sender is dropped, the receiver still yields the retained
/// events it has not seen, then [`RecvError::Closed`] on every call.
///
/// # Thread safety
/// `BroadcastReceiver<T>` is `Send` and `Sync` when `T: Send + Sync`.
/// Receiving takes `&mut self`: one receiver is read by one task at a time;
/// clone it for another reader.
pub struct BroadcastReceiver<T> {
    shared: Arc<Shared<T>>,
    /// Sequence number of the next event this receiver yields.
    next: u64,
}

impl<T: Clone> BroadcastReceiver<T> {
    /// Wait for the next event.
    ///
    /// # Errors
    /// [`RecvError::Lagged`] when events were overwritten before this
    /// receiver got them (the receiver then continues with the oldest event
    /// retained), [`RecvError::Closed`] when every sender is gone and every
    /// retained event was delivered.
    ///
    /// # Cancel safety
    /// Cancel safe: the receiver's position advances only in the poll that
    /// returns, so dropping the future loses no event.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        loop {
            if let Some(outcome) = poll_ring(&self.shared, &mut self.next) {
                return outcome;
            }
            // Register before checking again so a send between the check
            // above and this listener cannot be missed. The listener lives
            // in this future (no allocation per wait: fan-out to many
            // waiting receivers is the bus's hot path).
            let Self { shared, next } = self;
            event_listener::listener!(shared.event => listener);
            if let Some(outcome) = poll_ring(shared, next) {
                return outcome;
            }
            listener.await;
        }
    }

    /// Take the next event if one is available right now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match poll_ring(&self.shared, &mut self.next) {
            Some(Ok(value)) => Ok(value),
            Some(Err(RecvError::Lagged(missed))) => Err(TryRecvError::Lagged(missed)),
            Some(Err(RecvError::Closed)) => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

/// Take the next event for a receiver at `next`: its lag, the event, or
/// `Closed`; `None` when nothing is available yet and the bus is open.
fn poll_ring<T: Clone>(shared: &Shared<T>, next: &mut u64) -> Option<Result<T, RecvError>> {
    let event = {
        let ring = shared.ring.lock();
        if *next < ring.head {
            let missed = ring.head - *next;
            *next = ring.head;
            return Some(Err(RecvError::Lagged(missed)));
        }
        if *next == ring.tail() {
            return (ring.senders == 0).then_some(Err(RecvError::Closed));
        }
        // `head <= next < tail`, so the index is within the ring, whose
        // length is at most `capacity: usize`.
        let index = (*next - ring.head) as usize;
        *next += 1;
        ring.events.get(index).cloned()
    };
    // `T::clone` runs outside the lock.
    event.map(|event| Ok(T::clone(&event)))
}

impl<T> BroadcastReceiver<T> {
    /// Number of events available to this receiver right now (the retained
    /// events it has not seen).
    pub fn len(&self) -> usize {
        let ring = self.shared.ring.lock();
        (ring.tail() - self.next.max(ring.head)) as usize
    }

    /// True when no event is available to this receiver right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once every sender is dropped (retained events may remain).
    pub fn is_closed(&self) -> bool {
        self.shared.ring.lock().senders == 0
    }
}

impl<T> Clone for BroadcastReceiver<T> {
    fn clone(&self) -> Self {
        self.shared.ring.lock().receivers += 1;
        BroadcastReceiver {
            shared: self.shared.clone(),
            next: self.next,
        }
    }
}

impl<T> Drop for BroadcastReceiver<T> {
    fn drop(&mut self) {
        let released = {
            let mut ring = self.shared.ring.lock();
            ring.receivers -= 1;
            if ring.receivers == 0 {
                // Nobody can read the retained events any more: a new
                // subscriber starts at the tail. Release them now instead of
                // when they are overwritten.
                ring.head = ring.tail();
                core::mem::take(&mut ring.events)
            } else {
                VecDeque::new()
            }
        };
        // Dropped outside the lock: `T`'s destructor is user code.
        drop(released);
    }
}

impl<T> fmt::Debug for BroadcastReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastReceiver")
            .field("available", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Why [`BroadcastReceiver::recv`] returned no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// This receiver missed this many events (they were overwritten). The
    /// next receive continues with the oldest retained event.
    Lagged(u64),
    /// Every sender is gone and every retained event was delivered.
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged(missed) => write!(f, "receiver lagged and missed {missed} events"),
            RecvError::Closed => f.write_str("broadcast bus closed"),
        }
    }
}

impl core::error::Error for RecvError {}

/// Why [`BroadcastReceiver::try_recv`] returned no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No new event right now; the bus is open.
    Empty,
    /// This receiver missed this many events (see [`RecvError::Lagged`]).
    Lagged(u64),
    /// Every sender is gone and every retained event was delivered.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new event on the broadcast bus"),
            TryRecvError::Lagged(missed) => {
                write!(f, "receiver lagged and missed {missed} events")
            }
            TryRecvError::Closed => f.write_str("broadcast bus closed"),
        }
    }
}

impl core::error::Error for TryRecvError {}

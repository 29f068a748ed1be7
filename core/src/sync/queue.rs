//! A bounded multi-producer, multi-consumer FIFO queue with backpressure: every item goes to exactly one receiver.
//!
//! This is a thin wrapper over `async-channel`'s bounded channel, which is
//! `no_std` and waker-based; the wrapper only fixes Diorama's vocabulary and
//! error types so the dependency does not leak into the public API.

use core::fmt;

/// Create a queue that holds at most `capacity` items.
///
/// A `capacity` of 0 would make a queue that can never accept an item, which
/// is always a caller bug; it is treated as 1 rather than panicking.
pub fn channel<T>(capacity: usize) -> (QueueSender<T>, QueueReceiver<T>) {
    let (sender, receiver) = async_channel::bounded(capacity.max(1));
    (
        QueueSender { inner: sender },
        QueueReceiver { inner: receiver },
    )
}

/// The sending half of a bounded queue. Cheap to clone; every clone feeds the
/// same queue.
///
/// Unlike a [`broadcast`](super::broadcast) sender, a full queue never drops
/// or overwrites anything: [`send`](QueueSender::send) waits for a free slot
/// and [`try_send`](QueueSender::try_send) hands the item back.
///
/// # Lagging
/// A queue cannot lag: a slow receiver slows the senders down instead
/// (backpressure), since a sender waits while the queue holds `capacity`
/// items.
///
/// # Closing
/// The queue closes when [`close`](QueueSender::close) is called on either
/// half, when every sender is dropped, or when every receiver is dropped.
/// Items queued before it closed are never lost while a receiver lives:
/// receivers keep getting them in order, and see [`RecvError`] only once the
/// queue is both closed and empty. Sending into a closed queue fails and
/// returns the item.
///
/// # Thread safety
/// `QueueSender<T>` is `Send` and `Sync` when `T: Send`; senders on many
/// threads may send at once.
pub struct QueueSender<T> {
    inner: async_channel::Sender<T>,
}

impl<T> QueueSender<T> {
    /// Append `item`, waiting while the queue is full.
    ///
    /// # Errors
    /// [`SendError`] with `item` handed back when the queue is closed (also
    /// while waiting for room).
    ///
    /// # Cancel safety
    /// Not cancel safe: if the returned future is dropped before it completes,
    /// `item` was not queued and is dropped with the future. Use
    /// [`try_send`](Self::try_send) to keep the item on a full queue.
    pub async fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.inner
            .send(item)
            .await
            .map_err(|async_channel::SendError(item)| SendError(item))
    }

    /// Append `item` if a slot is free right now.
    ///
    /// Returns [`TrySendError::Full`] when the queue holds `capacity` items
    /// and [`TrySendError::Closed`] when it is closed; both hand `item` back.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(item).map_err(|error| match error {
            async_channel::TrySendError::Full(item) => TrySendError::Full(item),
            async_channel::TrySendError::Closed(item) => TrySendError::Closed(item),
        })
    }

    /// Close the queue for every sender; queued items stay receivable.
    /// Returns `true` if this call closed it, `false` if it was already closed.
    pub fn close(&self) -> bool {
        self.inner.close()
    }

    /// True once the queue is closed (see the type's "Closing" section).
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Number of items queued right now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True when no item is queued right now.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// True when the queue holds `capacity` items, so `send` would wait.
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// The most items the queue holds (at least 1).
    pub fn capacity(&self) -> usize {
        // Always `Some` for a bounded channel.
        self.inner.capacity().unwrap_or(usize::MAX)
    }
}

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        QueueSender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for QueueSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueSender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The receiving half of a bounded queue. Cloning it makes another consumer
/// of the same queue: each item goes to exactly one of them.
///
/// # Lagging
/// A receiver never lags or misses items: until it takes them, they occupy
/// slots and make the senders wait.
///
/// # Closing
/// See [`QueueSender`]: once every sender is dropped (or either half calls
/// `close`), [`recv`](Self::recv) still yields every item queued before, in
/// order, then [`RecvError`]. Dropping every receiver closes the queue; the
/// items still in it can no longer be received and are dropped with the last
/// sender.
///
/// # Thread safety
/// `QueueReceiver<T>` is `Send` and `Sync` when `T: Send`.
pub struct QueueReceiver<T> {
    inner: async_channel::Receiver<T>,
}

impl<T> QueueReceiver<T> {
    /// Take the oldest item, waiting while the queue is empty.
    ///
    /// # Errors
    /// [`RecvError`] once the queue is closed and empty.
    ///
    /// # Cancel safety
    /// Cancel safe: an item is removed from the queue only by the poll that
    /// returns it, so dropping the future loses nothing.
    pub async fn recv(&self) -> Result<T, RecvError> {
        self.inner.recv().await.map_err(|_| RecvError)
    }

    /// Take the oldest item if one is queued right now.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.try_recv().map_err(|error| match error {
            async_channel::TryRecvError::Empty => TryRecvError::Empty,
            async_channel::TryRecvError::Closed => TryRecvError::Closed,
        })
    }

    /// Close the queue: senders fail from now on, queued items stay
    /// receivable. Returns `true` if this call closed it.
    pub fn close(&self) -> bool {
        self.inner.close()
    }

    /// True once the queue is closed (items may still be queued).
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Number of items queued right now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True when no item is queued right now.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The most items the queue holds (at least 1).
    pub fn capacity(&self) -> usize {
        // Always `Some` for a bounded channel.
        self.inner.capacity().unwrap_or(usize::MAX)
    }
}

impl<T> Clone for QueueReceiver<T> {
    fn clone(&self) -> Self {
        QueueReceiver {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for QueueReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueReceiver")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// [`QueueSender::send`] failed because the queue is closed; holds the item.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The item that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending into a closed queue")
    }
}

impl<T> core::error::Error for SendError<T> {}

/// [`QueueSender::try_send`] failed; either way the item is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The queue holds `capacity` items.
    Full(T),
    /// The queue is closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The item that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(item) | TrySendError::Closed(item) => item,
        }
    }

    /// True for [`TrySendError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// True for [`TrySendError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending into a full queue"),
            TrySendError::Closed(_) => f.write_str("sending into a closed queue"),
        }
    }
}

impl<T> core::error::Error for TrySendError<T> {}

/// [`QueueReceiver::recv`] failed: the queue is closed and every item was
/// delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving from a closed and empty queue")
    }
}

impl core::error::Error for RecvError {}

/// [`QueueReceiver::try_recv`] found no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No item right now; the queue is open.
    Empty,
    /// The queue is closed and every item was delivered.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving from an empty queue"),
            TryRecvError::Closed => f.write_str("receiving from a closed and empty queue"),
        }
    }
}

impl core::error::Error for TryRecvError {}

//! Change feeds: how a source (or a bridge between replicas) tells a Dio
//! what changed elsewhere, resumably.
//!
//! A [`ChangeFeed`] yields [`FeedItem`]s in the order the changes happened.
//! Each change carries the [`FeedPosition`] just after it; a consumer stores
//! the last position it applied (a Dio keeps it in its cache meta) and, after
//! a restart or a reconnect, subscribes again from there, so nothing is
//! missed and nothing is applied twice out of order. When a feed can no
//! longer deliver everything after a position (its log was trimmed, its
//! stream purged) it says so with [`FeedItem::Gap`] instead of silently
//! skipping: the consumer must stop vouching for what the gap covers.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Debug;
use core::pin::Pin;

use futures_lite::Stream;

use super::Id;
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::value::Record;

/// A boxed, `Send` stream: the shape object-safe streaming methods return.
pub type BoxStream<'a, T> = Pin<alloc::boxed::Box<dyn Stream<Item = T> + Send + 'a>>;

/// A change reported by a live source, handed to `Dio::handle_event`.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeEvent {
    /// A row was inserted upstream (with its record when the source sent it).
    Inserted {
        /// The row.
        id: Id,
        /// Its record, if known.
        record: Option<Record>,
    },
    /// A row changed upstream (with the changed fields when known).
    Updated {
        /// The row.
        id: Id,
        /// The changed fields, if known.
        fields: Option<Record>,
    },
    /// A row was removed upstream.
    Removed {
        /// The row.
        id: Id,
    },
    /// Anything may have changed.
    Reset,
}

impl ChangeEvent {
    /// The row this change is about; `None` for [`Reset`](ChangeEvent::Reset).
    pub fn id(&self) -> Option<&str> {
        match self {
            ChangeEvent::Inserted { id, .. }
            | ChangeEvent::Updated { id, .. }
            | ChangeEvent::Removed { id } => Some(id),
            ChangeEvent::Reset => None,
        }
    }
}

/// Where a feed has got to: opaque bytes only the feed interprets (a log
/// sequence number, a stream sequence, a composite of both parts of a
/// composed source), stored by the consumer so it can resume.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FeedPosition(pub Vec<u8>);

impl FeedPosition {
    /// A position holding a big-endian `u64` (the common case: a sequence).
    pub fn from_u64(sequence: u64) -> Self {
        FeedPosition(sequence.to_be_bytes().to_vec())
    }

    /// The `u64` of a position made by [`from_u64`](FeedPosition::from_u64);
    /// `None` when the bytes are not eight long.
    pub fn as_u64(&self) -> Option<u64> {
        <[u8; 8]>::try_from(self.0.as_slice())
            .ok()
            .map(u64::from_be_bytes)
    }
}

/// One item of a change feed.
#[derive(Clone, Debug, PartialEq)]
pub enum FeedItem {
    /// A change, with the position just after it: resuming from `position`
    /// delivers the changes that follow this one.
    Change {
        /// What changed.
        event: ChangeEvent,
        /// The position after this change.
        position: FeedPosition,
    },
    /// The feed cannot deliver every change after the position the consumer
    /// resumed from (trimmed, purged, expired). Changes from `position` on
    /// follow; what happened in between is unknown, so the consumer must
    /// treat everything it cached as unconfirmed.
    Gap {
        /// Why, for people (logs, events).
        reason: String,
        /// Where the feed goes on from.
        position: FeedPosition,
    },
}

/// A resumable, ordered stream of the changes of one table.
///
/// # Contract
/// - [`subscribe`](ChangeFeed::subscribe)`(Some(p))` yields every change
///   after `p`, in order, then keeps yielding new changes as they happen;
///   where it cannot (see [`FeedItem::Gap`]) it yields a gap first.
///   `subscribe(None)` starts at the feed's current end: only changes from
///   now on.
/// - An `Err` item reports a failure the feed is recovering from (a lost
///   connection); the stream goes on and resumes after the last position it
///   delivered, without skipping. A stream that ends has stopped for good
///   (the source is closing); a consumer may subscribe again from its last
///   position.
/// - Dropping the stream stops the subscription and frees what it holds.
pub trait ChangeFeed: Send + Sync + Debug {
    /// A short stable name (`"postgres"`, `"nats"`): tags events about the
    /// feed and keys its stored position, so several feeds of one Dio do not
    /// collide.
    fn name(&self) -> &str;

    /// The changes after `from` (from now on when `None`); see the contract.
    fn subscribe(&self, from: Option<FeedPosition>) -> BoxStream<'static, Result<FeedItem>>;

    /// The feed's current end: the position after every change made so
    /// far, so that `subscribe(Some(p))` yields exactly the changes made
    /// after this call returned. `Ok(None)` when the feed cannot tell (the
    /// default); consumers then start with `subscribe(None)`.
    ///
    /// A consumer that starts following with nothing cached anchors here
    /// *before* it caches anything: then no change can fall between what it
    /// read and where the feed starts (with `subscribe(None)` the start is
    /// only known once the stream has connected).
    fn position(&self) -> BoxFuture<'_, Result<Option<FeedPosition>>> {
        alloc::boxed::Box::pin(async { Ok(None) })
    }
}

//! What a Dio announces on its event bus, and what it is told by live sources.

use core::ops::Range;

use alloc::string::String;

use crate::error::Error;
use crate::vista::Id;

/// A notification on a Dio's event bus (see [`Dio::subscribe_events`](super::Dio::subscribe_events)).
///
/// Every queued write produces [`WriteQueued`](DioEvent::WriteQueued) and
/// then exactly one outcome: [`WriteCompleted`](DioEvent::WriteCompleted)
/// (preceded, for the default write-through, by the matching data event) or
/// [`WriteFailed`](DioEvent::WriteFailed).
#[derive(Clone, Debug, PartialEq)]
pub enum DioEvent {
    /// The cached row `id` changed.
    RecordChanged {
        /// The row.
        id: Id,
    },
    /// A row was inserted into the cache.
    RecordInserted {
        /// The row.
        id: Id,
    },
    /// The row `id` was removed from the cache.
    RecordRemoved {
        /// The row.
        id: Id,
    },
    /// Wholesale change: a refresh completed, `invalidate_all` was called or
    /// every row was deleted. Views refetch what they show.
    Invalidated,
    /// A refresh started.
    Refreshing,
    /// A refresh failed; cached data is unchanged.
    RefreshFailed {
        /// Why.
        error: Error,
    },
    /// A non-blocking `on_start` failed.
    StartFailed {
        /// Why.
        error: Error,
    },
    /// A write was accepted into the queue; views show the row as pending.
    WriteQueued {
        /// The row written, when the write names one.
        id: Option<Id>,
    },
    /// A queued write succeeded.
    WriteCompleted {
        /// The row written (for an insert without id: the id the master chose).
        id: Option<Id>,
    },
    /// A queued write failed; the cache is as it was before the write.
    WriteFailed {
        /// The row written, when known (`None` for `DeleteAll`).
        id: Option<Id>,
        /// Why.
        error: Error,
    },
    /// The cache could not record something that is true at the master: a
    /// write the master applied (its row was dropped from the cache, so
    /// views refetch it; the write's outcome is still `WriteCompleted`), or
    /// a chunk a view loaded (shown all the same, not kept). A full or
    /// failing disk; nothing the cache shows is wrong because of it.
    CacheWriteFailed {
        /// The row, when one write's row could not be recorded.
        id: Option<Id>,
        /// The cache's error.
        error: Error,
    },
    /// A change feed the Dio follows could not deliver every change since
    /// the position the Dio had applied (its log was trimmed, its stream
    /// purged, or following started with rows already cached). The Dio
    /// invalidated everything it had cached (an
    /// [`Invalidated`](DioEvent::Invalidated) follows), so views refetch
    /// what they show; the feed goes on from where it can.
    ChangesLost {
        /// The feed's [`name`](crate::vista::ChangeFeed::name).
        feed: String,
        /// Why, for people.
        reason: String,
    },
    /// A change feed the Dio follows reported a failure (a lost
    /// connection) or a change it delivered could not be applied (that row
    /// was marked stale). The Dio keeps following and resumes where it
    /// stopped; until then changes made elsewhere are not seen.
    FeedFailed {
        /// The feed's [`name`](crate::vista::ChangeFeed::name).
        feed: String,
        /// Why.
        error: Error,
    },
    /// A table scenery committed a viewport.
    ViewportChanged {
        /// Which scenery (see `TableScenery::id`).
        scenery: u64,
        /// The committed visible range.
        range: Range<usize>,
    },
    /// A table scenery's chunk load succeeded.
    RangeLoaded {
        /// Which scenery.
        scenery: u64,
        /// The range fetched.
        range: Range<usize>,
    },
    /// A table scenery's chunk load failed; nothing changed.
    LoadFailed {
        /// Which scenery.
        scenery: u64,
        /// The range requested.
        range: Range<usize>,
        /// Why.
        error: Error,
    },
}

impl DioEvent {
    /// The row this event is about, for single-row events.
    pub fn record_id(&self) -> Option<&str> {
        match self {
            DioEvent::RecordChanged { id }
            | DioEvent::RecordInserted { id }
            | DioEvent::RecordRemoved { id } => Some(id),
            DioEvent::WriteQueued { id }
            | DioEvent::WriteCompleted { id }
            | DioEvent::WriteFailed { id, .. } => id.as_deref(),
            _ => None,
        }
    }

    /// True for the events a table scenery emits about its own viewport.
    pub fn is_viewport_event(&self) -> bool {
        matches!(
            self,
            DioEvent::ViewportChanged { .. }
                | DioEvent::RangeLoaded { .. }
                | DioEvent::LoadFailed { .. }
        )
    }
}

/// Changes reported by live sources live with the sources; re-exported here.
pub use crate::vista::ChangeEvent;

//! What a Dio announces on its event bus, and what it is told by live sources.

use core::ops::Range;

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

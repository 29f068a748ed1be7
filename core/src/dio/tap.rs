//! The change tap: a synchronous observer of the changes a Dio applies to
//! its cache outside its write queue.
//!
//! **A hook for bridges between replicas** (diorama-tokio's NATS bridge
//! installs one): such a bridge must announce what this Dio learned
//! (a live source's event, a user's [`patched`](Dio::patched) or
//! invalidation) to the other replicas, with the values, in the order the
//! cache saw them. The event bus names only ids and can lag; the tap is
//! told on the applying thread, with the data, before the matching event
//! is published, and never misses one.
//!
//! The Dio's own writes are not reported here: they reach the master
//! through its shell, so a bridge observes them there, once the master has
//! acknowledged them (see [`TableShell`](crate::TableShell)). A refresh
//! and the invalidation a followed feed makes after a gap are not reported
//! either: they are this Dio's own bookkeeping, not changes of the data.

use alloc::sync::Arc;
use core::fmt::Debug;

use super::Dio;
use crate::error::{Error, Result};
use crate::value::Record;

/// One change a Dio applied to its cache outside its write queue, as told
/// to a [`ChangeTap`]. The Dio's own writes are not among them (a bridge
/// sees those at the master's shell), nor a refresh or the invalidation
/// after a feed's gap (bookkeeping of this Dio, not changes of the data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LocalChange<'a> {
    /// `fields` were merged into row `id` ([`Dio::patched`], or
    /// `handle_event` with `Updated` and fields).
    Patched {
        /// The row.
        id: &'a str,
        /// The fields merged.
        fields: &'a Record,
    },
    /// Row `id` was stored whole (`handle_event` with `Inserted` and a record).
    Inserted {
        /// The row.
        id: &'a str,
        /// Its record.
        record: &'a Record,
    },
    /// Row `id` was removed ([`Dio::removed`], or `handle_event` with `Removed`).
    Removed {
        /// The row.
        id: &'a str,
    },
    /// Row `id` was marked stale ([`Dio::invalidate_record`]).
    InvalidatedRecord {
        /// The row.
        id: &'a str,
    },
    /// Everything was invalidated ([`Dio::invalidate_all`], or
    /// `handle_event` with `Reset`).
    InvalidatedAll,
}

impl LocalChange<'_> {
    /// The row this change is about; `None` for
    /// [`InvalidatedAll`](LocalChange::InvalidatedAll).
    pub fn id(&self) -> Option<&str> {
        match self {
            LocalChange::Patched { id, .. }
            | LocalChange::Inserted { id, .. }
            | LocalChange::Removed { id }
            | LocalChange::InvalidatedRecord { id } => Some(id),
            LocalChange::InvalidatedAll => None,
        }
    }
}

/// Told of every [`LocalChange`] a Dio applies, on the applying thread,
/// after the cache took it and before its event is published: the hook a
/// bridge between replicas uses to announce what the Dio learned (the
/// event bus names only ids and can lag; the tap has the data and misses
/// nothing). Installed with [`Dio::set_change_tap`].
///
/// Implementations must be quick and must not block (they run inside
/// `handle_event` and the feed followers); queue the work and do it
/// elsewhere. A panicking tap is a bug in the tap.
pub trait ChangeTap: Send + Sync + Debug {
    /// `change` was applied to the cache of `table` (the Dio's cache table name).
    fn applied(&self, table: &str, change: LocalChange<'_>);
}

impl Dio {
    /// Install `tap`, told of every change this Dio applies outside its
    /// write queue from now on (see [`ChangeTap`]). One tap per Dio.
    ///
    /// # Errors
    /// `InvalidInput` when a tap is installed already.
    pub fn set_change_tap(&self, tap: Arc<dyn ChangeTap>) -> Result<()> {
        let mut installed = false;
        self.inner.tap.call_once(|| {
            installed = true;
            tap
        });
        if installed {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "this Dio has a change tap already (one per Dio)",
            ))
        }
    }

    /// Tell the tap, if any, of `change`.
    pub(crate) fn tap(&self, change: LocalChange<'_>) {
        if let Some(tap) = self.inner.tap.get() {
            tap.applied(&self.inner.table_name, change);
        }
    }
}

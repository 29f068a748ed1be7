//! Composition: one [`TableShell`] made of two, where one part's rows win
//! over the other's per id.
//!
//! - [`Composed::overlay`]`(base, overlay)`: reads see the overlay's row
//!   wherever it has one and the base's elsewhere; writes go to the overlay,
//!   deletes of base rows as [tombstones](tombstone()). The shape of local
//!   drafts over a remote table.
//! - [`Composed::merge`]`(primary, fallback)`: reads take the primary's row
//!   and fall back for ids it lacks; writes go to the primary. The shape of
//!   a fast local copy in front of a slow authoritative source.
//!
//! [`Vista::overlay`](super::Vista::overlay) and
//! [`Vista::merge`](super::Vista::merge) wrap these in a handle. Below, the
//! winning part (overlay, primary) is the *top* part and the other (base,
//! fallback) the *bottom* part.
//!
//! # The combined rows
//!
//! The composed table holds every shown row of the top part and every row
//! of the bottom part whose id the top part does not hold. A top row hides
//! the bottom row of its id whatever the query: an overlay row that no
//! longer matches a condition hides its base row, which does not come back
//! in its place. Conditions, sort and search apply to these combined rows,
//! and `list`, `get`, `count` and `fetch_window` always agree with each
//! other. With a sort, rows are in sort order (nulls last, ties by id, as
//! [`eval::compare_rows`](super::eval::compare_rows)); without one, the
//! bottom part's order is kept, a top row takes the place of the bottom row
//! it replaces when that row matches the query, and the other top rows
//! follow all bottom rows, in the top part's order.
//!
//! # Tombstones (overlay only)
//!
//! Deleting a row the base holds stores `{ "$deleted": true }` under its id
//! in the overlay ([`tombstone`], [`is_tombstone`]): the row disappears from
//! every read while the base keeps it, until the overlay's contents are
//! published. A row only the overlay holds is simply deleted there. Records
//! carrying [`TOMBSTONE_FIELD`] are refused by writes, so user data is never
//! read as a deletion. A merge has no tombstones: deleting a row its
//! fallback also holds would not hide it, so that delete is refused with
//! `InvalidInput` (delete it in the fallback, or compose with `overlay`).
//!
//! # Writes
//!
//! Every write lands in the top part. `replace` and `patch` of a row only
//! the bottom holds copy it up: the top part gets the whole new row (for a
//! patch, the bottom row with the fields merged). `insert` of an id the
//! composed table already shows fails (`Failed`, as `MemoryVista`), and an
//! insert without id whose id, picked by the top part, the bottom already
//! holds is undone and fails. The bottom part is only read.
//!
//! # Capabilities and what is pushed down
//!
//! The top part is read whole by every `list`, `count` and `fetch_window`:
//! to hide bottom rows the composition must know every id it holds, so
//! narrowing it at the source would save nothing. It is evaluated locally.
//! What the composition pushes down is therefore what its bottom part
//! accepts: [`accepts`](TableShell::accepts) is the bottom's, and
//! `can_order`, `can_search`, `can_count` and `can_fetch_page` are the
//! bottom's flags (`can_fetch_next` follows `can_fetch_page`: placing a
//! window needs random access). A clause the bottom refuses stays with the
//! [`Vista`](super::Vista) handle as a residual: `list` then evaluates it
//! over the complete set, `count` and `fetch_window` refuse with
//! `Unsupported` instead of counting or sorting a sample. Writes need a top
//! part that can insert and update (copying rows up, tombstones); deletes
//! need it to delete too (a merge: to delete). `can_subscribe` holds only
//! when both parts push events.
//!
//! # Cost
//!
//! With `t` the top part's row count:
//!
//! | read | calls |
//! | --- | --- |
//! | `get` | top `get`, then bottom `get` when the top has no row |
//! | `list` | top `list` + bottom `list` |
//! | `count` | top `list` + `t` bottom `get`s + bottom `count` |
//! | `fetch_window(offset, limit)` | top `list` + `t` bottom `get`s + one bottom window |
//!
//! The bottom window is `limit + shown + hidden` rows from
//! `offset - shown` with a sort (`shown`: top rows matching the query,
//! `hidden`: bottom rows of top ids that match it), or, without a sort and
//! with hidden rows, `offset + limit + hidden` rows from the start. The
//! `get`s run [`lookup concurrency`](Composed::with_lookup_concurrency) at a
//! time (8 by default). Composition is made for a small top part (drafts,
//! pinned rows, a partial local copy) over a bottom of any size; a Dio in
//! front caches the results like any master's. Each read is several calls,
//! not a snapshot: when the parts change between them so that a window's
//! rows do not fit together, the window is read again once and then fails
//! with `Failed` rather than answering a wrong page.
//!
//! # Change feeds
//!
//! [`change_feed`](TableShell::change_feed) merges the parts' feeds (when
//! either has one) into one with a composite [`FeedPosition`](super::FeedPosition),
//! so a Dio following it hears both parts and resumes each from where it
//! was. A change of the bottom part hidden by a top row does not surface;
//! see the `feed` module notes in the source for each rule.

mod feed;
mod place;
mod position;
mod read;
mod refused;
mod tombstone;
mod top;
mod write;

pub use tombstone::{TOMBSTONE_FIELD, is_tombstone, tombstone};

pub(crate) use refused::Refused;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{ChangeFeed, Clause, Id, Page, Query, TableShell, VistaCapabilities};
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::value::Record;

/// Which part wins, and how writes and deletes are recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layering {
    /// [`Composed::overlay`]: the overlay wins; deletes of base rows leave
    /// tombstones in the overlay.
    Overlay,
    /// [`Composed::merge`]: the primary wins; no tombstones, so rows the
    /// fallback holds cannot be deleted through the merge.
    Merge,
}

impl Layering {
    /// `"overlay"` or `"merge"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Layering::Overlay => "overlay",
            Layering::Merge => "merge",
        }
    }

    /// The names of the top and bottom parts: `("overlay", "base")` or
    /// `("primary", "fallback")`.
    pub const fn roles(self) -> (&'static str, &'static str) {
        match self {
            Layering::Overlay => ("overlay", "base"),
            Layering::Merge => ("primary", "fallback"),
        }
    }
}

/// Two shells read as one: see the [module notes](self) for the rows it
/// shows, where writes land, what it pushes down and what each read costs.
///
/// Cheap to clone (the parts are shared).
#[derive(Clone, Debug)]
pub struct Composed {
    layering: Layering,
    top: Arc<dyn TableShell>,
    bottom: Arc<dyn TableShell>,
    name: String,
    lookups: usize,
}

/// Reads by id of the bottom part in flight at once, by default.
const DEFAULT_LOOKUPS: usize = 8;

impl Composed {
    /// `overlay` over `base`, named `"{base}+{overlay}"`.
    pub fn overlay(base: Arc<dyn TableShell>, overlay: Arc<dyn TableShell>) -> Self {
        let name = format!("{}+{}", base.name(), overlay.name());
        Composed {
            layering: Layering::Overlay,
            top: overlay,
            bottom: base,
            name,
            lookups: DEFAULT_LOOKUPS,
        }
    }

    /// `primary` in front of `fallback`, named `"{primary}|{fallback}"`.
    pub fn merge(primary: Arc<dyn TableShell>, fallback: Arc<dyn TableShell>) -> Self {
        let name = format!("{}|{}", primary.name(), fallback.name());
        Composed {
            layering: Layering::Merge,
            top: primary,
            bottom: fallback,
            name,
            lookups: DEFAULT_LOOKUPS,
        }
    }

    /// This composition under another name (a Dio names its cache table
    /// after it).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// This composition reading at most `n` rows by id of the bottom part
    /// at once (at least 1; default 8).
    pub fn with_lookup_concurrency(mut self, n: usize) -> Self {
        self.lookups = n.max(1);
        self
    }

    /// Overlay or merge.
    pub fn layering(&self) -> Layering {
        self.layering
    }

    /// The winning part: the overlay or the primary.
    pub fn top(&self) -> &Arc<dyn TableShell> {
        &self.top
    }

    /// The other part: the base or the fallback.
    pub fn bottom(&self) -> &Arc<dyn TableShell> {
        &self.bottom
    }

    /// True when a top row `record` is a tombstone of this composition.
    fn hides_as_tombstone(&self, record: &Record) -> bool {
        self.layering == Layering::Overlay && is_tombstone(record)
    }

    /// The honest combination of the parts' capabilities (module notes).
    fn combined_capabilities(&self) -> VistaCapabilities {
        let top = self.top.capabilities();
        let bottom = self.bottom.capabilities();
        let copy_up = top.can_insert && top.can_update;
        let overlay = self.layering == Layering::Overlay;
        VistaCapabilities {
            // An overlay insert over a tombstone replaces it.
            can_insert: top.can_insert && (!overlay || top.can_update),
            can_update: copy_up,
            can_delete: top.can_delete && (!overlay || copy_up),
            can_subscribe: top.can_subscribe && bottom.can_subscribe,
            can_order: bottom.can_order,
            can_search: bottom.can_search,
            can_fetch_page: bottom.can_fetch_page,
            can_fetch_next: bottom.can_fetch_page,
            can_count: bottom.can_count,
        }
    }
}

impl TableShell for Composed {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> VistaCapabilities {
        self.combined_capabilities()
    }

    fn accepts(&self, clause: Clause<'_>) -> bool {
        self.bottom.accepts(clause)
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        Box::pin(self.read_list(query))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(self.read_one(id))
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        Box::pin(self.read_count(query))
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        Box::pin(self.read_window(query, offset, limit))
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        Box::pin(self.write_insert(id, record))
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write_replace(id, record))
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write_patch(id, fields))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write_delete(id))
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.write_delete_all())
    }

    fn change_feed(&self) -> Option<Arc<dyn ChangeFeed>> {
        let feed = feed::ComposedFeed::of(self.layering, &self.top, &self.bottom)?;
        Some(Arc::new(feed))
    }
}

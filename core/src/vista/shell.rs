//! The object-safe I/O trait of a source.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt::Debug;

use super::{Id, Query, VistaCapabilities, WriteKey, WriteOp};
use crate::error::Result;
use crate::runtime::BoxFuture;
use crate::value::Record;

/// One window of rows and, when the source knows it, the total row count of
/// the query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Rows in query order.
    pub rows: Vec<(Id, Record)>,
    /// Total rows matching the query, if known.
    pub total: Option<usize>,
}

/// The I/O of one table, object-safe and shareable across tasks.
///
/// Reads take the [`Query`] the shell accepted (see
/// [`accepts`](TableShell::accepts)); an operation the shell does not offer
/// returns an [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) error
/// so callers can fall back, distinct from `Failed`.
pub trait TableShell: Send + Sync + Debug {
    /// The table's name (the cache table is named after it by default).
    fn name(&self) -> &str;

    /// What this shell really offers.
    fn capabilities(&self) -> VistaCapabilities;

    /// Whether the shell applies this part of a query itself. The default
    /// accepts conditions when nothing is known and follows `can_order` /
    /// `can_search` for sort and search.
    fn accepts(&self, clause: Clause<'_>) -> bool {
        let caps = self.capabilities();
        match clause {
            Clause::Condition(_) => false,
            Clause::Sort(_) => caps.can_order,
            Clause::Search(_) => caps.can_search,
        }
    }

    /// Every row matching `query`.
    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>>;

    /// The row with `id`, or `None`.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>>;

    /// Number of rows matching `query`.
    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>>;

    /// Rows `offset..offset+limit` of `query`, in query order.
    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>>;

    /// Insert `record`, under `id` when given; returns the id used.
    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>>;

    /// Replace the whole row `id`.
    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>>;

    /// Overwrite the given fields of row `id`.
    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>>;

    /// Delete row `id` (absent is not an error).
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Delete every row.
    fn delete_all(&self) -> BoxFuture<'_, Result<()>>;

    /// Apply one queued write of a Dio, sent under its idempotency `key`:
    /// the row written (the id used for an insert; `None` for `DeleteAll`).
    ///
    /// A Dio replays a write whose answer it did not record before a crash
    /// under the same key, so a shell that remembers the keys it applied
    /// (in the same transaction as the write) applies each write once and
    /// answers a replay with the first answer. The default ignores the key
    /// and calls [`insert`](TableShell::insert), [`replace`](TableShell::replace),
    /// [`patch`](TableShell::patch), [`delete`](TableShell::delete) or
    /// [`delete_all`](TableShell::delete_all): a replay is then applied
    /// again (at least once).
    fn apply_write<'a>(
        &'a self,
        key: &'a WriteKey,
        op: WriteOp,
    ) -> BoxFuture<'a, Result<Option<Id>>> {
        let _ = key;
        Box::pin(apply_op(self, op))
    }

    /// The source's own feed of changes made anywhere (by other clients,
    /// other services, people at a console), when it has one. A Dio over
    /// this shell follows it, so changes made elsewhere reach its views.
    /// `None` (the default) for sources that cannot tell.
    fn change_feed(&self) -> Option<alloc::sync::Arc<dyn super::ChangeFeed>> {
        None
    }
}

/// Apply `op` through `shell`'s plain write methods, ignoring any key: what
/// [`TableShell::apply_write`] does by default, for shells that keep keys
/// to call once they know a key is new.
///
/// # Errors
/// The error of the write method called.
pub async fn apply_op<S: TableShell + ?Sized>(shell: &S, op: WriteOp) -> Result<Option<Id>> {
    match op {
        WriteOp::Insert { id, record } => shell.insert(id, record).await.map(Some),
        WriteOp::Replace { id, record } => {
            shell.replace(&id, record).await?;
            Ok(Some(id))
        }
        WriteOp::Patch { id, fields } => {
            shell.patch(&id, fields).await?;
            Ok(Some(id))
        }
        WriteOp::Delete { id } => {
            shell.delete(&id).await?;
            Ok(Some(id))
        }
        WriteOp::DeleteAll => shell.delete_all().await.map(|()| None),
    }
}

/// One part of a [`Query`], as offered to [`TableShell::accepts`].
#[derive(Clone, Copy, Debug)]
pub enum Clause<'a> {
    /// A condition.
    Condition(&'a super::Condition),
    /// The sort.
    Sort(&'a super::Sort),
    /// The search string.
    Search(&'a str),
}

//! `SqliteVista` as a `TableShell`: reads on a read connection, writes on
//! the writer's thread.

use diorama_core::dio::{WriteKey, WriteOp};
use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Record, Result};

use super::translate::pushable;
use super::vista::SqliteVista;

impl TableShell for SqliteVista {
    fn name(&self) -> &str {
        &self.inner.schema.table
    }

    fn capabilities(&self) -> VistaCapabilities {
        self.inner.capabilities
    }

    /// Sort and search always; a condition unless its operand is an integer
    /// beyond 64-bit signed or an `In` list is longer than 1000 items. A
    /// condition on an unknown column is accepted so that the read reports
    /// it (`InvalidInput`) instead of evaluating it locally as a missing
    /// field.
    fn accepts(&self, clause: Clause<'_>) -> bool {
        match clause {
            Clause::Condition(condition) => pushable(condition),
            Clause::Sort(_) | Clause::Search(_) => true,
        }
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        let query = query.clone();
        Box::pin(self.inner.read(move |state| state.list(&query)))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        let id = id.to_owned();
        Box::pin(self.inner.read(move |state| state.get(&id)))
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        let query = query.clone();
        Box::pin(self.inner.read(move |state| state.count(&query)))
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        let query = query.clone();
        Box::pin(
            self.inner
                .read(move |state| state.window(&query, offset, limit)),
        )
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        Box::pin(
            self.inner
                .write("insert", move |state| state.insert(id, &record)),
        )
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        let id = id.to_owned();
        Box::pin(
            self.inner
                .write("replace", move |state| state.replace(&id, &record)),
        )
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        let id = id.to_owned();
        Box::pin(
            self.inner
                .write("patch", move |state| state.patch(&id, &fields)),
        )
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        let id = id.to_owned();
        Box::pin(self.inner.write("delete", move |state| state.delete(&id)))
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.inner.write("delete_all", |state| state.delete_all()))
    }

    /// Applies each key once: the key is recorded in the same transaction
    /// as the write (see the `applied` module), and a key applied before
    /// answers with the row it wrote then.
    fn apply_write<'a>(
        &'a self,
        key: &'a WriteKey,
        op: WriteOp,
    ) -> BoxFuture<'a, Result<Option<Id>>> {
        let key = key.to_string();
        let name = match &op {
            WriteOp::Insert { .. } => "insert",
            WriteOp::Replace { .. } => "replace",
            WriteOp::Patch { .. } => "patch",
            WriteOp::Delete { .. } => "delete",
            WriteOp::DeleteAll => "delete_all",
        };
        Box::pin(
            self.inner
                .write(name, move |state| state.apply_keyed(&key, op)),
        )
    }
}

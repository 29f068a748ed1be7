//! `PgVista` as a `TableShell`.

use std::sync::Arc;

use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{
    ChangeFeed, Clause, Id, Page, Query, TableShell, VistaCapabilities, WriteKey, WriteOp,
};
use diorama_core::{Record, Result};

use super::translate::{pushable, search_pushable};
use super::vista::PgVista;

impl TableShell for PgVista {
    fn name(&self) -> &str {
        &self.inner.schema.table
    }

    /// Sort, search, windows and counts always; writes as the role's
    /// privileges allow on a table (none on a view); `can_subscribe` once
    /// the change feed is installed and offered.
    fn capabilities(&self) -> VistaCapabilities {
        self.capabilities_now()
    }

    /// The sort always; a search unless its needle is longer than 1000
    /// characters or holds NUL; a condition unless a text operand holds
    /// NUL, its `In` list is longer than 1000 items or its `Like` pattern
    /// longer than 1000 characters. A condition on an unknown column is
    /// accepted so that the read reports it (`InvalidInput`) instead of
    /// evaluating it locally as a missing field.
    fn accepts(&self, clause: Clause<'_>) -> bool {
        match clause {
            Clause::Condition(condition) => pushable(condition),
            Clause::Sort(_) => true,
            Clause::Search(needle) => search_pushable(needle),
        }
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        Box::pin(self.read_all(query))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(self.read_one(id))
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        Box::pin(self.count_rows(query))
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
        Box::pin(async move {
            self.check(self.inner.schema.can_insert, "insert")?;
            self.insert_row(id, &record, None).await
        })
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.check(self.inner.schema.can_update, "replace")?;
            self.replace_row(id, &record, None).await
        })
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.check(self.inner.schema.can_update, "patch")?;
            self.patch_row(id, &fields, None).await
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.check(self.inner.schema.can_delete, "delete")?;
            self.delete_row(id, None).await
        })
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.check(self.inner.schema.can_delete, "delete_all")?;
            self.delete_all_rows(None).await
        })
    }

    /// Applies each key once: the key is looked up and recorded in the
    /// same transaction as the write (see the `write` module), and a key
    /// applied before answers with the row it wrote then.
    fn apply_write<'a>(
        &'a self,
        key: &'a WriteKey,
        op: WriteOp,
    ) -> BoxFuture<'a, Result<Option<Id>>> {
        let key = Some(key.to_string());
        let schema = &self.inner.schema;
        Box::pin(async move {
            match op {
                WriteOp::Insert { id, record } => {
                    self.check(schema.can_insert, "insert")?;
                    self.insert_row(id, &record, key).await.map(Some)
                }
                WriteOp::Replace { id, record } => {
                    self.check(schema.can_update, "replace")?;
                    self.replace_row(&id, &record, key).await?;
                    Ok(Some(id))
                }
                WriteOp::Patch { id, fields } => {
                    self.check(schema.can_update, "patch")?;
                    self.patch_row(&id, &fields, key).await?;
                    Ok(Some(id))
                }
                WriteOp::Delete { id } => {
                    self.check(schema.can_delete, "delete")?;
                    self.delete_row(&id, key).await?;
                    Ok(Some(id))
                }
                WriteOp::DeleteAll => {
                    self.check(schema.can_delete, "delete_all")?;
                    self.delete_all_rows(key).await?;
                    Ok(None)
                }
            }
        })
    }

    fn change_feed(&self) -> Option<Arc<dyn ChangeFeed>> {
        self.feed()
            .map(|feed| Arc::new(feed) as Arc<dyn ChangeFeed>)
    }
}

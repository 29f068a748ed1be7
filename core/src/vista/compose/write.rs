//! The writes of a composition: every write lands in the top part (the
//! overlay, the primary); the bottom part is only read, to copy a row up
//! before changing it or to decide how a delete must be recorded.

use alloc::format;
use alloc::vec::Vec;

use futures_util::{StreamExt, TryStreamExt, stream};

use super::tombstone::{carries_marker, tombstone};
use super::{Composed, Layering, TOMBSTONE_FIELD};
use crate::error::{Error, Result};
use crate::value::Record;
use crate::vista::{Id, Query, VistaCapabilities};

impl Composed {
    fn offered(&self, flag: impl Fn(&VistaCapabilities) -> bool, op: &str) -> Result<()> {
        if flag(&self.combined_capabilities()) {
            return Ok(());
        }
        let (top, _) = self.layering.roles();
        Err(Error::unsupported(format!(
            "{op} on \"{}\": its {top} \"{}\" cannot take the writes it needs \
             (see Composed's capabilities)",
            self.name,
            self.top.name()
        )))
    }

    /// An overlay refuses records carrying the tombstone field, so a value
    /// is never taken for a deletion.
    fn check_record(&self, op: &str, record: &Record) -> Result<()> {
        if self.layering == Layering::Overlay && carries_marker(record) {
            return Err(Error::invalid_input(format!(
                "{op} on \"{}\": the field \"{TOMBSTONE_FIELD}\" is reserved for the \
                 overlay's tombstones",
                self.name
            )));
        }
        Ok(())
    }

    fn not_found(&self, op: &str, id: &str) -> Error {
        Error::not_found(format!(
            "{op} on \"{}\": no row with id \"{id}\"",
            self.name
        ))
    }

    /// The top part's row `id` as the composition sees it: `Ok(None)` when
    /// absent, `Err` on failure, and tombstones reported apart.
    async fn top_row(&self, id: &str) -> Result<TopRow> {
        match self.top.get(id).await.map_err(|e| self.top_error(e))? {
            Some(record) if self.hides_as_tombstone(&record) => Ok(TopRow::Tombstone),
            Some(_) => Ok(TopRow::Row),
            None => Ok(TopRow::Absent),
        }
    }

    async fn bottom_row(&self, id: &str) -> Result<Option<Record>> {
        self.bottom.get(id).await.map_err(|e| self.bottom_error(e))
    }

    pub(super) async fn write_insert(&self, id: Option<Id>, record: Record) -> Result<Id> {
        self.offered(|c| c.can_insert, "insert")?;
        self.check_record("insert", &record)?;
        let Some(id) = id else {
            return self.insert_fresh(record).await;
        };
        let exists = || {
            Error::failed(format!(
                "insert into \"{}\": a row with id \"{id}\" already exists",
                self.name
            ))
        };
        match self.top_row(&id).await? {
            TopRow::Row => Err(exists()),
            TopRow::Tombstone => {
                self.top
                    .replace(&id, record)
                    .await
                    .map_err(|e| self.top_error(e))?;
                Ok(id)
            }
            TopRow::Absent => {
                if self.bottom_row(&id).await?.is_some() {
                    return Err(exists());
                }
                self.top
                    .insert(Some(id), record)
                    .await
                    .map_err(|e| self.top_error(e))
            }
        }
    }

    /// Insert under an id the top part picks; undone when the bottom part
    /// already has that id (the new row would hide it) or cannot tell.
    async fn insert_fresh(&self, record: Record) -> Result<Id> {
        let id = self
            .top
            .insert(None, record)
            .await
            .map_err(|e| self.top_error(e))?;
        let problem = match self.bottom_row(&id).await {
            Ok(None) => return Ok(id),
            Ok(Some(_)) => Error::failed(format!(
                "insert into \"{}\": the {} picked the id \"{id}\", which the {} already has; \
                 the insert was undone (give the row an id)",
                self.name,
                self.layering.roles().0,
                self.layering.roles().1
            )),
            Err(error) => {
                error.context("insert: cannot check the picked id; the insert was undone")
            }
        };
        match self.top.delete(&id).await {
            Ok(()) => Err(problem),
            Err(undo) => Err(Error::failed(format!(
                "{problem}; undoing it failed too, so the row \"{id}\" stays in the {}: {undo}",
                self.layering.roles().0
            ))),
        }
    }

    pub(super) async fn write_replace(&self, id: &str, record: Record) -> Result<()> {
        self.offered(|c| c.can_update, "replace")?;
        self.check_record("replace", &record)?;
        match self.top_row(id).await? {
            TopRow::Row => self
                .top
                .replace(id, record)
                .await
                .map_err(|e| self.top_error(e)),
            TopRow::Tombstone => Err(self.not_found("replace", id)),
            TopRow::Absent => {
                if self.bottom_row(id).await?.is_none() {
                    return Err(self.not_found("replace", id));
                }
                self.copy_up(id, record).await
            }
        }
    }

    pub(super) async fn write_patch(&self, id: &str, fields: Record) -> Result<()> {
        self.offered(|c| c.can_update, "patch")?;
        self.check_record("patch", &fields)?;
        match self.top_row(id).await? {
            TopRow::Row => self
                .top
                .patch(id, fields)
                .await
                .map_err(|e| self.top_error(e)),
            TopRow::Tombstone => Err(self.not_found("patch", id)),
            TopRow::Absent => {
                let Some(mut row) = self.bottom_row(id).await? else {
                    return Err(self.not_found("patch", id));
                };
                row.merge(&fields);
                self.copy_up(id, row).await
            }
        }
    }

    /// Store `record` as the top part's row `id`, hiding the bottom's.
    async fn copy_up(&self, id: &str, record: Record) -> Result<()> {
        self.top
            .insert(Some(id.into()), record)
            .await
            .map(|_| ())
            .map_err(|e| self.top_error(e))
    }

    pub(super) async fn write_delete(&self, id: &str) -> Result<()> {
        self.offered(|c| c.can_delete, "delete")?;
        match self.layering {
            Layering::Overlay => self.delete_in_overlay(id).await,
            Layering::Merge => {
                if self.bottom_row(id).await?.is_some() {
                    return Err(self.fallback_holds(&format!("the row \"{id}\"")));
                }
                self.top.delete(id).await.map_err(|e| self.top_error(e))
            }
        }
    }

    /// A row the base has is deleted with a tombstone; a row only the
    /// overlay has is simply deleted there.
    async fn delete_in_overlay(&self, id: &str) -> Result<()> {
        let top = self.top_row(id).await?;
        if top == TopRow::Tombstone {
            return Ok(());
        }
        let in_base = self.bottom_row(id).await?.is_some();
        let done = match (top, in_base) {
            (TopRow::Row, true) => self.top.replace(id, tombstone()).await,
            (TopRow::Row, false) => self.top.delete(id).await,
            (_, true) => self
                .top
                .insert(Some(id.into()), tombstone())
                .await
                .map(|_| ()),
            (_, false) => Ok(()),
        };
        done.map_err(|e| self.top_error(e))
    }

    pub(super) async fn write_delete_all(&self) -> Result<()> {
        self.offered(|c| c.can_delete, "delete_all")?;
        match self.layering {
            Layering::Overlay => {
                let base = self
                    .bottom
                    .list(&Query::new())
                    .await
                    .map_err(|e| self.bottom_error(e))?;
                self.top.delete_all().await.map_err(|e| self.top_error(e))?;
                let top = &self.top;
                let _: Vec<Id> = stream::iter(base)
                    .map(|(id, _)| top.insert(Some(id), tombstone()))
                    .buffered(self.lookups)
                    .try_collect()
                    .await
                    .map_err(|e| {
                        self.top_error(e)
                            .context("delete_all: the overlay was cleared, but not every base row got its tombstone")
                    })?;
                Ok(())
            }
            Layering::Merge => {
                if !self.bottom_is_empty().await? {
                    return Err(self.fallback_holds("rows"));
                }
                self.top.delete_all().await.map_err(|e| self.top_error(e))
            }
        }
    }

    async fn bottom_is_empty(&self) -> Result<bool> {
        let caps = self.bottom.capabilities();
        let empty = Query::new();
        let answer = if caps.can_count {
            self.bottom.count(&empty).await.map(|n| n == 0)
        } else if caps.can_fetch_page || caps.can_fetch_next {
            self.bottom
                .fetch_window(&empty, 0, 1)
                .await
                .map(|page| page.rows.is_empty())
        } else {
            self.bottom.list(&empty).await.map(|rows| rows.is_empty())
        };
        answer.map_err(|e| self.bottom_error(e))
    }

    fn fallback_holds(&self, what: &str) -> Error {
        Error::invalid_input(format!(
            "delete on \"{}\": the fallback \"{}\" holds {what}, and a merge writes only to its \
             primary, so the fallback's row would show again; delete it in the fallback, or \
             compose with Vista::overlay, whose deletes leave a tombstone",
            self.name,
            self.bottom.name()
        ))
    }
}

/// What the top part holds for one id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TopRow {
    Absent,
    Tombstone,
    Row,
}

//! `DioShell`: the facade's `TableShell`, reading the cache and writing
//! through the queue.
//!
//! Every narrowing clause is accepted and evaluated locally over cached rows
//! with the shared helpers of [`vista::eval`](crate::vista::eval), so the
//! capabilities it reports are exactly what it does. Reads scan the cache
//! table; sceneries, not the facade, are the path for large paged views.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Dio, WriteOp};
use crate::cache::{CacheBatch, CachedRow, RowState};
use crate::error::{Error, Result};
use crate::runtime::BoxFuture;
use crate::value::Record;
use crate::vista::{Clause, Id, Page, Query, QueryDescriptor, TableShell, VistaCapabilities, eval};

/// Rows read per cache scan step.
const SCAN_STEP: usize = 1024;

#[derive(Debug)]
pub(super) struct DioShell {
    dio: Dio,
    name: String,
}

impl DioShell {
    pub(super) fn new(dio: Dio) -> Self {
        let name = String::from(dio.master().name());
        DioShell { dio, name }
    }

    async fn warm(&self, query: &Query, window: Option<(usize, usize)>) -> Result<()> {
        let descriptor = QueryDescriptor {
            query: query.clone(),
            offset: window.map(|(offset, _)| offset),
            limit: window.map(|(_, limit)| limit),
            ..QueryDescriptor::default()
        };
        self.dio.queries().ensure(&self.dio, descriptor, true).await
    }

    /// Every cached row matching `query`, in query order.
    fn evaluate(&self, query: &Query) -> Result<Vec<(Id, Record)>> {
        Ok(eval::apply_query(scan_all(&self.dio)?, query))
    }

    /// Refuse a write the facade does not advertise, at once, as every
    /// shell must; queued, it would only fail later at the master.
    fn offered(&self, offered: fn(&VistaCapabilities) -> bool, what: &str) -> Result<()> {
        if offered(&self.capabilities()) {
            Ok(())
        } else {
            Err(Error::unsupported(format!(
                "\"{}\" cannot {what}: its master does not and no on_write routes it",
                self.name
            )))
        }
    }
}

/// The cached record of `id` when the cache holds all of it (complete or
/// stale, not incomplete).
fn whole_row(dio: &Dio, id: &str) -> Result<Option<Record>> {
    Ok(dio
        .cache()
        .get(id)?
        .filter(|row| row.state != RowState::Incomplete)
        .map(|row| row.record))
}

/// Every cached row in id order.
pub(crate) fn scan_all(dio: &Dio) -> Result<Vec<(Id, Record)>> {
    let cache = dio.cache();
    let mut rows: Vec<(Id, Record)> = Vec::new();
    loop {
        let after = rows.last().map(|(id, _)| id.clone());
        let step = cache.scan(after.as_deref(), SCAN_STEP)?;
        let done = step.len() < SCAN_STEP;
        rows.extend(step.into_iter().map(|(id, row)| (id, row.record)));
        if done {
            return Ok(rows);
        }
    }
}

impl TableShell for DioShell {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> VistaCapabilities {
        let master = self.dio.master().capabilities();
        let routed = self.dio.policy().on_write().is_some();
        VistaCapabilities {
            can_insert: master.can_insert || routed,
            can_update: master.can_update || routed,
            can_delete: master.can_delete || routed,
            // The Dio fans its events out to sceneries.
            can_subscribe: true,
            // Answered locally over the cache.
            can_order: true,
            can_search: true,
            can_fetch_page: true,
            can_fetch_next: true,
            can_count: true,
        }
    }

    fn accepts(&self, _clause: Clause<'_>) -> bool {
        true
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        Box::pin(async move {
            self.warm(query, None).await?;
            self.evaluate(query)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(async move {
            if let Some(record) = whole_row(&self.dio, id)? {
                return Ok(Some(record));
            }
            // A miss (or a row known only in part) asks on_query for this id
            // (never remembered: the row's presence is the answer), then
            // reads the cache again.
            self.dio
                .queries()
                .ensure(&self.dio, QueryDescriptor::for_id(id), false)
                .await?;
            if let Some(record) = whole_row(&self.dio, id)? {
                return Ok(Some(record));
            }
            match self.dio.cache().get(id)? {
                // Only part of the row is cached and nothing completed it:
                // read it through rather than pass the part off as the whole.
                Some(_) => {
                    let stamp = self.dio.begin_read();
                    let span = super::spans::master_get(self.dio.table_name(), id);
                    let record = super::spans::master_call(span, self.dio.master().get(id)).await?;
                    if let Some(record) = &record {
                        let now = Some(self.dio.runtime().wall_clock());
                        let row = CachedRow::complete(record.clone(), now);
                        let rows = alloc::vec![(String::from(id), row)];
                        // A change that raced the read is newer: the cache keeps it.
                        self.dio.store_read(&stamp, rows, CacheBatch::new())?;
                    }
                    Ok(record)
                }
                None => Ok(None),
            }
        })
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        Box::pin(async move {
            self.warm(query, None).await?;
            if query.conditions.is_empty() && query.search.is_none() {
                self.dio.cache().count()
            } else {
                Ok(self.evaluate(query)?.len())
            }
        })
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        Box::pin(async move {
            self.warm(query, Some((offset, limit))).await?;
            let rows = self.evaluate(query)?;
            let total = rows.len();
            Ok(Page {
                rows: eval::window(rows, offset, limit),
                total: Some(total),
            })
        })
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        Box::pin(async move {
            self.offered(|c| c.can_insert, "insert")?;
            if id.is_none() && self.dio.policy().on_write().is_some() {
                return Err(Error::invalid_input(
                    "an insert through on_write needs an id: on_write cannot report one back",
                ));
            }
            let ticket = self
                .dio
                .write(WriteOp::Insert {
                    id: id.clone(),
                    record,
                })
                .await?;
            match id {
                Some(id) => Ok(id),
                // The id is the master's to choose: wait for the write.
                None => ticket
                    .outcome()
                    .await?
                    .ok_or_else(|| Error::failed("the master reported no id for the inserted row")),
            }
        })
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.offered(|c| c.can_update, "replace")?;
            self.dio
                .write(WriteOp::Replace {
                    id: String::from(id),
                    record,
                })
                .await
                .map(drop)
        })
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.offered(|c| c.can_update, "patch")?;
            self.dio
                .write(WriteOp::Patch {
                    id: String::from(id),
                    fields,
                })
                .await
                .map(drop)
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.offered(|c| c.can_delete, "delete")?;
            self.dio
                .write(WriteOp::Delete {
                    id: String::from(id),
                })
                .await
                .map(drop)
        })
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.offered(|c| c.can_delete, "delete_all")?;
            self.dio.write(WriteOp::DeleteAll).await.map(drop)
        })
    }
}

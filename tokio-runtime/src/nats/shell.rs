//! `ReplicaShell`: the master as a replica sees it. Reads of a row or a
//! window go through the shared tier; every write the master acknowledges
//! is announced on the stream before the Dio applies it to its cache.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{ChangeFeed, Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Record, Result};

use super::message::{Change, Op, TierEntry};
use super::table::{TableState, lock};
use super::tier;

/// A master table shared by the replicas of one namespace (see
/// [`Replica::share`](super::Replica::share)).
#[derive(Debug)]
pub(crate) struct ReplicaShell {
    pub(crate) table: Arc<TableState>,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl ReplicaShell {
    /// Announce a change this replica made (or learned), started at
    /// `started_ms`; waits (bounded, not while NATS is away) until the
    /// stream has it, so "applied" means "announced" whenever NATS answers.
    pub(crate) async fn announce(&self, id: Option<Id>, op: Op, started_ms: u64) {
        let seq = announce_now(&self.table, id, op, started_ms);
        let replica = &self.table.replica;
        if replica.link.connected() && !replica.link.is_down() {
            replica
                .outbox
                .wait(seq, replica.link.options.op_timeout)
                .await;
        }
    }
}

/// Queue the announcement without waiting; returns its outbox place.
pub(crate) fn announce_now(
    table: &Arc<TableState>,
    id: Option<Id>,
    op: Op,
    started_ms: u64,
) -> u64 {
    let tick = lock(&table.ordering).register_own(id.as_deref());
    table.forget_echo(id.as_deref());
    let change = Change {
        origin: table.replica.link.options.replica.clone(),
        id,
        op,
        started_ms,
        tick,
        boot: table.replica.outbox.boot,
    };
    table.replica.outbox.push(table, change)
}

impl TableShell for ReplicaShell {
    fn name(&self) -> &str {
        self.table.master.name()
    }

    fn capabilities(&self) -> VistaCapabilities {
        self.table.master.capabilities()
    }

    fn accepts(&self, clause: Clause<'_>) -> bool {
        self.table.master.accepts(clause)
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        self.table.master.list(query)
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        self.table.master.count(query)
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(async move {
            let table = &self.table;
            let key = table.replica.link.options.names().row_key(&table.name, id);
            tier::read(
                &table.replica,
                &key,
                || table.master.get(id),
                |row: &Option<Record>| TierEntry::Row(row.clone()),
                |entry| match entry {
                    TierEntry::Row(row) => Some(row),
                    _ => None,
                },
            )
            .await
        })
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        Box::pin(async move {
            let table = &self.table;
            let Some(version) = table.window_version() else {
                // Not followed yet: no position vouches for a shared window.
                table
                    .replica
                    .stats
                    .master_reads
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return table.master.fetch_window(query, offset, limit).await;
            };
            let key = table.replica.link.options.names().chunk_key(
                &table.name,
                version,
                &query.key(),
                offset,
                limit,
            );
            tier::read(
                &table.replica,
                &key,
                || table.master.fetch_window(query, offset, limit),
                |page: &Page| TierEntry::Page(page.clone()),
                |entry| match entry {
                    TierEntry::Page(page) => Some(page),
                    _ => None,
                },
            )
            .await
        })
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        Box::pin(async move {
            let started = now_ms();
            let id = self.table.master.insert(id, record.clone()).await?;
            self.announce(Some(id.clone()), Op::Upsert(record), started)
                .await;
            Ok(id)
        })
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let started = now_ms();
            self.table.master.replace(id, record.clone()).await?;
            self.announce(Some(id.to_string()), Op::Upsert(record), started)
                .await;
            Ok(())
        })
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let started = now_ms();
            self.table.master.patch(id, fields.clone()).await?;
            self.announce(Some(id.to_string()), Op::Patch(fields), started)
                .await;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let started = now_ms();
            self.table.master.delete(id).await?;
            self.announce(Some(id.to_string()), Op::Remove, started)
                .await;
            Ok(())
        })
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let started = now_ms();
            self.table.master.delete_all().await?;
            self.announce(None, Op::Reset, started).await;
            Ok(())
        })
    }

    fn change_feed(&self) -> Option<Arc<dyn ChangeFeed>> {
        // The master's own feed, if it has one, still reaches the Dio.
        self.table.master.change_feed()
    }
}

//! What each connection carries: the connection, the table's shape and its
//! count cache (the writer's on its thread, each reader's in the pool).

use std::collections::HashMap;
use std::sync::Arc;

use diorama_core::Result;
use diorama_core::vista::Query;
use rusqlite::Connection;

use super::error::sql_error;
use super::indexed_search::MatchCache;
use super::ranks::KnownRanks;
use super::schema::Schema;

/// The connection and everything read through it, used by one thread at a
/// time.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) conn: Connection,
    pub(crate) schema: Arc<Schema>,
    pub(crate) counts: CountCache,
    pub(crate) matches: MatchCache,
    pub(crate) ranks: KnownRanks,
    /// The writer's bookkeeping of applied keys (see `applied.rs`).
    pub(crate) applied: super::applied::AppliedKeys,
}

impl State {
    pub(crate) fn new(conn: Connection, schema: Arc<Schema>) -> Self {
        State {
            conn,
            schema,
            counts: CountCache::default(),
            matches: MatchCache::default(),
            ranks: KnownRanks::default(),
            applied: Default::default(),
        }
    }
}

/// Counts of recent filters, so paging through a large filtered table does
/// not rescan it for the total of every window.
///
/// An entry is valid while nothing has changed the database: every write
/// through this connection clears the cache, and `PRAGMA data_version`
/// (which moves when another connection commits, the vista's own writer
/// included) is checked before each use, so each pooled reader keeps a
/// cache of its own that is never older than the data it reads.
#[derive(Debug, Default)]
pub(crate) struct CountCache {
    version: Option<i64>,
    counts: HashMap<String, usize>,
}

/// More distinct filters than a screen's worth of searches; past it the
/// cache starts over rather than tracking recency.
const MAX_COUNTS: usize = 256;

impl CountCache {
    /// The cached count of `query`'s filter, computing it with `count` when
    /// absent or stale.
    pub(crate) fn get_or(
        &mut self,
        conn: &Connection,
        query: &Query,
        count: impl FnOnce() -> Result<usize>,
    ) -> Result<usize> {
        // The sort does not change a count, so it is not part of the key.
        let key = Query {
            conditions: query.conditions.clone(),
            sort: None,
            search: query.search.clone(),
        }
        .key();
        self.keyed(conn, key, count)
    }

    /// The cached count under `key` (a query's key, or any other count of
    /// the same data: the rows with a value in a ranked field), computing
    /// it with `count` when absent or stale.
    pub(crate) fn keyed(
        &mut self,
        conn: &Connection,
        key: String,
        count: impl FnOnce() -> Result<usize>,
    ) -> Result<usize> {
        let version: i64 = conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map_err(|e| sql_error("reading the data version", e))?;
        if self.version != Some(version) {
            self.counts.clear();
            self.version = Some(version);
        }
        if let Some(&n) = self.counts.get(&key) {
            return Ok(n);
        }
        let n = count()?;
        if self.counts.len() >= MAX_COUNTS {
            self.counts.clear();
        }
        self.counts.insert(key, n);
        Ok(n)
    }

    /// Forget every count (after a write through this connection).
    pub(crate) fn clear(&mut self) {
        self.counts.clear();
    }
}

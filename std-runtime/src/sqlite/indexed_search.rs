//! A search the index answers alone (no conditions, a needle the index
//! matches exactly but on odd rows): its rows are the index's matches, so
//! its count and its windows need not read the table.
//!
//! - The matches come from the FTS5 table alone; only odd rows (listed
//!   beside the index) are read and checked with the local matcher.
//! - The count is the number of matches.
//! - The matches are kept per connection while no indexed text changes
//!   (the index's change counter), so paging a search finds them once.
//! - A window without a sort is a slice of the matches (rowid order is the
//!   unsorted order). A sorted window near the start walks the sort's
//!   covering index and keeps the rowids that match, stopping at the
//!   window's end: cheap while the window's end, scaled by the share of
//!   rows that match, is not far into the table. Deeper windows (or a walk
//!   that runs over its budget) sort the matches themselves, read by key.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;

use diorama_core::Result;
use diorama_core::vista::Query;
use rusqlite::types::Value as SqlValue;
use rusqlite::vtab::array::Array;
use rusqlite::{Connection, params};

use super::error::sql_error;
use super::fold::{self, IndexUse};
use super::functions;
use super::schema::Schema;
use super::search_index::{self, SearchIndex};
use super::translate::plan;

/// A walk over the sort index is preferred while it visits at most this
/// many times the matches' number in index entries: a step of the walk
/// (about 30 ns, a covered index entry and a bit test) costs some twenty
/// times less than reading a match by key to sort it...
const WALK_FACTOR: usize = 20;
/// ... or this many entries, for small sets.
const WALK_FLOOR: usize = 20_000;

/// The search of `query`, when the index answers it alone.
pub(crate) struct IndexedSearch<'a> {
    index: &'a SearchIndex,
    rowid: &'static str,
    needle: &'a str,
}

impl<'a> IndexedSearch<'a> {
    /// `Some` for a query with no conditions and a search needle the
    /// index matches exactly but on odd rows, on a table with an index.
    pub(crate) fn of(schema: &'a Schema, query: &'a Query) -> Option<IndexedSearch<'a>> {
        let needle = query.search.as_deref().filter(|n| !n.is_empty())?;
        let (index, rowid) = schema.search_index().zip(schema.rowid)?;
        (query.conditions.is_empty() && fold::index_use(needle) == IndexUse::CheckOdd).then_some(
            IndexedSearch {
                index,
                rowid,
                needle,
            },
        )
    }

    /// `SELECT <what> FROM` the index's matches, odd rows checked.
    fn matches_sql(&self, schema: &Schema, what: &str) -> String {
        let columns: Vec<&str> = schema.fields.iter().map(|c| c.quoted.as_str()).collect();
        let (fts, odd, table, rowid) = (
            &self.index.quoted,
            &self.index.odd,
            &schema.quoted_table,
            self.rowid,
        );
        format!(
            "SELECT {what} FROM {fts} WHERE {fts} MATCH ?1 AND ({fts}.rowid NOT IN \
             (SELECT \"row\" FROM {odd}) OR (SELECT {}(?2, {}) FROM {table} \
             WHERE {table}.{rowid} = {fts}.rowid))",
            functions::SEARCH,
            columns.join(", ")
        )
    }

    /// The rowids of every match, ascending, from `cache` while no
    /// indexed text changed since they were found.
    pub(crate) fn matches(
        &self,
        conn: &Connection,
        schema: &Schema,
        cache: &mut MatchCache,
    ) -> Result<Arc<Vec<i64>>> {
        let context = format!("searching \"{}\"", schema.table);
        let changes: i64 = conn
            .prepare_cached(&format!(
                "SELECT coalesce(max(\"n\"), 0) FROM {}",
                self.index.changes
            ))
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
            .map_err(|e| sql_error(&context, e))?;
        if let Some(found) = cache.get(self.needle, changes) {
            return Ok(found);
        }
        let sql = format!(
            "{} ORDER BY {}.rowid",
            self.matches_sql(schema, &format!("{}.rowid", self.index.quoted)),
            self.index.quoted
        );
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(|e| sql_error(&context, e))?;
        let rows: Vec<i64> = stmt
            .query_map(
                params![search_index::phrase(self.needle), self.needle],
                |row| row.get(0),
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| sql_error(&context, e))?;
        let rows = Arc::new(rows);
        cache.put(self.needle, changes, rows.clone());
        Ok(rows)
    }

    /// The rowids of the window `offset..offset + limit` of `query`, whose
    /// rows are `matches`, in the order `query` asks.
    pub(crate) fn window(
        &self,
        conn: &Connection,
        schema: &Schema,
        query: &Query,
        matches: &[i64],
        offset: usize,
        limit: usize,
    ) -> Result<Vec<i64>> {
        let total = matches.len();
        let end = offset.saturating_add(limit).min(total);
        let start = offset.min(end);
        let Some(sort) = &query.sort else {
            return Ok(matches[start..end].to_vec());
        };
        if start == end {
            return Ok(Vec::new());
        }
        let order = plan(schema, &Query::new().with_sort(sort.clone()))?.order;
        let context = format!("reading a search of \"{}\"", schema.table);
        // Walk the sort index while the window's end should come soon (at
        // the rate rows match), up to a budget of steps: matches bunched
        // late in the order (the cheapest lamps sorted by falling price)
        // would make the walk long.
        let budget = WALK_FACTOR.saturating_mul(total).max(WALK_FLOOR);
        let table_rows = max_rowid(conn, schema, self.rowid)?;
        if end.saturating_mul(table_rows) / total.max(1) <= budget {
            let wanted = RowSet::new(matches, table_rows);
            let sql = format!("SELECT {} FROM {}{order}", self.rowid, schema.quoted_table);
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(|e| sql_error(&context, e))?;
            let mut rows = stmt.query([]).map_err(|e| sql_error(&context, e))?;
            let (mut seen, mut steps) = (0, 0);
            let mut window = Vec::with_capacity(end - start);
            while seen < end && steps < budget {
                let Some(row) = rows.next().map_err(|e| sql_error(&context, e))? else {
                    break;
                };
                steps += 1;
                let key: i64 = row.get(0).map_err(|e| sql_error(&context, e))?;
                if wanted.contains(key) {
                    if seen >= start {
                        window.push(key);
                    }
                    seen += 1;
                }
            }
            if seen >= end || steps < budget {
                return Ok(window);
            }
        }
        // Sort the matches themselves: one read by key each, then the
        // window of a sort SQLite keeps to `offset + limit` rows.
        let keys: Array = Rc::new(matches.iter().map(|&k| SqlValue::Integer(k)).collect());
        let sql = format!(
            "SELECT {rowid} FROM {} WHERE {rowid} IN rarray(?1){order} LIMIT ?2 OFFSET ?3",
            schema.quoted_table,
            rowid = self.rowid
        );
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(|e| sql_error(&context, e))?;
        let window = stmt
            .query_map(params![keys, (end - start) as i64, start as i64], |row| {
                row.get(0)
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| sql_error(&context, e))?;
        Ok(window)
    }
}

/// A set of rowids to test each step of a walk against: a bitmap when
/// the rowids are small (the common case: SQLite assigns them from 1), a
/// hash set otherwise.
enum RowSet {
    Bits(Vec<u64>),
    Hash(HashSet<i64>),
}

/// Rowids up to this are tested in a bitmap (8 MiB at most).
const BITMAP_ROWIDS: usize = 1 << 26;

impl RowSet {
    fn new(rows: &[i64], max_rowid: usize) -> RowSet {
        if max_rowid < BITMAP_ROWIDS && rows.iter().all(|&r| r >= 0) {
            let mut bits = vec![0u64; max_rowid / 64 + 1];
            for &r in rows {
                let r = r as usize;
                if let Some(word) = bits.get_mut(r / 64) {
                    *word |= 1 << (r % 64);
                }
            }
            RowSet::Bits(bits)
        } else {
            RowSet::Hash(rows.iter().copied().collect())
        }
    }

    fn contains(&self, row: i64) -> bool {
        match self {
            RowSet::Bits(bits) => usize::try_from(row)
                .ok()
                .and_then(|r| bits.get(r / 64).map(|w| w & (1 << (r % 64)) != 0))
                .unwrap_or(false),
            RowSet::Hash(set) => set.contains(&row),
        }
    }
}

/// The matches of recent needles, per connection, each valid while the
/// index's change counter stays where it was when they were found.
#[derive(Debug, Default)]
pub(crate) struct MatchCache {
    entries: Vec<(String, i64, Arc<Vec<i64>>)>,
}

/// Needles whose matches a connection keeps (a few searches being paged).
const CACHED_NEEDLES: usize = 8;

impl MatchCache {
    fn get(&mut self, needle: &str, changes: i64) -> Option<Arc<Vec<i64>>> {
        self.entries.retain(|(_, n, _)| *n == changes);
        let at = self.entries.iter().position(|(k, ..)| k == needle)?;
        let entry = self.entries.remove(at);
        let found = entry.2.clone();
        self.entries.push(entry);
        Some(found)
    }

    fn put(&mut self, needle: &str, changes: i64, rows: Arc<Vec<i64>>) {
        if self.entries.len() >= CACHED_NEEDLES {
            self.entries.remove(0);
        }
        self.entries.push((needle.to_owned(), changes, rows));
    }
}

/// The largest rowid: about the table's size, found in one step, for
/// choosing a plan (never for an answer).
fn max_rowid(conn: &Connection, schema: &Schema, rowid: &str) -> Result<usize> {
    let sql = format!(
        "SELECT coalesce(max({rowid}), 0) FROM {}",
        schema.quoted_table
    );
    let n: i64 = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(|e| sql_error("sizing a table", e))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

//! Reads, run on the connection's thread.

use diorama_core::vista::{Id, Page, Query};
use diorama_core::{Record, Result};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};

use super::convert::{bind_id, read_row};
use super::error::sql_error;
use super::indexed_search::IndexedSearch;
use super::ranks::KnownRanks;
use super::schema::Schema;
use super::sort_index;
use super::state::{CountCache, State};
use super::translate::{Plan, plan};

impl State {
    /// Every row matching `query`, in query order.
    pub(crate) fn list(&mut self, query: &Query) -> Result<Vec<(Id, Record)>> {
        select(&self.conn, &self.schema, query, None)
    }

    /// Rows `offset..offset + limit` of `query` and the total, read in one
    /// transaction so both describe the same data.
    pub(crate) fn window(&mut self, query: &Query, offset: usize, limit: usize) -> Result<Page> {
        let context = format!("reading a window of \"{}\"", self.schema.table);
        self.conn
            .execute_batch("BEGIN")
            .map_err(|e| sql_error(&context, e))?;
        let page: Result<Page> = (|| {
            plan(&self.schema, query)?;
            let (conn, schema) = (&self.conn, &self.schema);
            if let (Some(search), Some(rowid)) = (IndexedSearch::of(schema, query), schema.rowid) {
                let matches = search.matches(conn, schema, &mut self.matches)?;
                let total = matches.len();
                self.counts.get_or(conn, query, || Ok(total))?;
                let keys = search.window(conn, schema, query, &matches, offset, limit)?;
                return Ok(Page {
                    rows: rows_by_rowid(conn, schema, rowid, keys)?,
                    total: Some(total),
                });
            }
            let total = self.count(query)?;
            let (conn, schema) = (&self.conn, &self.schema);
            let rows = if limit == 0 || offset >= total {
                Vec::new()
            } else if let Some(keys) = dense_window(conn, schema, query, total, offset, limit)? {
                rows_by_rowid(conn, schema, schema.rowid.unwrap_or("rowid"), keys)?
            } else if let Some(keys) = ranked_window(
                conn,
                schema,
                &mut self.ranks,
                &mut self.counts,
                query,
                total,
                (offset, limit),
            )? {
                rows_by_rowid(conn, schema, schema.rowid.unwrap_or("rowid"), keys)?
            } else if let Some(keys) =
                window_from_the_end(conn, schema, query, total, offset, limit)?
            {
                rows_by_rowid(conn, schema, schema.rowid.unwrap_or("rowid"), keys)?
            } else {
                select(conn, schema, query, Some((offset, limit)))?
            };
            Ok(Page {
                rows,
                total: Some(total),
            })
        })();
        // A read transaction: ending it cannot lose anything.
        let end = self
            .conn
            .execute_batch(if page.is_ok() { "COMMIT" } else { "ROLLBACK" });
        let page = page?;
        end.map_err(|e| sql_error(&context, e))?;
        Ok(page)
    }

    /// Number of rows matching `query` (cached, see `CountCache`).
    pub(crate) fn count(&mut self, query: &Query) -> Result<usize> {
        // Validate the whole query (the sort too) even when the count is cached.
        plan(&self.schema, query)?;
        let (conn, schema, matches) = (&self.conn, &self.schema, &mut self.matches);
        let ranks = &mut self.ranks;
        self.counts
            .get_or(conn, query, || match IndexedSearch::of(schema, query) {
                Some(search) => Ok(search.matches(conn, schema, matches)?.len()),
                None => match ranked_count(conn, schema, ranks, query)? {
                    Some(n) => Ok(n),
                    None => count_rows(conn, schema, query),
                },
            })
    }

    /// The row `id`, if present.
    pub(crate) fn get(&mut self, id: &str) -> Result<Option<Record>> {
        let schema = &self.schema;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = ?",
            schema.select_list, schema.quoted_table, schema.id.quoted
        );
        let context = format!("reading \"{id}\" of \"{}\"", schema.table);
        let key = bind_id(schema, id)?;
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| sql_error(&context, e))?;
        let mut rows = stmt.query([key]).map_err(|e| sql_error(&context, e))?;
        match rows.next().map_err(|e| sql_error(&context, e))? {
            Some(row) => Ok(Some(read_row(schema, row)?.1)),
            None => Ok(None),
        }
    }
}

/// `SELECT` the rows of `query`, all of them or one window.
///
/// A window of a table with rowids is read ids first: the rowids of the
/// window alone (a walk over a covering index where the sort has one,
/// stepping over the skipped rows without reading them), then each row by
/// key. Both statements run in the caller's transaction, so they agree.
fn select(
    conn: &Connection,
    schema: &Schema,
    query: &Query,
    window: Option<(usize, usize)>,
) -> Result<Vec<(Id, Record)>> {
    let context = format!("reading \"{}\"", schema.table);
    let (sql, params) = select_sql(schema, query, window)?;
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(|e| sql_error(&context, e))?;
    let mut rows = stmt
        .query(params_from_iter(params))
        .map_err(|e| sql_error(&context, e))?;
    let mut out = Vec::new();
    match (window, schema.rowid) {
        (Some(_), Some(rowid)) => {
            let mut keys = Vec::new();
            while let Some(row) = rows.next().map_err(|e| sql_error(&context, e))? {
                keys.push(row.get::<_, i64>(0).map_err(|e| sql_error(&context, e))?);
            }
            return rows_by_rowid(conn, schema, rowid, keys);
        }
        _ => {
            while let Some(row) = rows.next().map_err(|e| sql_error(&context, e))? {
                out.push(read_row(schema, row)?);
            }
        }
    }
    Ok(out)
}

/// The rowids of the window `offset..offset + limit` of a whole table
/// (no condition, search or sort) of `total` rows whose rowids run without
/// a gap, as most tables only ever appended to do: the window is then a
/// range of rowids, found without stepping over the rows before it.
/// `None` for any other query or table (one with gaps from deletes).
fn dense_window(
    conn: &Connection,
    schema: &Schema,
    query: &Query,
    total: usize,
    offset: usize,
    limit: usize,
) -> Result<Option<Vec<i64>>> {
    let plain = whole_table(query) && query.sort.is_none();
    let Some(rowid) = schema.rowid.filter(|_| plain) else {
        return Ok(None);
    };
    // Two subqueries: SQLite finds a lone min() or max() in one index
    // step, but scans for both in one select.
    let table = &schema.quoted_table;
    let sql =
        format!("SELECT (SELECT min({rowid}) FROM {table}), (SELECT max({rowid}) FROM {table})");
    let (first, last): (Option<i64>, Option<i64>) = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(|e| sql_error("reading the rowid range", e))?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(None);
    };
    let dense = i64::try_from(total)
        .ok()
        .and_then(|total| last.checked_sub(first)?.checked_add(1).map(|n| n == total))
        .unwrap_or(false);
    if !dense {
        return Ok(None);
    }
    let end = offset.saturating_add(limit).min(total);
    Ok(Some((offset..end).map(|at| first + at as i64).collect()))
}

/// True for a query over the whole table: no condition, no search.
fn whole_table(query: &Query) -> bool {
    query.conditions.is_empty() && query.search.as_deref().is_none_or(str::is_empty)
}

/// The rows of the whole table (`None` for any other query), counted from
/// the first field with a rank table: its buckets' rows plus its nulls
/// (a seek in its sort index), instead of a scan of every row.
fn ranked_count(
    conn: &Connection,
    schema: &Schema,
    known: &mut KnownRanks,
    query: &Query,
) -> Result<Option<usize>> {
    if !whole_table(query) || schema.rowid.is_none() {
        return Ok(None);
    }
    for field in &schema.fields {
        if let Some(ranks) = known.of(conn, &schema.table, &field.name)? {
            let valued = ranks.valued(conn)?;
            return Ok(Some(valued + nulls(conn, schema, &field.quoted)?));
        }
    }
    Ok(None)
}

/// How many rows have no value in `column` (quoted).
fn nulls(conn: &Connection, schema: &Schema, column: &str) -> Result<usize> {
    let table = &schema.quoted_table;
    let n: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM {table} WHERE {column} IS NULL"
        ))
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(|e| sql_error(&format!("counting the nulls of \"{}\"", schema.table), e))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The rowids of a window of the whole table sorted by a field with a
/// rank table (`None` for any other query): the bucket holding the
/// window's first row is found from the bucket counts, and the sort index
/// walked from that bucket's bound, stepping only over the rows of that
/// bucket before the window, in either direction. Rows without a value
/// come last, by id.
fn ranked_window(
    conn: &Connection,
    schema: &Schema,
    known: &mut KnownRanks,
    counts: &mut CountCache,
    query: &Query,
    total: usize,
    (offset, limit): (usize, usize),
) -> Result<Option<Vec<i64>>> {
    let (Some(sort), Some(rowid)) = (query.sort.as_ref(), schema.rowid) else {
        return Ok(None);
    };
    if !whole_table(query) {
        return Ok(None);
    }
    let field = schema.field(&sort.field)?;
    let Some(ranks) = known.of(conn, &schema.table, &field.name)? else {
        return Ok(None);
    };
    let context = format!("reading a ranked window of \"{}\"", schema.table);
    let (table, c) = (&schema.quoted_table, &field.quoted);
    let idtext = sort_index::id_text(&schema.id.quoted, schema.id_kind);
    // (A query key never starts with NUL.)
    let valued = counts.keyed(conn, format!("\0ranks {}", field.name), || {
        ranks.valued(conn)
    })?;
    let end = offset.saturating_add(limit).min(total);
    let mut keys = Vec::with_capacity(end.saturating_sub(offset));
    if offset < valued {
        let take = end.min(valued) - offset;
        let descending = sort.dir == diorama_core::vista::SortDir::Desc;
        let first = if descending {
            valued - 1 - offset
        } else {
            offset
        };
        let Some(at) = ranks.locate(conn, first, valued)? else {
            return Ok(None);
        };
        let (filter, params, skip, dir) = if descending {
            // The buckets above `at` come first; the walk starts below the
            // next one up.
            let above = valued - at.below - at.rows;
            match at.next {
                Some(next) => (
                    format!("{c} COLLATE BINARY < ?"),
                    vec![next],
                    offset - above,
                    "DESC",
                ),
                None => (format!("{c} IS NOT NULL"), vec![], offset - above, "DESC"),
            }
        } else {
            (
                format!("{c} COLLATE BINARY >= ?"),
                vec![at.bound],
                offset - at.below,
                "ASC",
            )
        };
        let sql = format!(
            "SELECT {rowid} FROM {table} WHERE {filter} \
             ORDER BY {c} COLLATE BINARY {dir}, {idtext} LIMIT ? OFFSET ?"
        );
        keys.extend(rowids(conn, &context, &sql, params, take, skip)?);
    }
    if end > valued {
        keys.extend(without_value(conn, schema, c, valued, offset, end)?);
    }
    Ok(Some(keys))
}

/// The rowids of a window's rows that have no value in the sorted field
/// `column` (quoted), which come last in either direction, by id: the
/// window `offset..end` of a sorted whole table whose first `valued` rows
/// have one.
fn without_value(
    conn: &Connection,
    schema: &Schema,
    column: &str,
    valued: usize,
    offset: usize,
    end: usize,
) -> Result<Vec<i64>> {
    let (table, rowid) = (&schema.quoted_table, schema.rowid.unwrap_or("rowid"));
    let idtext = sort_index::id_text(&schema.id.quoted, schema.id_kind);
    let sql = format!(
        "SELECT {rowid} FROM {table} WHERE {column} IS NULL ORDER BY {idtext} LIMIT ? OFFSET ?"
    );
    let from = offset.max(valued) - valued;
    let context = format!("reading the rows of \"{}\" without a value", schema.table);
    rowids(conn, &context, &sql, Vec::new(), end - valued - from, from)
}

/// The rowids `sql` (whose last two parameters are `LIMIT ? OFFSET ?`)
/// reads with `params`, then `take` and `skip`.
fn rowids(
    conn: &Connection,
    context: &str,
    sql: &str,
    mut params: Vec<SqlValue>,
    take: usize,
    skip: usize,
) -> Result<Vec<i64>> {
    params.push(SqlValue::Integer(clamp(take)));
    params.push(SqlValue::Integer(clamp(skip)));
    conn.prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_map(params_from_iter(params), |row| row.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })
        .map_err(|e| sql_error(context, e))
}

/// The rowids of a window in the second half of a whole table sorted by
/// one field (no condition or search), read by walking the sort's index
/// from the other end: a window at row 900,000 of a million steps over
/// 100,000 entries instead of 900,000. `None` for any other query or
/// window.
///
/// The order is the field (nulls last), then the id as text. Walked
/// backwards, the rows with a value come in the reverse of that order;
/// the rows without one (last in either direction) are read forwards by
/// id, apart.
fn window_from_the_end(
    conn: &Connection,
    schema: &Schema,
    query: &Query,
    total: usize,
    offset: usize,
    limit: usize,
) -> Result<Option<Vec<i64>>> {
    let plain = whole_table(query);
    let (Some(sort), Some(rowid)) = (query.sort.as_ref().filter(|_| plain), schema.rowid) else {
        return Ok(None);
    };
    if offset <= total / 2 {
        return Ok(None);
    }
    let context = format!("reading a window of \"{}\" from its end", schema.table);
    let table = &schema.quoted_table;
    let c = &schema.field(&sort.field)?.quoted;
    let idtext = sort_index::id_text(&schema.id.quoted, schema.id_kind);
    let valued = total.saturating_sub(nulls(conn, schema, c)?);
    let end = offset.saturating_add(limit).min(total);
    let mut keys = Vec::with_capacity(end.saturating_sub(offset));
    if offset < valued {
        // Rows offset..stop of those with a value, from the far end.
        let stop = end.min(valued);
        let reverse = match sort.dir {
            diorama_core::vista::SortDir::Asc => "DESC",
            diorama_core::vista::SortDir::Desc => "ASC",
        };
        let sql = format!(
            "SELECT {rowid} FROM {table} WHERE {c} IS NOT NULL \
             ORDER BY {c} COLLATE BINARY {reverse}, {idtext} DESC LIMIT ? OFFSET ?"
        );
        let mut part = rowids(
            conn,
            &context,
            &sql,
            Vec::new(),
            stop - offset,
            valued - stop,
        )?;
        part.reverse();
        keys.extend(part);
    }
    if end > valued {
        keys.extend(without_value(conn, schema, c, valued, offset, end)?);
    }
    Ok(Some(keys))
}

/// The rows of `keys` (rowids), in that order: read in the transaction
/// that found the keys, so every one is there.
fn rows_by_rowid(
    conn: &Connection,
    schema: &Schema,
    rowid: &str,
    keys: Vec<i64>,
) -> Result<Vec<(Id, Record)>> {
    let context = format!("reading \"{}\"", schema.table);
    let sql = format!(
        "SELECT {} FROM {} WHERE {rowid} = ?",
        schema.select_list, schema.quoted_table
    );
    let mut by_key = conn
        .prepare_cached(&sql)
        .map_err(|e| sql_error(&context, e))?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let mut found = by_key.query([key]).map_err(|e| sql_error(&context, e))?;
        if let Some(row) = found.next().map_err(|e| sql_error(&context, e))? {
            out.push(read_row(schema, row)?);
        }
    }
    Ok(out)
}

/// The statement [`select`] runs first and its parameters: the rows of
/// `query` (or the rowids of its window, for a table with rowids).
fn select_sql(
    schema: &Schema,
    query: &Query,
    window: Option<(usize, usize)>,
) -> Result<(String, Vec<SqlValue>)> {
    let Plan {
        filter,
        order,
        mut params,
    } = plan(schema, query)?;
    let (table, columns) = (&schema.quoted_table, &schema.select_list);
    let sql = match (window, schema.rowid) {
        (None, _) => format!("SELECT {columns} FROM {table}{filter}{order}"),
        (Some(_), Some(rowid)) => {
            format!("SELECT {rowid} FROM {table}{filter}{order} LIMIT ? OFFSET ?")
        }
        (Some(_), None) => format!("SELECT {columns} FROM {table}{filter}{order} LIMIT ? OFFSET ?"),
    };
    if let Some((offset, limit)) = window {
        params.push(SqlValue::Integer(clamp(limit)));
        params.push(SqlValue::Integer(clamp(offset)));
    }
    Ok((sql, params))
}

impl State {
    /// The index of row `id` in the order of `query`, if in its set.
    pub(crate) fn position(&mut self, query: &Query, id: &str) -> Result<Option<usize>> {
        let schema = self.schema.clone();
        let key = bind_id(&schema, id)?;
        let context = format!("finding \"{id}\" in \"{}\"", schema.table);
        let Plan {
            filter, mut params, ..
        } = plan(&schema, query)?;
        let table = &schema.quoted_table;
        let id_column = &schema.id.quoted;
        // Is it in the set? Then count what comes before it.
        let member = if filter.is_empty() {
            format!("SELECT count(*) FROM {table} WHERE {id_column} = ?")
        } else {
            format!("SELECT count(*) FROM {table}{filter} AND {id_column} = ?")
        };
        let mut member_params = params.clone();
        member_params.push(key.clone());
        let found: i64 = self
            .conn
            .prepare_cached(&member)
            .and_then(|mut stmt| stmt.query_row(params_from_iter(member_params), |row| row.get(0)))
            .map_err(|e| sql_error(&context, e))?;
        if found == 0 {
            return Ok(None);
        }
        // The row's own sort value and id, read as subqueries.
        let of_row = |what: &str| format!("(SELECT {what} FROM {table} WHERE {id_column} = ?)");
        let before = match (&query.sort, schema.rowid) {
            (None, Some(rowid)) => {
                params.push(key);
                format!("{rowid} < {}", of_row(rowid))
            }
            (None, None) => {
                params.push(key);
                format!("{id_column} < ?")
            }
            (Some(sort), _) => {
                let c = &schema.field(&sort.field)?.quoted;
                let idtext = sort_index::id_text(id_column, schema.id_kind);
                let (v, tie) = (of_row(c), of_row(&idtext));
                let cmp = match sort.dir {
                    diorama_core::vista::SortDir::Asc => "<",
                    diorama_core::vista::SortDir::Desc => ">",
                };
                // Nulls last both ways, ties by id as text, across kinds in
                // SQLite's order (as the sort's ORDER BY).
                for _ in 0..5 {
                    params.push(key.clone());
                }
                format!(
                    "(CASE WHEN {v} IS NULL THEN ({c} IS NOT NULL OR {idtext} < {tie}) \
                     ELSE ({c} IS NOT NULL AND ((+{c}) COLLATE BINARY {cmp} {v} \
                     OR ((+{c}) COLLATE BINARY = {v} AND {idtext} < {tie}))) END)"
                )
            }
        };
        let sql = if filter.is_empty() {
            format!("SELECT count(*) FROM {table} WHERE {before}")
        } else {
            format!("SELECT count(*) FROM {table}{filter} AND {before}")
        };
        let n: i64 = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row(params_from_iter(params), |row| row.get(0)))
            .map_err(|e| sql_error(&context, e))?;
        Ok(usize::try_from(n).ok())
    }

    /// `EXPLAIN QUERY PLAN` of the first statement of a window of `query`.
    pub(crate) fn explain_window(&mut self, query: &Query) -> Result<Vec<String>> {
        let (sql, params) = select_sql(&self.schema, query, Some((0, 50)))?;
        explain(&self.conn, &sql, params)
    }

    /// `EXPLAIN QUERY PLAN` of counting `query`.
    pub(crate) fn explain_count(&mut self, query: &Query) -> Result<Vec<String>> {
        let (sql, params) = count_sql(&self.schema, query)?;
        explain(&self.conn, &sql, params)
    }
}

fn explain(conn: &Connection, sql: &str, params: Vec<SqlValue>) -> Result<Vec<String>> {
    let context = "explaining a query";
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .map_err(|e| sql_error(context, e))?;
    let lines = stmt
        .query_map(params_from_iter(params), |row| row.get::<_, String>(3))
        .and_then(|rows| rows.collect())
        .map_err(|e| sql_error(context, e))?;
    Ok(lines)
}

fn count_sql(schema: &Schema, query: &Query) -> Result<(String, Vec<SqlValue>)> {
    let plan = plan(schema, query)?;
    let sql = format!(
        "SELECT count(*) FROM {}{}",
        schema.quoted_table, plan.filter
    );
    Ok((sql, plan.params))
}

fn count_rows(conn: &Connection, schema: &Schema, query: &Query) -> Result<usize> {
    let (sql, params) = count_sql(schema, query)?;
    let context = format!("counting \"{}\"", schema.table);
    let n: i64 = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row(params_from_iter(params), |row| row.get(0)))
        .map_err(|e| sql_error(&context, e))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// A window bound as SQLite's signed 64-bit integer (larger is "all").
fn clamp(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

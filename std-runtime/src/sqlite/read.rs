//! Reads, run on the connection's thread.

use diorama_core::vista::{Id, Page, Query};
use diorama_core::{Record, Result};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};

use super::convert::{bind_id, read_row};
use super::error::sql_error;
use super::schema::Schema;
use super::state::State;
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
            let total = self.count(query)?;
            let rows = if limit == 0 || offset >= total {
                Vec::new()
            } else {
                select(&self.conn, &self.schema, query, Some((offset, limit)))?
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
        let (conn, schema) = (&self.conn, &self.schema);
        self.counts
            .get_or(conn, query, || count_rows(conn, schema, query))
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
fn select(
    conn: &Connection,
    schema: &Schema,
    query: &Query,
    window: Option<(usize, usize)>,
) -> Result<Vec<(Id, Record)>> {
    let plan = plan(schema, query)?;
    let (table, columns) = (&schema.quoted_table, &schema.select_list);
    let Plan {
        filter,
        order,
        mut params,
    } = plan;
    let sql = match (window, schema.rowid) {
        (None, _) => format!("SELECT {columns} FROM {table}{filter}{order}"),
        // The window is found by rowid first, then only its rows are read:
        // the skipped rows are stepped over in the (often covering) index
        // instead of each being read from the table. The outer ORDER BY
        // repeats the order, which is total (it ends with the id).
        (Some(_), Some(rowid)) => format!(
            "SELECT {columns} FROM {table} WHERE {rowid} IN \
             (SELECT {rowid} FROM {table}{filter}{order} LIMIT ? OFFSET ?){order}"
        ),
        (Some(_), None) => format!("SELECT {columns} FROM {table}{filter}{order} LIMIT ? OFFSET ?"),
    };
    if let Some((offset, limit)) = window {
        params.push(SqlValue::Integer(clamp(limit)));
        params.push(SqlValue::Integer(clamp(offset)));
    }
    let context = format!("reading \"{}\"", schema.table);
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(|e| sql_error(&context, e))?;
    let mut rows = stmt
        .query(params_from_iter(params))
        .map_err(|e| sql_error(&context, e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| sql_error(&context, e))? {
        out.push(read_row(schema, row)?);
    }
    Ok(out)
}

fn count_rows(conn: &Connection, schema: &Schema, query: &Query) -> Result<usize> {
    let plan = plan(schema, query)?;
    let sql = format!(
        "SELECT count(*) FROM {}{}",
        schema.quoted_table, plan.filter
    );
    let context = format!("counting \"{}\"", schema.table);
    let n: i64 = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row(params_from_iter(plan.params), |row| row.get(0)))
        .map_err(|e| sql_error(&context, e))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// A window bound as SQLite's signed 64-bit integer (larger is "all").
fn clamp(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

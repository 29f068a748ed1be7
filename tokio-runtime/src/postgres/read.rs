//! Reads: every row, one row, a count, a window with its total.

use diorama_core::vista::{Id, Page, Query};
use diorama_core::{Record, Result};
use tokio_postgres::IsolationLevel;

use super::convert::{Params, id_condition, read_row};
use super::count as counts;
use super::error::pg_error;
use super::translate::plan;
use super::vista::PgVista;

impl PgVista {
    /// Every row matching `query`, in query order.
    pub(super) async fn read_all(&self, query: &Query) -> Result<Vec<(Id, Record)>> {
        let schema = &self.inner.schema;
        let context = format!("reading \"{}\"", schema.table);
        let mut params = Params::default();
        let plan = plan(schema, query, &mut params)?;
        let sql = format!(
            "SELECT {} FROM {} AS t{}{}",
            schema.select_list, schema.qualified, plan.filter, plan.order
        );
        self.answer(&context, false, async {
            let client = self.client(&context).await?;
            let statement = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| pg_error(&context, &e))?;
            let rows = client
                .query(&statement, &params.refs())
                .await
                .map_err(|e| pg_error(&context, &e))?;
            rows.iter().map(|row| read_row(schema, row, 0)).collect()
        })
        .await
    }

    /// The row `id`, if present.
    pub(super) async fn read_one(&self, id: &str) -> Result<Option<Record>> {
        let schema = &self.inner.schema;
        let context = format!("reading \"{id}\" of \"{}\"", schema.table);
        let mut params = Params::default();
        let condition = id_condition(schema, id, &mut params)?;
        let sql = format!(
            "SELECT {} FROM {} AS t WHERE {condition}",
            schema.select_list, schema.qualified
        );
        self.answer(&context, false, async {
            let client = self.client(&context).await?;
            let statement = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| pg_error(&context, &e))?;
            let row = client
                .query_opt(&statement, &params.refs())
                .await
                .map_err(|e| pg_error(&context, &e))?;
            row.map(|row| read_row(schema, &row, 0).map(|(_, record)| record))
                .transpose()
        })
        .await
    }

    /// Number of rows matching `query` (cached while the table is
    /// unchanged, when its change feed tells; see [`super::count`]).
    pub(super) async fn count_rows(&self, query: &Query) -> Result<usize> {
        let schema = &self.inner.schema;
        let context = format!("counting \"{}\"", schema.table);
        let (sql, params) = self.count_sql(query)?;
        let version_sql = self.version_sql();
        self.answer(&context, false, async {
            let client = self.client(&context).await?;
            let Some(version_sql) = version_sql else {
                let statement = client
                    .prepare_cached(&sql)
                    .await
                    .map_err(|e| pg_error(&context, &e))?;
                let row = client
                    .query_one(&statement, &params.refs())
                    .await
                    .map_err(|e| pg_error(&context, &e))?;
                return Ok(count(row.get::<_, i64>(0)));
            };
            let key = counts::key(query);
            let statement = client
                .prepare_cached(&version_sql)
                .await
                .map_err(|e| pg_error(&context, &e))?;
            let version: i64 = client
                .query_one(&statement, &[])
                .await
                .map_err(|e| pg_error(&context, &e))?
                .get(0);
            if let Some(n) = self.inner.counts.get(version, &key) {
                return Ok(n);
            }
            // The version and the count in one snapshot.
            let both = sql.replacen(
                "SELECT count(*)",
                &format!("SELECT ({version_sql}), count(*)"),
                1,
            );
            let statement = client
                .prepare_cached(&both)
                .await
                .map_err(|e| pg_error(&context, &e))?;
            let row = client
                .query_one(&statement, &params.refs())
                .await
                .map_err(|e| pg_error(&context, &e))?;
            let n = count(row.get::<_, i64>(1));
            self.inner.counts.put(row.get(0), key, n);
            Ok(n)
        })
        .await
    }

    /// The statement reading the change log's last sequence, when counts
    /// can be cached (the feed is offered).
    fn version_sql(&self) -> Option<String> {
        self.feed()?;
        let names = self.inner.names.as_ref().ok()?;
        Some(format!(
            "SELECT COALESCE(max(seq), 0)::int8 FROM {}",
            names.log_qualified
        ))
    }

    /// Rows `offset..offset + limit` of `query` and the total, read in one
    /// repeatable-read transaction so both describe the same data.
    pub(super) async fn read_window(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> Result<Page> {
        let schema = &self.inner.schema;
        let context = format!("reading a window of \"{}\"", schema.table);
        let (count_sql, count_params) = self.count_sql(query)?;
        let version_sql = self.version_sql();
        let key = counts::key(query);
        let mut params = Params::default();
        let plan = plan(schema, query, &mut params)?;
        let limit_at = params.push(bound(limit));
        let offset_at = params.push(bound(offset));
        // The window's ids are found first (often in an index alone), then
        // only their rows are read; the outer ORDER BY repeats the order,
        // which is total (it ends with the id).
        let id = format!("t.{}", schema.id.quoted);
        let window_sql = format!(
            "SELECT {list} FROM {table} AS t WHERE {id} IN \
             (SELECT {id} FROM {table} AS t{filter}{order} LIMIT {limit_at}::int8 OFFSET {offset_at}::int8){order}",
            list = schema.select_list,
            table = schema.qualified,
            filter = plan.filter,
            order = plan.order,
        );
        self.answer(&context, false, async {
            let mut client = self.client(&context).await?;
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(|e| pg_error(&context, &e))?;
            let version = match &version_sql {
                Some(version_sql) => {
                    let statement = tx
                        .prepare_cached(version_sql)
                        .await
                        .map_err(|e| pg_error(&context, &e))?;
                    let row = tx
                        .query_one(&statement, &[])
                        .await
                        .map_err(|e| pg_error(&context, &e))?;
                    Some(row.get::<_, i64>(0))
                }
                None => None,
            };
            let cached = version.and_then(|version| self.inner.counts.get(version, &key));
            let total = match cached {
                Some(total) => total,
                None => {
                    let statement = tx
                        .prepare_cached(&count_sql)
                        .await
                        .map_err(|e| pg_error(&context, &e))?;
                    let row = tx
                        .query_one(&statement, &count_params.refs())
                        .await
                        .map_err(|e| pg_error(&context, &e))?;
                    let total = count(row.get::<_, i64>(0));
                    if let Some(version) = version {
                        self.inner.counts.put(version, key.clone(), total);
                    }
                    total
                }
            };
            let rows = if limit == 0 || offset >= total {
                Vec::new()
            } else {
                let statement = tx
                    .prepare_cached(&window_sql)
                    .await
                    .map_err(|e| pg_error(&context, &e))?;
                let rows = tx
                    .query(&statement, &params.refs())
                    .await
                    .map_err(|e| pg_error(&context, &e))?;
                rows.iter()
                    .map(|row| read_row(schema, row, 0))
                    .collect::<Result<Vec<_>>>()?
            };
            // A read-only transaction: ending it cannot lose anything.
            tx.commit().await.map_err(|e| pg_error(&context, &e))?;
            Ok(Page {
                rows,
                total: Some(total),
            })
        })
        .await
    }

    fn count_sql(&self, query: &Query) -> Result<(String, Params)> {
        let schema = &self.inner.schema;
        let mut params = Params::default();
        // The whole query is validated (the sort too), though a count
        // ignores the order.
        let plan = plan(schema, query, &mut params)?;
        let sql = format!(
            "SELECT count(*) FROM {} AS t{}",
            schema.qualified, plan.filter
        );
        Ok((sql, params))
    }
}

/// A window bound as `bigint` (larger is "all").
fn bound(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

//! Writes: each is one statement in a transaction of its own.
//!
//! A Dio's write comes with a stable idempotency key
//! ([`TableShell::apply_write`](diorama_core::vista::TableShell::apply_write)):
//! [`PgVista::apply`], the one place every write passes, looks the key up
//! in the applied-keys table `_diorama_applied (key text primary key, id
//! text)` of the table's schema and, when it is new, records it in the same
//! transaction as the write, so a write replayed after a crash is applied
//! once and answered with the id it wrote the first time. Each key is
//! stamped `applied_at` (Unix seconds); keys older than the retention
//! ([`PgVistaBuilder::applied_key_retention`](super::PgVistaBuilder::applied_key_retention),
//! seven days by default) are removed every [`PRUNE_EVERY`] keyed writes
//! and by [`PgVista::prune_applied_keys`]. A table made before the column
//! existed gets it on the first keyed write, its keys stamped then.

use std::sync::atomic::Ordering;
use std::time::Duration;

use diorama_core::vista::Id;
use diorama_core::{Error, Record, Result};

use super::convert::{Params, id_condition, id_value, read_id, write_value};
use super::error::{is_unique_violation_of, pg_error};
use super::schema::read_expr;
use super::vista::PgVista;

/// How long applied keys are kept unless the builder says otherwise.
pub(crate) const DEFAULT_APPLIED_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Keyed writes between two automatic prunes of the applied keys.
pub(crate) const PRUNE_EVERY: u32 = 1024;

/// One write statement and what its outcome must be.
#[derive(Debug)]
pub(super) struct Write {
    /// For messages: `"inserting into \"t\""`.
    context: String,
    /// The row written, when one is named (to name an id clash).
    id: Option<Id>,
    /// The idempotency key of a Dio's write: applied once.
    key: Option<String>,
    sql: String,
    params: Params,
    expect: Expect,
}

#[derive(Debug)]
enum Expect {
    /// Any number of rows.
    Any,
    /// At least one row, else `NotFound` with this message.
    Row(String),
    /// The statement returns the id of the row written.
    Id,
}

impl PgVista {
    /// Insert `record`, under `id` or the id the table assigns.
    pub(super) async fn insert_row(
        &self,
        id: Option<Id>,
        record: &Record,
        key: Option<String>,
    ) -> Result<Id> {
        let schema = &self.inner.schema;
        let context = format!("inserting into \"{}\"", schema.table);
        let mut params = Params::default();
        let mut columns: Vec<&str> = Vec::with_capacity(record.len() + 1);
        let mut values: Vec<String> = Vec::with_capacity(record.len() + 1);
        if let Some(id) = &id {
            columns.push(&schema.id.quoted);
            values.push(id_value(schema, id, &mut params)?);
        } else if !schema.assigns_ids {
            return Err(Error::invalid_input(format!(
                "{context}: the id column \"{}\" has no default and is no identity, so \
                 PostgreSQL assigns no ids; insert with an id",
                schema.id.name
            )));
        }
        for (field, value) in record.iter() {
            let column = schema.writable_field(field)?;
            columns.push(&column.quoted);
            values.push(write_value(column, value, &mut params)?);
        }
        let returning = read_expr(&format!("t.{}", schema.id.quoted), schema.id.kind);
        let sql = if columns.is_empty() {
            format!(
                "INSERT INTO {} AS t DEFAULT VALUES RETURNING {returning}",
                schema.qualified
            )
        } else {
            format!(
                "INSERT INTO {} AS t ({}) VALUES ({}) RETURNING {returning}",
                schema.qualified,
                columns.join(", "),
                values.join(", ")
            )
        };
        let written = self
            .apply(Write {
                context,
                id,
                key,
                sql,
                params,
                expect: Expect::Id,
            })
            .await?;
        written.ok_or_else(|| Error::failed("the inserted row's id was not returned"))
    }

    /// Set every writable field of row `id`: the record's values, NULL for
    /// the fields it lacks.
    pub(super) async fn replace_row(
        &self,
        id: &str,
        record: &Record,
        key: Option<String>,
    ) -> Result<()> {
        let schema = &self.inner.schema;
        for (field, _) in record.iter() {
            schema.writable_field(field)?;
        }
        let mut params = Params::default();
        let mut sets = Vec::with_capacity(schema.fields.len());
        for column in schema.fields.iter().filter(|c| c.writable) {
            let value = match record.get(&column.name) {
                Some(value) => write_value(column, value, &mut params)?,
                None => String::from("NULL"),
            };
            sets.push(format!("{} = {value}", column.quoted));
        }
        self.update(id, "replace", sets, params, key).await
    }

    /// Set the given fields of row `id`.
    pub(super) async fn patch_row(
        &self,
        id: &str,
        fields: &Record,
        key: Option<String>,
    ) -> Result<()> {
        let schema = &self.inner.schema;
        let mut params = Params::default();
        let mut sets = Vec::with_capacity(fields.len());
        for (field, value) in fields.iter() {
            let column = schema.writable_field(field)?;
            sets.push(format!(
                "{} = {}",
                column.quoted,
                write_value(column, value, &mut params)?
            ));
        }
        self.update(id, "patch", sets, params, key).await
    }

    /// Delete row `id`; absent is not an error.
    pub(super) async fn delete_row(&self, id: &str, key: Option<String>) -> Result<()> {
        let schema = &self.inner.schema;
        let mut params = Params::default();
        let condition = id_condition(schema, id, &mut params)?;
        self.apply(Write {
            context: format!("deleting \"{id}\" of \"{}\"", schema.table),
            id: Some(id.to_owned()),
            key,
            sql: format!("DELETE FROM {} AS t WHERE {condition}", schema.qualified),
            params,
            expect: Expect::Any,
        })
        .await
        .map(drop)
    }

    /// Delete every row (row by row, so the change feed sees each).
    pub(super) async fn delete_all_rows(&self, key: Option<String>) -> Result<()> {
        let schema = &self.inner.schema;
        self.apply(Write {
            context: format!("emptying \"{}\"", schema.table),
            id: None,
            key,
            sql: format!("DELETE FROM {}", schema.qualified),
            params: Params::default(),
            expect: Expect::Any,
        })
        .await
        .map(drop)
    }

    /// `UPDATE` row `id` with `sets`; `NotFound` when no row has that id.
    async fn update(
        &self,
        id: &str,
        op: &str,
        sets: Vec<String>,
        mut params: Params,
        key: Option<String>,
    ) -> Result<()> {
        let schema = &self.inner.schema;
        let condition = id_condition(schema, id, &mut params)?;
        let sql = if sets.is_empty() {
            // Nothing to set; the row must still exist.
            format!("SELECT 1 FROM {} AS t WHERE {condition}", schema.qualified)
        } else {
            format!(
                "UPDATE {} AS t SET {} WHERE {condition}",
                schema.qualified,
                sets.join(", ")
            )
        };
        self.apply(Write {
            context: format!("{op} of \"{id}\" in \"{}\"", schema.table),
            id: Some(id.to_owned()),
            key,
            sql,
            params,
            expect: Expect::Row(format!(
                "{op}: no row with id \"{id}\" in \"{}\"",
                schema.table
            )),
        })
        .await
        .map(drop)
    }

    /// Run `write` in a transaction of its own; the id it returned, when
    /// it returns one.
    async fn apply(&self, write: Write) -> Result<Option<Id>> {
        let Write {
            context,
            id,
            key,
            sql,
            params,
            expect,
        } = write;
        let schema = &self.inner.schema;
        let applied = self.applied_table();
        let clash = |e: &tokio_postgres::Error| -> Error {
            match (&id, &schema.id_constraint) {
                (Some(id), Some(constraint)) if is_unique_violation_of(e, constraint) => {
                    Error::failed(format!("{context}: a row with id \"{id}\" already exists"))
                }
                _ => pg_error(&context, e),
            }
        };
        self.answer(&context, true, async {
            let mut client = self.client(&context).await?;
            if key.is_some() && !self.inner.applied_ready.load(Ordering::Acquire) {
                // Another session creating it at the same moment may make
                // this one fail; the table is there either way.
                if client
                    .batch_execute(&prepare_applied(&applied))
                    .await
                    .is_ok()
                {
                    self.inner.applied_ready.store(true, Ordering::Release);
                }
            }
            let tx = client
                .transaction()
                .await
                .map_err(|e| pg_error(&context, &e))?;
            if let Some(key) = &key {
                let first = tx
                    .query_opt(&format!("SELECT id FROM {applied} WHERE key = $1"), &[key])
                    .await
                    .map_err(|e| pg_error(&context, &e))?;
                if let Some(row) = first {
                    // Applied before: its first answer, nothing changed.
                    let id: Option<String> = row.try_get(0).map_err(|e| pg_error(&context, &e))?;
                    tx.commit().await.map_err(|e| pg_error(&context, &e))?;
                    return Ok(id);
                }
            }
            let statement = tx
                .prepare_cached(&sql)
                .await
                .map_err(|e| pg_error(&context, &e))?;
            let written = match expect {
                Expect::Id => {
                    let row = tx
                        .query_one(&statement, &params.refs())
                        .await
                        .map_err(|e| clash(&e))?;
                    Some(read_id(schema, &row, 0)?)
                }
                Expect::Any => {
                    tx.execute(&statement, &params.refs())
                        .await
                        .map_err(|e| clash(&e))?;
                    None
                }
                Expect::Row(missing) => {
                    let n = tx
                        .execute(&statement, &params.refs())
                        .await
                        .map_err(|e| clash(&e))?;
                    if n == 0 {
                        // Dropping the transaction rolls it back.
                        return Err(Error::not_found(missing));
                    }
                    None
                }
            };
            if let Some(key) = &key {
                let recorded = written.clone().or_else(|| id.clone());
                let row: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [key, &recorded];
                tx.execute(
                    &format!(
                        "INSERT INTO {applied} (key, id, applied_at) \
                         VALUES ($1, $2, extract(epoch from now())::bigint)"
                    ),
                    &row,
                )
                .await
                .map_err(|e| pg_error(&format!("recording write {key}"), &e))?;
            }
            tx.commit().await.map_err(|e| {
                let error = pg_error(&context, &e);
                if error.kind() == diorama_core::ErrorKind::Unavailable {
                    Error::unavailable(format!(
                        "{}; the connection broke while committing, so the outcome is unknown",
                        error.message()
                    ))
                } else {
                    error
                }
            })?;
            if key.is_some()
                && let Some(retention) = self.inner.settings.applied_key_retention
                && self.inner.since_prune.fetch_add(1, Ordering::AcqRel) + 1 >= PRUNE_EVERY
            {
                self.inner.since_prune.store(0, Ordering::Release);
                // A failed prune only keeps some keys longer.
                let _ = client
                    .execute(&prune_sql(&applied), &[&age_secs(retention)])
                    .await;
            }
            Ok(written)
        })
        .await
    }

    fn applied_table(&self) -> String {
        format!(
            "{}.\"_diorama_applied\"",
            super::schema::quote(&self.inner.schema.namespace)
        )
    }

    /// Remove from the applied-keys table the keys of Dio writes applied
    /// more than `older_than` ago; returns how many. Keyed writes do this
    /// by themselves every 1,024 writes with the builder's
    /// [retention](super::PgVistaBuilder::applied_key_retention); call it
    /// to prune on a schedule of your own.
    ///
    /// Errors: `Unavailable` when the database cannot be reached; the
    /// database's error otherwise.
    pub async fn prune_applied_keys(&self, older_than: Duration) -> Result<u64> {
        let context = format!(
            "pruning the applied keys of \"{}\"",
            self.inner.schema.table
        );
        let applied = self.applied_table();
        self.answer(&context, true, async {
            let client = self.client(&context).await?;
            client
                .batch_execute(&prepare_applied(&applied))
                .await
                .map_err(|e| pg_error(&context, &e))?;
            self.inner.applied_ready.store(true, Ordering::Release);
            client
                .execute(&prune_sql(&applied), &[&age_secs(older_than)])
                .await
                .map_err(|e| pg_error(&context, &e))
        })
        .await
    }
}

/// Make the applied-keys table, or give an older one its `applied_at`.
fn prepare_applied(applied: &str) -> String {
    let index = applied.trim_end_matches('"').to_string() + "_at\"";
    let index_name = index.rsplit('.').next().unwrap_or(&index).to_string();
    format!(
        "CREATE TABLE IF NOT EXISTS {applied} (key text PRIMARY KEY, id text, applied_at bigint); \
         ALTER TABLE {applied} ADD COLUMN IF NOT EXISTS applied_at bigint; \
         UPDATE {applied} SET applied_at = extract(epoch from now())::bigint \
             WHERE applied_at IS NULL; \
         CREATE INDEX IF NOT EXISTS {index_name} ON {applied} (applied_at)"
    )
}

fn prune_sql(applied: &str) -> String {
    format!("DELETE FROM {applied} WHERE applied_at < extract(epoch from now())::bigint - $1")
}

fn age_secs(age: Duration) -> i64 {
    i64::try_from(age.as_secs()).unwrap_or(i64::MAX)
}

//! Keyed writes: a Dio's write applied once per idempotency key.
//!
//! The keys applied are kept in a table of their own in the same database,
//! `_diorama_applied (key TEXT PRIMARY KEY, id TEXT, applied_at INTEGER)`,
//! written in the same transaction as the write: a write and the record
//! that it happened commit together or not at all. A key found there
//! answers with the row id it first wrote and changes nothing, so a write
//! a Dio replays after a crash (it could not know the first attempt
//! committed) is applied once.
//!
//! A key is needed only while a Dio may still replay its write (its cache
//! holds the write's intent until the master's answer is recorded: after
//! a crash, until the next open), so keys older than the retention
//! ([`SqliteOptions::applied_key_retention`](super::SqliteOptions::applied_key_retention),
//! seven days by default; `applied_at` in Unix seconds) are removed every
//! [`PRUNE_EVERY`] keyed writes and by [`SqliteVista::prune_applied_keys`](super::SqliteVista::prune_applied_keys).
//! A table made before `applied_at` existed gets the column on the first
//! keyed write, its keys stamped with that moment.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diorama_core::Result;
use diorama_core::dio::WriteOp;
use diorama_core::vista::Id;
use rusqlite::{Connection, OptionalExtension};

use super::error::sql_error;
use super::state::State;
use super::write::insert_row;

/// The table of applied keys.
pub(crate) const APPLIED_TABLE: &str = "_diorama_applied";

/// How long applied keys are kept unless the options say otherwise.
pub(crate) const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Keyed writes between two automatic prunes.
pub(crate) const PRUNE_EVERY: u32 = 1024;

/// The writer's bookkeeping of the applied-keys table.
#[derive(Debug, Default)]
pub(crate) struct AppliedKeys {
    /// The table exists with its `applied_at` column and index.
    ready: bool,
    /// Keyed writes since the last prune.
    since_prune: u32,
    /// Keys older than this are removed (`None`: kept).
    pub(crate) retention: Option<Duration>,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Make the table, or give an older one its `applied_at` column.
fn prepare_table(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {APPLIED_TABLE} \
         (key TEXT PRIMARY KEY, id TEXT, applied_at INTEGER)"
    ))?;
    let has_column = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{APPLIED_TABLE}') WHERE name = 'applied_at'"
        ))?
        .exists([])?;
    if !has_column {
        conn.execute_batch(&format!(
            "ALTER TABLE {APPLIED_TABLE} ADD COLUMN applied_at INTEGER"
        ))?;
        conn.execute(
            &format!("UPDATE {APPLIED_TABLE} SET applied_at = ? WHERE applied_at IS NULL"),
            [now_secs()],
        )?;
    }
    conn.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS {APPLIED_TABLE}_at ON {APPLIED_TABLE} (applied_at)"
    ))
}

impl State {
    /// Apply `op` unless `key` was applied before; the row written either
    /// way (`None` for `DeleteAll`).
    pub(crate) fn apply_keyed(&mut self, key: &str, op: WriteOp) -> Result<Option<Id>> {
        let context = format!("applying write {key} to \"{}\"", self.schema.table);
        let fail = |e| sql_error(&context, e);
        if !self.applied.ready {
            prepare_table(&self.conn).map_err(fail)?;
            self.applied.ready = true;
        }
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(fail)?;
        let outcome = self.apply_in_transaction(key, op);
        let end = match outcome {
            Ok(_) => "COMMIT",
            Err(_) => "ROLLBACK",
        };
        if let Err(e) = self.conn.execute_batch(end) {
            // A failed COMMIT leaves the transaction open: end it, so the
            // next statement does not run inside it.
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(fail(e));
        }
        self.applied.since_prune += 1;
        if self.applied.since_prune >= PRUNE_EVERY
            && let Some(retention) = self.applied.retention
        {
            self.applied.since_prune = 0;
            // A failed prune only keeps some keys longer.
            let _ = self.prune_applied(retention);
        }
        outcome
    }

    /// Remove the keys applied more than `older_than` ago; how many.
    pub(crate) fn prune_applied(&mut self, older_than: Duration) -> Result<u64> {
        let context = format!("pruning the applied keys of \"{}\"", self.schema.table);
        let fail = |e| sql_error(&context, e);
        if !self.applied.ready {
            prepare_table(&self.conn).map_err(fail)?;
            self.applied.ready = true;
        }
        let age = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        let cutoff = now_secs().saturating_sub(age);
        let removed = self
            .conn
            .execute(
                &format!("DELETE FROM {APPLIED_TABLE} WHERE applied_at < ?"),
                [cutoff],
            )
            .map_err(fail)?;
        Ok(removed as u64)
    }

    /// Inside the transaction: the first answer for `key`, or the write's.
    fn apply_in_transaction(&mut self, key: &str, op: WriteOp) -> Result<Option<Id>> {
        if let Some(first) = first_answer(&self.conn, key)? {
            return Ok(first);
        }
        let written = match op {
            WriteOp::Insert { id, record } => {
                self.counts.clear();
                Some(insert_row(&self.conn, &self.schema, id, &record)?)
            }
            WriteOp::Replace { id, record } => {
                self.replace(&id, &record)?;
                Some(id)
            }
            WriteOp::Patch { id, fields } => {
                self.patch(&id, &fields)?;
                Some(id)
            }
            WriteOp::Delete { id } => {
                self.delete(&id)?;
                Some(id)
            }
            WriteOp::DeleteAll => {
                self.delete_all()?;
                None
            }
        };
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO {APPLIED_TABLE} (key, id, applied_at) VALUES (?, ?, ?)"
            ))
            .and_then(|mut stmt| stmt.execute((key, written.as_deref(), now_secs())))
            .map_err(|e| sql_error(&format!("recording write {key}"), e))?;
        Ok(written)
    }
}

/// `Some(id written)` when `key` was applied before.
fn first_answer(conn: &Connection, key: &str) -> Result<Option<Option<Id>>> {
    conn.prepare_cached(&format!("SELECT id FROM {APPLIED_TABLE} WHERE key = ?"))
        .and_then(|mut stmt| {
            stmt.query_row([key], |row| row.get::<_, Option<String>>(0))
                .optional()
        })
        .map_err(|e| sql_error(&format!("reading write {key}"), e))
}

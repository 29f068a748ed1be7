//! Keyed writes: a Dio's write applied once per idempotency key.
//!
//! The keys applied are kept in a table of their own in the same database,
//! `_diorama_applied (key TEXT PRIMARY KEY, id TEXT)`, written in the same
//! transaction as the write: a write and the record that it happened commit
//! together or not at all. A key found there answers with the row id it
//! first wrote and changes nothing, so a write a Dio replays after a crash
//! (it could not know the first attempt committed) is applied once.
//!
//! Keys are never pruned: one short row per write applied through a Dio.

use diorama_core::Result;
use diorama_core::dio::WriteOp;
use diorama_core::vista::Id;
use rusqlite::{Connection, OptionalExtension};

use super::error::sql_error;
use super::state::State;
use super::write::insert_row;

/// The table of applied keys.
pub(crate) const APPLIED_TABLE: &str = "_diorama_applied";

impl State {
    /// Apply `op` unless `key` was applied before; the row written either
    /// way (`None` for `DeleteAll`).
    pub(crate) fn apply_keyed(&mut self, key: &str, op: WriteOp) -> Result<Option<Id>> {
        let context = format!("applying write {key} to \"{}\"", self.schema.table);
        let fail = |e| sql_error(&context, e);
        self.conn
            .execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {APPLIED_TABLE} (key TEXT PRIMARY KEY, id TEXT); \
                 BEGIN IMMEDIATE"
            ))
            .map_err(fail)?;
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
        outcome
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
                "INSERT INTO {APPLIED_TABLE} (key, id) VALUES (?, ?)"
            ))
            .and_then(|mut stmt| stmt.execute((key, written.as_deref())))
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

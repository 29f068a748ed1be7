//! Installing the change feed: the log table, the trigger functions and
//! the triggers, idempotently, in one transaction.
//!
//! What is created, in the table's schema:
//!
//! - the log `diorama_log_<table>` (`seq bigserial PRIMARY KEY`, `op text`:
//!   `I`, `U`, `D`, `T` for a truncate, `X` for the trim marker, `row_id`
//!   of the id's type, `at timestamptz` when it was written) and an index
//!   on `at`;
//! - `<log>_lock()`, run by a `BEFORE … FOR EACH STATEMENT` trigger of every
//!   kind: a transaction-scoped advisory lock, so writes to the table
//!   commit one at a time from their first change and sequence order is
//!   commit order (taken before the statement touches a row, so it never
//!   waits while holding a row lock the holder needs);
//! - `<log>_record()`, run by `AFTER … FOR EACH STATEMENT` triggers over
//!   the statement's transition tables: one log entry per row inserted,
//!   updated or deleted (an update that changes a row's id logs the old id
//!   deleted), one per truncate, then one `NOTIFY` carrying the last
//!   sequence, delivered at commit.
//!
//! Both functions are `SECURITY DEFINER` with a fixed `search_path`: roles
//! that write the table need no rights on the log.

use diorama_core::{Error, Result};
use tokio_postgres::Client;

use super::super::error::pg_error;
use super::super::schema::{Schema, literal, quote};
use super::names::{
    BODY_QUOTE, FeedNames, LOCK_CLASS, TRIGGER_DELETE, TRIGGER_INSERT, TRIGGER_LOCK,
    TRIGGER_TRUNCATE, TRIGGER_UPDATE, TRIGGERS,
};

/// Install (or reinstall) the feed of `schema`'s table.
pub(crate) async fn install(client: &mut Client, schema: &Schema, names: &FeedNames) -> Result<()> {
    let context = format!("installing the change feed of \"{}\"", schema.table);
    if !schema.is_table {
        return Err(Error::invalid_input(format!(
            "{context}: only a table has a change feed; \"{}\" is a view",
            schema.table
        )));
    }
    let table_key = schema.oid as i32;
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg_error(&context, &e))?;
    // Two installs at once would race on CREATE … IF NOT EXISTS.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
        &[&LOCK_CLASS, &table_key],
    )
    .await
    .map_err(|e| pg_error(&context, &e))?;
    let log = &names.log_qualified;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {log} (\
             seq bigserial PRIMARY KEY, \
             op text NOT NULL, \
             row_id {id_type}, \
             at timestamptz NOT NULL DEFAULT clock_timestamp()); \
         CREATE INDEX IF NOT EXISTS {at_index} ON {log} (at); \
         COMMENT ON TABLE {log} IS {comment};",
        id_type = schema.id.declared,
        at_index = names.at_index,
        comment = literal(&format!(
            "Diorama change log of {}: one entry per changed row, read by change feeds",
            schema.qualified
        )),
    ))
    .await
    .map_err(|e| pg_error(&context, &e))?;
    let log_oid: i64 = tx
        .query_one(
            "SELECT $1::text::regclass::oid::int8",
            &[&names.log_regclass],
        )
        .await
        .map_err(|e| pg_error(&context, &e))?
        .get(0);
    let channel = FeedNames::channel(log_oid as u32);
    tx.batch_execute(&functions(schema, names, table_key, &channel))
        .await
        .map_err(|e| pg_error(&context, &e))?;
    tx.batch_execute(&triggers(schema, names))
        .await
        .map_err(|e| pg_error(&context, &e))?;
    tx.commit().await.map_err(|e| pg_error(&context, &e))
}

/// Remove the triggers, functions and log (absent parts are fine).
pub(crate) async fn uninstall(
    client: &mut Client,
    schema: &Schema,
    names: &FeedNames,
) -> Result<()> {
    let context = format!("removing the change feed of \"{}\"", schema.table);
    let mut script = String::new();
    if schema.is_table {
        for trigger in TRIGGERS {
            script.push_str(&format!(
                "DROP TRIGGER IF EXISTS {} ON {}; ",
                quote(trigger),
                schema.qualified
            ));
        }
    }
    script.push_str(&format!(
        "DROP FUNCTION IF EXISTS {}(); DROP FUNCTION IF EXISTS {}(); DROP TABLE IF EXISTS {};",
        names.lock_function, names.record_function, names.log_qualified
    ));
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg_error(&context, &e))?;
    tx.batch_execute(&script)
        .await
        .map_err(|e| pg_error(&context, &e))?;
    tx.commit().await.map_err(|e| pg_error(&context, &e))
}

/// True when the log exists and the table has the recording trigger.
pub(crate) async fn installed(client: &Client, schema: &Schema, names: &FeedNames) -> Result<bool> {
    let context = format!("looking for the change feed of \"{}\"", schema.table);
    let row = client
        .query_one(
            "SELECT to_regclass($1::text) IS NOT NULL AND EXISTS \
             (SELECT 1 FROM pg_trigger WHERE tgrelid = $2::int8::oid AND tgname = $3::text)",
            &[&names.log_regclass, &i64::from(schema.oid), &TRIGGER_INSERT],
        )
        .await
        .map_err(|e| pg_error(&context, &e))?;
    Ok(row.get(0))
}

fn functions(schema: &Schema, names: &FeedNames, table_key: i32, channel: &str) -> String {
    let log = &names.log_qualified;
    let id = &schema.id.quoted;
    let q = BODY_QUOTE;
    let header = "RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER \
                  SET search_path = pg_catalog, pg_temp AS";
    format!(
        "CREATE OR REPLACE FUNCTION {lock}() {header} {q}
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_CLASS}, {table_key});
  RETURN NULL;
END
{q};
CREATE OR REPLACE FUNCTION {record}() {header} {q}
DECLARE
  last bigint;
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH logged AS (
      INSERT INTO {log} (op, row_id) SELECT 'I', n.{id} FROM new_rows AS n RETURNING seq)
    SELECT max(seq) INTO last FROM logged;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH logged AS (
      INSERT INTO {log} (op, row_id)
        SELECT 'U', n.{id} FROM new_rows AS n
        UNION ALL
        SELECT 'D', o.{id} FROM old_rows AS o
          WHERE NOT EXISTS (SELECT 1 FROM new_rows AS n WHERE n.{id} = o.{id})
      RETURNING seq)
    SELECT max(seq) INTO last FROM logged;
  ELSIF TG_OP = 'DELETE' THEN
    WITH logged AS (
      INSERT INTO {log} (op, row_id) SELECT 'D', o.{id} FROM old_rows AS o RETURNING seq)
    SELECT max(seq) INTO last FROM logged;
  ELSE
    INSERT INTO {log} (op) VALUES ('T') RETURNING seq INTO last;
  END IF;
  IF last IS NOT NULL THEN
    PERFORM pg_notify({channel}, last::text);
  END IF;
  RETURN NULL;
END
{q};",
        lock = names.lock_function,
        record = names.record_function,
        channel = literal(channel),
    )
}

fn triggers(schema: &Schema, names: &FeedNames) -> String {
    let table = &schema.qualified;
    let drop: String = TRIGGERS
        .iter()
        .map(|trigger| format!("DROP TRIGGER IF EXISTS {} ON {table};\n", quote(trigger)))
        .collect();
    let record = &names.record_function;
    format!(
        "{drop}\
CREATE TRIGGER {lock_trigger} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION {lock}();
CREATE TRIGGER {insert} AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {record}();
CREATE TRIGGER {update} AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {record}();
CREATE TRIGGER {delete} AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {record}();
CREATE TRIGGER {truncate} AFTER TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION {record}();",
        lock_trigger = quote(TRIGGER_LOCK),
        lock = names.lock_function,
        insert = quote(TRIGGER_INSERT),
        update = quote(TRIGGER_UPDATE),
        delete = quote(TRIGGER_DELETE),
        truncate = quote(TRIGGER_TRUNCATE),
    )
}

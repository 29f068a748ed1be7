//! Writes, run on the connection's thread. Each clears the count cache.

use diorama_core::vista::Id;
use diorama_core::{Error, Record, Result};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, params_from_iter};

use super::convert::{bind_id, read_id, to_sql};
use super::error::{is_unique_violation, sql_error};
use super::schema::Schema;
use super::state::State;

impl State {
    /// Insert `record` under `id`, or under the id SQLite assigns.
    pub(crate) fn insert(&mut self, id: Option<Id>, record: &Record) -> Result<Id> {
        self.counts.clear();
        if id.is_some() {
            return insert_row(&self.conn, &self.schema, id, record);
        }
        // The assigned id is read back in the same transaction, which is
        // rolled back if the table gave the row none.
        let context = format!("inserting into \"{}\"", self.schema.table);
        let tx = self
            .conn
            .transaction()
            .map_err(|e| sql_error(&context, e))?;
        let id = insert_row(&tx, &self.schema, None, record)?;
        tx.commit().map_err(|e| sql_error(&context, e))?;
        Ok(id)
    }

    /// Insert every row in one transaction: all or none.
    pub(crate) fn insert_many(&mut self, rows: Vec<(Option<Id>, Record)>) -> Result<usize> {
        self.counts.clear();
        let context = format!("inserting into \"{}\"", self.schema.table);
        let tx = self
            .conn
            .transaction()
            .map_err(|e| sql_error(&context, e))?;
        let n = rows.len();
        for (id, record) in rows {
            insert_row(&tx, &self.schema, id, &record)?;
        }
        tx.commit().map_err(|e| sql_error(&context, e))?;
        Ok(n)
    }

    /// Set every field of row `id`: the record's values, NULL for the
    /// fields it lacks.
    pub(crate) fn replace(&mut self, id: &str, record: &Record) -> Result<()> {
        self.counts.clear();
        let mut values = Vec::with_capacity(self.schema.fields.len());
        for (field, _) in record.iter() {
            self.schema.field(field)?;
        }
        for column in &self.schema.fields {
            let value = match record.get(&column.name) {
                Some(value) => to_sql(&column.name, value)?,
                None => SqlValue::Null,
            };
            values.push((column.quoted.as_str(), value));
        }
        update(&self.conn, &self.schema, "replace", id, values)
    }

    /// Set the given fields of row `id`.
    pub(crate) fn patch(&mut self, id: &str, fields: &Record) -> Result<()> {
        self.counts.clear();
        let values = assignments(&self.schema, fields)?;
        update(&self.conn, &self.schema, "patch", id, values)
    }

    /// Delete row `id`; absent is not an error.
    pub(crate) fn delete(&mut self, id: &str) -> Result<()> {
        self.counts.clear();
        let schema = &self.schema;
        let key = bind_id(schema, id)?;
        let sql = format!(
            "DELETE FROM {} WHERE {} = ?",
            schema.quoted_table, schema.id.quoted
        );
        execute(
            &self.conn,
            &sql,
            vec![key],
            &format!("deleting \"{id}\" of \"{}\"", schema.table),
        )?;
        Ok(())
    }

    /// Delete every row.
    pub(crate) fn delete_all(&mut self) -> Result<()> {
        self.counts.clear();
        let sql = format!("DELETE FROM {}", self.schema.quoted_table);
        execute(
            &self.conn,
            &sql,
            Vec::new(),
            &format!("emptying \"{}\"", self.schema.table),
        )?;
        Ok(())
    }
}

/// The fields of `record` as `(quoted column, value)`, each checked against
/// the schema and converted.
fn assignments<'s>(schema: &'s Schema, record: &Record) -> Result<Vec<(&'s str, SqlValue)>> {
    record
        .iter()
        .map(|(field, value)| Ok((schema.field(field)?.quoted.as_str(), to_sql(field, value)?)))
        .collect()
}

pub(super) fn insert_row(
    conn: &Connection,
    schema: &Schema,
    id: Option<Id>,
    record: &Record,
) -> Result<Id> {
    let context = format!("inserting into \"{}\"", schema.table);
    let mut columns: Vec<&str> = Vec::with_capacity(record.len() + 1);
    let mut values: Vec<SqlValue> = Vec::with_capacity(record.len() + 1);
    if let Some(id) = &id {
        columns.push(&schema.id.quoted);
        values.push(bind_id(schema, id)?);
    } else if !schema.assigns_ids {
        return Err(Error::invalid_input(format!(
            "{context}: SQLite assigns no ids in \"{}\" (not an INTEGER PRIMARY KEY, \
             no default); insert with an id",
            schema.id.name
        )));
    }
    for (column, value) in assignments(schema, record)? {
        columns.push(column);
        values.push(value);
    }
    let sql = if columns.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES", schema.quoted_table)
    } else {
        let mut marks = "?, ".repeat(columns.len());
        marks.truncate(marks.len() - 2);
        format!(
            "INSERT INTO {} ({}) VALUES ({marks})",
            schema.quoted_table,
            columns.join(", ")
        )
    };
    let inserted = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.execute(params_from_iter(values)));
    match (inserted, id) {
        (Ok(_), Some(id)) => Ok(id),
        (Ok(_), None) => assigned_id(conn, schema, &context),
        (Err(e), Some(id)) if is_unique_violation(&e) => Err(Error::failed(format!(
            "{context}: a row with id \"{id}\" already exists"
        ))),
        (Err(e), _) => Err(sql_error(&context, e)),
    }
}

/// The id of the row just inserted, found by its rowid.
fn assigned_id(conn: &Connection, schema: &Schema, context: &str) -> Result<Id> {
    let rowid = schema.rowid.unwrap_or("rowid");
    let sql = format!(
        "SELECT {} FROM {} WHERE {rowid} = ?",
        schema.id.quoted, schema.quoted_table
    );
    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(|e| sql_error(context, e))?;
    let mut rows = stmt
        .query([conn.last_insert_rowid()])
        .map_err(|e| sql_error(context, e))?;
    let row = rows
        .next()
        .map_err(|e| sql_error(context, e))?
        .ok_or_else(|| Error::failed(format!("{context}: the new row cannot be read back")))?;
    match row.get_ref(0).map_err(|e| sql_error(context, e))? {
        ValueRef::Null => Err(Error::invalid_input(format!(
            "{context}: the id column \"{}\" got no value; declare it INTEGER PRIMARY KEY \
             so SQLite assigns ids, or insert with an id",
            schema.id.name
        ))),
        value => read_id(schema, value),
    }
}

/// `UPDATE` row `id` with `values`; `NotFound` when no row has that id.
fn update(
    conn: &Connection,
    schema: &Schema,
    op: &str,
    id: &str,
    values: Vec<(&str, SqlValue)>,
) -> Result<()> {
    let context = format!("{op} of \"{id}\" in \"{}\"", schema.table);
    let key = bind_id(schema, id)?;
    let changed = if values.is_empty() {
        // Nothing to set; the row must still exist.
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {} = ?",
            schema.quoted_table, schema.id.quoted
        );
        conn.prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row([key], |row| row.get::<_, i64>(0)))
            .map_err(|e| sql_error(&context, e))? as usize
    } else {
        let sets: Vec<String> = values
            .iter()
            .map(|(column, _)| format!("{column} = ?"))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE {} = ?",
            schema.quoted_table,
            sets.join(", "),
            schema.id.quoted
        );
        let mut params: Vec<SqlValue> = values.into_iter().map(|(_, value)| value).collect();
        params.push(key);
        execute(conn, &sql, params, &context)?
    };
    if changed == 0 {
        return Err(Error::not_found(format!(
            "{op}: no row with id \"{id}\" in \"{}\"",
            schema.table
        )));
    }
    Ok(())
}

fn execute(conn: &Connection, sql: &str, params: Vec<SqlValue>, context: &str) -> Result<usize> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params_from_iter(params)))
        .map_err(|e| sql_error(context, e))
}

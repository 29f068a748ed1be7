//! The table's shape, read once from the catalog at open: its columns and
//! how each maps to values, the id column, and what the role may write.
//!
//! Every column name that reaches SQL text comes from here, so a name a
//! caller supplies is only ever used after it matched a real column, and
//! always quoted.

use diorama_core::{Error, Result};

use super::error::pg_error;

/// How a column's values map to Diorama values (by its type, a domain by
/// its base type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `boolean` ↔ `Bool`.
    Bool,
    /// `smallint`, `integer`, `bigint` ↔ `Integer`.
    Int,
    /// `real`, `double precision` ↔ `Float`.
    Float,
    /// `text`, `varchar`, `char`, `name` ↔ `Text`.
    Text,
    /// `bytea` ↔ `Bytes`.
    Bytes,
    /// Any other type (numeric, dates and times, uuid, json, arrays, enums):
    /// its text form ↔ `Text`.
    Other,
}

impl Kind {
    fn of(base_type: &str) -> Kind {
        match base_type {
            "bool" => Kind::Bool,
            "int2" | "int4" | "int8" => Kind::Int,
            "float4" | "float8" => Kind::Float,
            "text" | "varchar" | "bpchar" | "name" => Kind::Text,
            "bytea" => Kind::Bytes,
            _ => Kind::Other,
        }
    }
}

/// How ids are stored in the id column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdKind {
    /// An integer column: ids are canonical decimal `i64` texts (`"42"`,
    /// not `"042"`).
    Integer,
    /// A text column.
    Text,
    /// Any other type (uuid, …): ids are its text form.
    Other,
}

/// One column.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    /// The name as the table declares it.
    pub(crate) name: String,
    /// The name quoted as an SQL identifier.
    pub(crate) quoted: String,
    /// The declared type (`format_type`), for casts on write.
    pub(crate) declared: String,
    pub(crate) kind: Kind,
    /// False for generated columns and `GENERATED ALWAYS` identities.
    pub(crate) writable: bool,
}

/// The shape of the table behind a `PgVista`.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    /// The schema (namespace) the table is in.
    pub(crate) namespace: String,
    /// The table's name as given.
    pub(crate) table: String,
    /// `"schema"."table"`.
    pub(crate) qualified: String,
    pub(crate) oid: u32,
    /// An ordinary or partitioned table (not a view): triggers can be
    /// installed on it.
    pub(crate) is_table: bool,
    pub(crate) id: Column,
    pub(crate) id_kind: IdKind,
    /// The unique constraint or index on the id (to name a clash).
    pub(crate) id_constraint: Option<String>,
    /// Every other column, in table order: the fields of a record.
    pub(crate) fields: Vec<Column>,
    pub(crate) can_insert: bool,
    pub(crate) can_update: bool,
    pub(crate) can_delete: bool,
    /// The id column has a default or is an identity: inserts may omit it.
    pub(crate) assigns_ids: bool,
    /// The select list of a row of `AS t`: the id, then every field.
    pub(crate) select_list: String,
}

/// `ident` as an SQL identifier: double-quoted, inner quotes doubled.
pub(crate) fn quote(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 2);
    out.push('"');
    for c in ident.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `text` as an SQL string literal.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Schema {
    /// Read the shape of `table` in `namespace` (the current schema when
    /// `None`), with ids in `id_column`.
    ///
    /// Errors: `NotFound` for an unknown table; `InvalidInput` for an
    /// unknown id column, or (for a table) one that is neither the
    /// single-column primary key nor covered by a unique index.
    pub(crate) async fn read(
        client: &tokio_postgres::Client,
        namespace: Option<&str>,
        table: &str,
        id_column: &str,
    ) -> Result<Schema> {
        let context = format!("reading the schema of \"{table}\"");
        let found = client
            .query_opt(
                "SELECT c.oid::int8, c.relkind::text, n.nspname::text, \
                        has_table_privilege(c.oid, 'INSERT'), \
                        has_table_privilege(c.oid, 'UPDATE'), \
                        has_table_privilege(c.oid, 'DELETE') \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relname = $1::text AND n.nspname = COALESCE($2::text, current_schema()) \
                   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
                &[&table, &namespace],
            )
            .await
            .map_err(|e| pg_error(&context, &e))?;
        let Some(found) = found else {
            let place = namespace.map_or_else(
                || String::from("the current schema"),
                |n| format!("schema \"{n}\""),
            );
            return Err(Error::not_found(format!(
                "PostgreSQL has no table or view \"{table}\" in {place}"
            )));
        };
        let oid = u32::try_from(found.get::<_, i64>(0))
            .map_err(|_| Error::corrupt(format!("{context}: an oid out of range")))?;
        let relkind: String = found.get(1);
        let namespace: String = found.get(2);
        let is_table = matches!(relkind.as_str(), "r" | "p");

        // (name, attnum, declared, base type, has default, identity, generated)
        let rows = client
            .query(
                "SELECT a.attname::text, a.attnum::int4, format_type(a.atttypid, a.atttypmod), \
                        COALESCE(bt.typname, t.typname)::text, a.atthasdef, \
                        a.attidentity::text, a.attgenerated::text \
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype \
                 WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
                &[&i64::from(oid)],
            )
            .await
            .map_err(|e| pg_error(&context, &e))?;
        let mut id = None;
        let mut fields = Vec::new();
        for row in rows {
            let name: String = row.get(0);
            let attnum: i32 = row.get(1);
            let declared: String = row.get(2);
            let base: String = row.get(3);
            let has_default: bool = row.get(4);
            let identity: String = row.get(5);
            let generated: String = row.get(6);
            let column = Column {
                quoted: quote(&name),
                kind: Kind::of(&base),
                writable: generated.is_empty() && identity != "a",
                declared,
                name,
            };
            if column.name == id_column {
                let id_kind = match column.kind {
                    Kind::Int => IdKind::Integer,
                    Kind::Text => IdKind::Text,
                    _ => IdKind::Other,
                };
                let assigns = has_default || !identity.is_empty();
                id = Some((column, id_kind, attnum, assigns));
            } else {
                fields.push(column);
            }
        }
        let Some((id, id_kind, id_attnum, assigns_ids)) = id else {
            let names: Vec<&str> = fields.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::invalid_input(format!(
                "table \"{table}\" has no column \"{id_column}\" for ids (columns: {})",
                names.join(", ")
            )));
        };

        let id_constraint = client
            .query_opt(
                "SELECT ci.relname::text FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid \
                 WHERE i.indrelid = $1::int8::oid AND i.indisunique AND i.indpred IS NULL \
                   AND i.indnatts = 1 AND i.indkey[0] = $2::int4 \
                 ORDER BY i.indisprimary DESC LIMIT 1",
                &[&i64::from(oid), &id_attnum],
            )
            .await
            .map_err(|e| pg_error(&context, &e))?
            .map(|row| row.get::<_, String>(0));
        // A view declares no keys; its ids are taken on trust.
        if is_table && id_constraint.is_none() {
            return Err(Error::invalid_input(format!(
                "id column \"{id_column}\" of \"{table}\" is neither the primary key \
                 nor covered by a unique index, so ids could repeat"
            )));
        }

        let select_list = std::iter::once(format!("t.{}", read_expr(&id.quoted, id.kind)))
            .chain(
                fields
                    .iter()
                    .map(|c| format!("t.{}", read_expr(&c.quoted, c.kind))),
            )
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Schema {
            qualified: format!("{}.{}", quote(&namespace), quote(table)),
            namespace,
            table: table.to_owned(),
            oid,
            is_table,
            id,
            id_kind,
            id_constraint,
            fields,
            can_insert: is_table && found.get::<_, bool>(3),
            can_update: is_table && found.get::<_, bool>(4),
            can_delete: is_table && found.get::<_, bool>(5),
            assigns_ids,
            select_list,
        })
    }

    /// The record field `name`: `InvalidInput` naming the known columns when
    /// the table has no such column, or when it is the id column (ids are
    /// not record fields).
    pub(crate) fn field(&self, name: &str) -> Result<&Column> {
        if let Some(column) = self.fields.iter().find(|c| c.name == name) {
            return Ok(column);
        }
        if name == self.id.name {
            return Err(Error::invalid_input(format!(
                "\"{name}\" is the id column of \"{}\"; ids are not record fields",
                self.table
            )));
        }
        let names: Vec<&str> = self.fields.iter().map(|c| c.name.as_str()).collect();
        Err(Error::invalid_input(format!(
            "table \"{}\" has no column \"{name}\" (fields: {})",
            self.table,
            names.join(", ")
        )))
    }

    /// The record field `name`, which a write may set.
    pub(crate) fn writable_field(&self, name: &str) -> Result<&Column> {
        let column = self.field(name)?;
        if !column.writable {
            return Err(Error::invalid_input(format!(
                "column \"{name}\" of \"{}\" is generated; it cannot be written",
                self.table
            )));
        }
        Ok(column)
    }
}

/// How a column of `kind` is selected, so each arrives as one Rust type
/// (domains, `real` and `smallint` included): `int8`, `float8`, `bool`,
/// `text` or `bytea`.
pub(crate) fn read_expr(quoted: &str, kind: Kind) -> String {
    match kind {
        Kind::Bool => format!("{quoted}::bool"),
        Kind::Int => format!("{quoted}::int8"),
        Kind::Float => format!("{quoted}::float8"),
        Kind::Text | Kind::Other => format!("{quoted}::text"),
        Kind::Bytes => format!("{quoted}::bytea"),
    }
}

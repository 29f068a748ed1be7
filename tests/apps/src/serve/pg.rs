//! `serve --master postgres://…`: the product table in PostgreSQL, generated
//! on first run like the SQLite one, served through [`PgVista`] with its
//! change feed installed, so a write made anywhere (psql, a migration,
//! another service) reaches the service's views and answers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diorama_core::cache::IntoCacheBackend;
use diorama_core::{Error, Result};
use diorama_std::SledBackend;
use diorama_tokio::postgres::tokio_postgres::{self, Client, NoTls};
use diorama_tokio::postgres::{ChangeFeedSetup, PgVista};

use super::app::{Service, ServiceOptions};
use super::schema::Schema;
use crate::sample::data::{INDEXED, thousands};
use crate::sample::products::product;

/// Rows per `INSERT` while generating.
const BATCH: usize = 10_000;

/// The product columns a served table must have, with the type a
/// generated table gives each (the id column is `id text`).
const COLUMNS: &[(&str, &str)] = &[
    ("name", "text"),
    ("category", "text"),
    ("price", "double precision"),
    ("stock", "bigint"),
    ("updated_at", "text"),
];

/// A PostgreSQL table as the service found or made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgTable {
    /// The schema (namespace), `None` for the connection's current one.
    pub schema: Option<String>,
    /// The table's name.
    pub name: String,
    /// How long generating it took, when this run generated it.
    pub built_in: Option<Duration>,
    /// Rows in the table when opened (generated: `--rows`).
    pub rows: usize,
}

impl PgTable {
    /// `SCHEMA.NAME` or `NAME` as given to `--table`.
    ///
    /// Errors: `InvalidInput` for an empty part or more than one dot.
    pub fn parse(table: &str) -> Result<PgTable> {
        let bad = || Error::invalid_input(format!("--table {table:?}: not NAME or SCHEMA.NAME"));
        let (schema, name) = match table.split_once('.') {
            Some((schema, name)) => (Some(schema.to_string()), name.to_string()),
            None => (None, table.to_string()),
        };
        if name.is_empty() || name.contains('.') || schema.as_deref() == Some("") {
            return Err(bad());
        }
        Ok(PgTable {
            schema,
            name,
            built_in: None,
            rows: 0,
        })
    }

    /// The table's name quoted for SQL (`"schema"."name"`).
    fn quoted(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote(schema), quote(&self.name)),
            None => quote(&self.name),
        }
    }

    /// What the run did with the table, for a log line.
    pub fn describe(&self, url: &str) -> String {
        let at = format!("{} at {}", self.quoted(), without_password(url));
        match self.built_in {
            Some(took) => format!(
                "generated {at} ({} rows) in {:.1} s",
                thousands(self.rows),
                took.as_secs_f64()
            ),
            None => format!("using {at} ({} rows)", thousands(self.rows)),
        }
    }
}

/// An SQL identifier in double quotes.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `url` with its password (if any) replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The service's sled cache for the PostgreSQL table `table` at `url`, in
/// `dir`: one per table and server, apart from the SQLite caches.
pub fn pg_cache_path(dir: &Path, url: &str, table: &PgTable) -> PathBuf {
    let digest =
        crate::serve::args::text_digest(&format!("{}|{}", without_password(url), table.quoted()));
    dir.join(format!(
        "serve-cache-pg-{}-{digest:016x}.sled",
        crate::serve::args::file_safe(&table.name)
    ))
}

/// Connect to `url`, waiting at most 5 s.
async fn connect(url: &str) -> Result<Client> {
    let shown = without_password(url);
    let connecting = tokio_postgres::connect(url, NoTls);
    let (client, connection) = tokio::time::timeout(Duration::from_secs(5), connecting)
        .await
        .map_err(|_| Error::unavailable(format!("connecting to {shown}: no answer within 5 s")))?
        .map_err(|e| Error::unavailable(format!("connecting to {shown}: {e}")))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn sql_error(what: &str, error: tokio_postgres::Error) -> Error {
    match error.as_db_error() {
        Some(db) => Error::failed(format!("{what}: {}", db.message())),
        None => Error::failed(format!("{what}: {error}")),
    }
}

/// Find `table` at `url`, or create it and fill it with `rows` generated
/// products (the SQLite table's rows, ids `p0000001`…), indexed for every
/// sort, with a progress line on `progress`. An existing table is used as
/// it is (`rows` does not apply) once it is known to have the product
/// columns.
///
/// Errors: `Unavailable` when the server does not answer; `InvalidInput`
/// for a table lacking a product column; `Failed` for what the server
/// refuses.
pub async fn prepare(
    url: &str,
    mut table: PgTable,
    rows: usize,
    progress: &mut (dyn Write + Send),
) -> Result<PgTable> {
    let client = connect(url).await?;
    let name = table.quoted();
    let exists: Option<String> = client
        .query_one("SELECT to_regclass($1)::text", &[&name])
        .await
        .map_err(|e| sql_error(&format!("looking for {name}"), e))?
        .get(0);
    if exists.is_some() {
        check_columns(&client, &table).await?;
    } else {
        let started = Instant::now();
        generate(&client, &table, rows, progress).await?;
        table.built_in = Some(started.elapsed());
    }
    let count: i64 = client
        .query_one(&format!("SELECT count(*) FROM {name}"), &[])
        .await
        .map_err(|e| sql_error(&format!("counting {name}"), e))?
        .get(0);
    table.rows = usize::try_from(count).unwrap_or(0);
    Ok(table)
}

/// Refuse a table that lacks a product column (a PATCH to it would fail
/// on every row).
async fn check_columns(client: &Client, table: &PgTable) -> Result<()> {
    let name = table.quoted();
    let present: Vec<String> = client
        .query(
            "SELECT attname::text FROM pg_attribute \
             WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
            &[&name],
        )
        .await
        .map_err(|e| sql_error(&format!("reading the columns of {name}"), e))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let missing: Vec<&str> = std::iter::once("id")
        .chain(COLUMNS.iter().map(|(column, _)| *column))
        .filter(|column| !present.iter().any(|p| p == column))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{name} is not a product table: it has no column {}",
            missing.join(", ")
        )))
    }
}

/// Create the table and insert `rows` products, batch by batch, in one
/// transaction (an interrupted run leaves no half table behind), then the
/// sort indexes.
async fn generate(
    client: &Client,
    table: &PgTable,
    rows: usize,
    progress: &mut (dyn Write + Send),
) -> Result<()> {
    let name = table.quoted();
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(column, kind)| format!("{} {kind}", quote(column)))
        .collect();
    let create = format!(
        "BEGIN; CREATE TABLE {name} (\"id\" text PRIMARY KEY, {});",
        columns.join(", ")
    );
    client
        .batch_execute(&create)
        .await
        .map_err(|e| sql_error(&format!("creating {name}"), e))?;
    let insert = format!(
        "INSERT INTO {name} (\"id\", \"name\", \"category\", \"price\", \"stock\", \"updated_at\") \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::int8[], $6::text[])"
    );
    let started = Instant::now();
    let outcome = async {
        let mut start = 0;
        while start < rows {
            let end = (start + BATCH).min(rows);
            let batch = Batch::of(start..end);
            client
                .execute(
                    &insert,
                    &[
                        &batch.ids,
                        &batch.names,
                        &batch.categories,
                        &batch.prices,
                        &batch.stocks,
                        &batch.updated,
                    ],
                )
                .await
                .map_err(|e| sql_error(&format!("filling {name}"), e))?;
            start = end;
            let _ = write!(
                progress,
                "\rgenerating {name}: {} / {} rows, {:.1} s ",
                thousands(start),
                thousands(rows),
                started.elapsed().as_secs_f64()
            );
            let _ = progress.flush();
        }
        // Indexes after the rows, one per sort, matching the order
        // PgVista asks for (NULLS LAST, ties by the id's bytes).
        for column in INDEXED {
            let kind = COLUMNS
                .iter()
                .find(|(c, _)| c == column)
                .map_or("text", |(_, kind)| kind);
            let key = if kind == "text" {
                format!("({}::text COLLATE \"C\")", quote(column))
            } else {
                quote(column)
            };
            let index = quote(&format!("{}_{column}_sort", table.name));
            client
                .batch_execute(&format!(
                    "CREATE INDEX {index} ON {name} ({key} NULLS LAST, (\"id\"::text COLLATE \"C\"))"
                ))
                .await
                .map_err(|e| sql_error(&format!("indexing {name}.{column}"), e))?;
        }
        client
            .batch_execute(&format!("COMMIT; ANALYZE {name}"))
            .await
            .map_err(|e| sql_error(&format!("committing {name}"), e))?;
        let _ = writeln!(progress);
        Ok(())
    }
    .await;
    if outcome.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    outcome
}

/// One batch of generated rows, column by column (the arrays `unnest`
/// turns back into rows).
struct Batch {
    ids: Vec<String>,
    names: Vec<String>,
    categories: Vec<String>,
    prices: Vec<f64>,
    stocks: Vec<i64>,
    updated: Vec<String>,
}

impl Batch {
    fn of(range: std::ops::Range<usize>) -> Batch {
        let mut batch = Batch {
            ids: Vec::with_capacity(range.len()),
            names: Vec::with_capacity(range.len()),
            categories: Vec::with_capacity(range.len()),
            prices: Vec::with_capacity(range.len()),
            stocks: Vec::with_capacity(range.len()),
            updated: Vec::with_capacity(range.len()),
        };
        let text = |record: &diorama_core::Record, field: &str| {
            record
                .get(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        for index in range {
            let (id, record) = product(index);
            batch.ids.push(id);
            batch.names.push(text(&record, "name"));
            batch.categories.push(text(&record, "category"));
            batch
                .prices
                .push(record.get("price").and_then(|v| v.as_f64()).unwrap_or(0.0));
            batch
                .stocks
                .push(record.get("stock").and_then(|v| v.as_i64()).unwrap_or(0));
            batch.updated.push(text(&record, "updated_at"));
        }
        batch
    }
}

/// Prepare `table` at `url` (see [`prepare`]), open it as a [`PgVista`]
/// with its change feed installed (idempotent), and the service over it
/// with its sled cache in `cache_dir`. A table generated by this call
/// starts with an empty cache. Call from inside a tokio runtime.
///
/// Errors: those of [`prepare`], of opening the vista (`Unavailable`
/// when the server is away) and of the cache.
pub async fn open_postgres(
    url: &str,
    table: &str,
    rows: usize,
    options: ServiceOptions,
    cache_dir: &Path,
    mut progress: impl Write + Send,
) -> Result<(Service, PgTable)> {
    let table = prepare(url, PgTable::parse(table)?, rows, &mut progress).await?;
    let mut builder = PgVista::builder(url, &table.name).change_feed(ChangeFeedSetup::Install);
    if let Some(schema) = &table.schema {
        builder = builder.schema(schema.clone());
    }
    let vista = builder.open().await?;
    std::fs::create_dir_all(cache_dir)
        .map_err(|e| Error::failed(format!("creating {}: {e}", cache_dir.display())))?;
    let cache_path = pg_cache_path(cache_dir, url, &table);
    if table.built_in.is_some() && cache_path.exists() {
        std::fs::remove_dir_all(&cache_path).map_err(|e| {
            Error::failed(format!(
                "removing the stale cache {}: {e}",
                cache_path.display()
            ))
        })?;
    }
    let cache = SledBackend::open(&cache_path)?;
    let service = Service::open(
        Arc::new(vista),
        cache.into_cache_backend(),
        Schema::products(),
        options,
    )
    .await?;
    Ok((service, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_with_an_optional_schema() {
        let plain = PgTable::parse("products").unwrap();
        assert_eq!(
            (plain.schema.as_deref(), plain.name.as_str()),
            (None, "products")
        );
        assert_eq!(plain.quoted(), "\"products\"");
        let qualified = PgTable::parse("shop.Products").unwrap();
        assert_eq!(qualified.quoted(), "\"shop\".\"Products\"");
        assert_eq!(PgTable::parse("a\"b").unwrap().quoted(), "\"a\"\"b\"");
        for bad in ["", ".x", "x.", "a.b.c"] {
            assert!(PgTable::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            without_password("postgres://me:s3cret@db:5432/shop"),
            "postgres://me:***@db:5432/shop"
        );
        assert_eq!(
            without_password("postgres://me@db/shop"),
            "postgres://me@db/shop"
        );
        let mut table = PgTable::parse("products").unwrap();
        table.rows = 1_000;
        let line = table.describe("postgres://me:s3cret@db/shop");
        assert_eq!(
            line,
            "using \"products\" at postgres://me:***@db/shop (1,000 rows)"
        );
    }

    #[test]
    fn caches_are_per_server_and_table() {
        let dir = Path::new("/d");
        let products = PgTable::parse("products").unwrap();
        let a = pg_cache_path(dir, "postgres://h/a", &products);
        assert_eq!(a, pg_cache_path(dir, "postgres://h/a", &products));
        assert_ne!(a, pg_cache_path(dir, "postgres://h/b", &products));
        let other = PgTable::parse("s.products").unwrap();
        assert_ne!(a, pg_cache_path(dir, "postgres://h/a", &other));
        assert!(
            a.to_string_lossy()
                .starts_with("/d/serve-cache-pg-products-")
        );
    }
}

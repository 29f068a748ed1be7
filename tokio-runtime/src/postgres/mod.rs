//! [`PgVista`]: a master table in PostgreSQL, with a change feed so that
//! writes made anywhere (other services, migrations, people at `psql`)
//! reach every open view (feature `postgres`).
//!
//! ```no_run
//! # async fn demo() -> diorama_core::Result<()> {
//! use diorama_tokio::postgres::{ChangeFeedSetup, PgVista};
//! use diorama_tokio::TokioRuntime;
//! use diorama_core::{Lens, MemoryBackend, Vista};
//! use std::sync::Arc;
//!
//! let products = PgVista::builder("postgres://postgres@127.0.0.1/test", "products")
//!     .change_feed(ChangeFeedSetup::Install)
//!     .open()
//!     .await?;
//! let lens = Lens::builder()
//!     .runtime(Arc::new(TokioRuntime::current()))
//!     .cache_source(Arc::new(MemoryBackend::new()))
//!     .build()
//!     .map_err(|e| diorama_core::Error::invalid_input(e.to_string()))?;
//! // The Dio follows the table's feed: an UPDATE in psql reaches its views.
//! let dio = lens.make_dio(Vista::new(products)).await?;
//! # drop(dio); Ok(()) }
//! ```
//!
//! The client is `tokio-postgres` with a `deadpool-postgres` pool, chosen
//! over `sqlx` because the feed needs what `tokio-postgres` gives directly:
//! a connection whose asynchronous messages (`NOTIFY`) the caller drives
//! itself, typed binary parameters, and a small build (no macros, no
//! compile-time query checking, no runtime abstraction of its own).
//!
//! # Rows and ids
//!
//! One table (or view) is one vista. One column holds the ids: an integer
//! column (ids are canonical decimal texts such as `"42"`; a default or an
//! identity lets PostgreSQL assign them), a text column, or any other type
//! with a text form (a `uuid`: ids are its canonical text). It must be the
//! single-column primary key or covered by a unique index (views are taken
//! on trust). Every other column is a record field, always present in a
//! record read (`Null` for NULL), in table order. The id column is not a
//! field: a condition, sort or write naming it is `InvalidInput`, and so
//! is an id the column cannot hold (`"x"`, `"042"` for an integer id).
//!
//! # Values
//!
//! `boolean` ↔ `Bool`; `smallint`, `integer`, `bigint` ↔ `Integer`;
//! `real`, `double precision` ↔ `Float`; `text`, `varchar`, `char`,
//! `name` ↔ `Text`; `bytea` ↔ `Bytes`; every other type (`numeric`, dates
//! and times, `uuid`, `json`, arrays, enums, …) ↔ `Text`, its PostgreSQL
//! text form (sessions use `TimeZone = UTC` and ISO dates, so the form is
//! stable). Domains map as their base type. Writes take the value of the
//! column's kind (integers and whole floats cross between number columns;
//! any scalar is written to an other-typed column as its text); anything
//! else, nested values included, is `InvalidInput` before a statement is
//! sent. The column's type still applies: out of range, too long or not a
//! valid value of the type is `InvalidInput` from the server.
//!
//! # Queries
//!
//! Conditions, the sort and the search are pushed into SQL with bound
//! parameters only, and mean exactly what [`diorama_core::vista::eval`]
//! means over the rows PostgreSQL returns (the tests check this against
//! `MemoryVista` on random queries):
//!
//! - numbers compare numerically and exactly across integer and floating
//!   columns and operands; text compares by bytes (the `C` collation,
//!   whatever the column declares); kinds that differ never compare;
//!   `Eq null` finds NULLs and `Ne` keeps them;
//! - `Like` and search are case-insensitive over the text eval renders for
//!   each value (floats as Rust prints them), matched as regular
//!   expressions built from eval's own case folding, since `ILIKE` and
//!   `lower()` follow the server's locale;
//! - the sort puts NULLs last in both directions and breaks ties by id as
//!   text, bytewise; without a sort, rows come in id order.
//!
//! Field names must be columns of the table (case-sensitive): an unknown
//! one is `InvalidInput` from the read. Refused by
//! [`accepts`](diorama_core::TableShell::accepts), so a
//! [`Vista`](diorama_core::Vista) evaluates them locally: text operands
//! holding NUL, `In` lists of more than 1000 items, patterns and needles of
//! more than 1000 characters.
//!
//! `fetch_window` reads the total and the window in one repeatable-read
//! transaction, finding the window's ids first so skipped rows are stepped
//! over in an index. With the change feed installed, totals of recent
//! filters are cached until the table changes (the log's last sequence
//! says when), so paging a large table counts it once.
//!
//! # Writes
//!
//! Each write is one statement in a transaction of its own.
//! `insert(None, ..)` leaves the id to the column's default or identity
//! and returns it (`InvalidInput` when it has neither); inserting an
//! existing id is `Failed` ("already exists"), another constraint refusing
//! the row is `Failed` naming it. `replace` sets every field (those the
//! record lacks to NULL; generated columns are left alone), `patch` only
//! the given ones; a missing row is `NotFound`. `delete` of a missing row
//! is fine; `delete_all` deletes row by row (`DELETE`, not `TRUNCATE`).
//! Views, and tables the role may not write, offer no writes (capabilities
//! say so; the calls are `Unsupported`). A failed write changes nothing.
//!
//! # Timeouts and lost connections
//!
//! Opening a connection may take the connect timeout (default 5 s); a
//! statement may run the statement timeout (default 30 s, enforced by the
//! server); a call that gets no answer within both gives up. All three are
//! [`Unavailable`](diorama_core::ErrorKind::Unavailable) errors, as is a
//! refused or lost connection and a server shutting down: transient, for
//! the caller's retry policy. A write given up on that way may have been
//! applied; its message says so. Nothing ever panics or waits forever on
//! the network.
//!
//! # The change feed
//!
//! [`PgVista::install_change_feed`] (or [`ChangeFeedSetup::Install`] at
//! open) creates a change log table written by statement triggers, one
//! entry per changed row, and a `NOTIFY` per statement. A vista whose feed
//! is installed offers it ([`PgChangeFeed`]), and a Dio over the vista
//! follows it: its listener reads the log after the position stored in
//! the cache meta, then on every notification, reconnects and catches up
//! after a lost connection, and reports a gap when the log was trimmed
//! past the position ([`TrimPolicy`]), which makes the Dio invalidate its
//! cache and publish `DioEvent::ChangesLost`.

mod builder;
mod convert;
mod count;
mod error;
mod feed;
mod read;
mod schema;
mod shell;
mod text;
mod translate;
mod vista;
mod write;

pub use builder::{
    ChangeFeedSetup, DEFAULT_CONNECT_TIMEOUT, DEFAULT_POLL_INTERVAL, DEFAULT_POOL_SIZE,
    DEFAULT_STATEMENT_TIMEOUT, PgVistaBuilder,
};
pub use feed::{PgChangeFeed, TrimPolicy};
pub use vista::PgVista;

/// The `tokio-postgres` this module is built with, for
/// [`PgVista::builder_with_config`] and [`PgVista::pool`].
pub use tokio_postgres;

/// The `deadpool-postgres` of [`PgVista::pool`].
pub use deadpool_postgres;

//! The `serve` app (feature `serve`): an HTTP JSON service over the
//! generated product table in SQLite, cached in sled, on tokio.
//!
//! ```text
//! cargo run -p diorama-tokio --example serve -- --data DIR --rows N --addr 127.0.0.1:8080
//! cargo run -p diorama-apps --bin serve -- --data DIR --rows N --addr 127.0.0.1:8080
//! ```
//!
//! By default it serves the grid demo's million-row database
//! (`target/diorama-grid`, built on first run) from `127.0.0.1:8080`, with
//! its own sled cache in the same directory. The app lives in this module
//! rather than in a `main` so tests drive it in-process; the `serve`
//! binary and diorama-tokio's `serve` example (through its dev-dependency
//! on this crate) are thin `main`s over [`main`]; tests call [`run`],
//! [`open_products`] or [`Service`] directly.
//!
//! With `--master postgres://…` it serves a PostgreSQL table instead
//! (`--table`, default `products`, generated like the SQLite one when
//! missing), through [`PgVista`](diorama_tokio::postgres::PgVista) with
//! its change feed installed and followed: an `UPDATE` made in `psql`
//! shows in the answers without a restart (see [`pg`]).
//!
//! # Routes
//!
//! Rows are `{ "id", ...fields, "status" }`; `status` is `fresh`, `stale`
//! (older than the TTL, being refetched), `pending` (a write is queued;
//! the fields are what the row will be), `write_failed` (with `"error"`;
//! the fields are the previous values) or `not_found`.
//!
//! - **`GET /products?offset=&limit=&sort=&q=`** →
//!   `{ "offset", "limit", "total", "rows": [...] }`. `offset` ≥ 0
//!   (default 0), `limit` 1–1000 (default 50), `sort` a column (`-price`
//!   or `price:desc` descending), `q` a case-insensitive search. Served
//!   through the chunk path: each (sort, q) query has a paged
//!   [`TableScenery`](diorama_core::TableScenery), kept in a small LRU;
//!   the request moves its viewport to `offset..offset+limit` and answers
//!   once every row of that range is shown. Rows the cache holds at
//!   persisted positions come without a master call (also after a
//!   restart); missing or stale ones are loaded by `on_load_chunk`, one
//!   `fetch_window` per chunk pushed into SQLite. This path rather than
//!   the facade's `fetch_window`, which evaluates the query over every
//!   cached row and suits small tables only.
//! - **`GET /products/{id}`** → the row, through a
//!   [`RecordScenery`](diorama_core::RecordScenery): from the cache when it
//!   holds the row complete and fresh, else fetched from the master. `404`
//!   when the master has no such row.
//! - **`PATCH /products/{id}`** with a JSON object of fields → written
//!   through the Dio's queue ([`WriteOp::Patch`](diorama_core::WriteOp)),
//!   then the service waits for the outcome: `200` with the row as it now
//!   is; `404` when the row does not exist; or `202` with the row as it
//!   will be (`"status": "pending"`) when the master takes longer than the
//!   write timeout (5 s) — the write still goes on. Waiting rather than
//!   answering 202 at once makes the common case simple for clients: a 200
//!   means the master has it. Fields must be columns of the table with
//!   values of their type (`null` allowed).
//! - **`GET /stats`** → master calls, pending writes, and the sceneries'
//!   counters (chunk loads, cache hits, rows loaded); as a replica, also
//!   `"replica"`: the counters of
//!   [`ReplicaStats`](diorama_tokio::nats::ReplicaStats).
//! - **`GET /metrics`** → the Prometheus text format ([`Metrics`] lists
//!   every metric): cache hits and misses, master calls by operation with
//!   their latency, the write queue's depth, applied and failed writes,
//!   open sceneries, requests by status with their latency.
//!
//! # Limits
//!
//! - `q` at most [`MAX_Q_CHARS`] (1,000) characters: longer is a 400.
//! - A body at most [`MAX_BODY_BYTES`] (64 KiB): larger is a 413.
//! - A request target at most [`guard::MAX_TARGET_BYTES`] (16 KiB, room
//!   for the longest `q` percent-encoded): longer is a 414; a request head
//!   at most [`guard::MAX_HEAD_BYTES`] (32 KiB) and 100 headers: more is a
//!   431; a head that does not parse is a 400. These are checked on the
//!   connection before hyper reads the head (see [`guard`]), so they too
//!   answer with the JSON error shape.
//! - A JSON body naming a key twice is a 400 (not the last value kept).
//! - A PATCH with a negative `price` is a 400, as the grid's master
//!   refuses it (the same check runs in the master the service wraps).
//! - Each request is dropped after the longer of `--timeout` and
//!   `--write-timeout`, plus two seconds (a JSON 504); a list request
//!   that times out while its page loads gives its scenery up, so the
//!   chunk load and its master call stop (SQLite interrupts the read).
//!
//! # Logs
//!
//! One line per request on stderr (`tracing`, `RUST_LOG` filters; `info`
//! by default): its id (also sent as `x-request-id`), method, target
//! (first 200 bytes), status and latency in milliseconds.
//!
//! # Replicas
//!
//! `--nats nats://127.0.0.1:4222 --replica NAME` (and `--cache DIR`, a
//! cache of its own) runs the service as one of several over the same
//! database: a write through one is announced over NATS JetStream and
//! shown by the others' caches and views; a cold row or window is read
//! from the master by one replica and shared with the others through the
//! JetStream key-value bucket (see `diorama_tokio::nats`). With NATS away,
//! each replica serves from the master directly and catches up after.
//!
//! # Errors
//!
//! Every error the service answers is `{ "error": "message" }` with
//! `content-type: application/json`: `400` for bad query parameters
//! (non-numeric `offset`, `limit` out of range, unknown sort column,
//! unknown parameter, `q` too long) and bad bodies (invalid JSON, a key
//! given twice, unknown field, wrong type, negative price) and malformed
//! request heads; `404` for unknown rows and routes; `405` for another
//! method on a known route; `413` for a body over the limit; `414` and
//! `431` for a request target or head over the limits; `500` if a handler
//! fails inside; `502` when the master fails; `503` while the write queue
//! stays full or the service stops; `504` when the master does not answer
//! a read within the read timeout (10 s), or a request passes its
//! deadline. See [`ApiError::from_diorama`] for the mapping of Diorama
//! errors.
//!
//! # Figures
//!
//! Under load (`cargo bench -p diorama-benches --bench serve_load`, and
//! `wrk -t2 -c16`, on the million-row table, a 2-core machine shared with
//! other builds): cold random pages 231–448 req/s at p99 77–168 ms; the
//! mixed load of issue 16 233–373 req/s with no request over 2 s in 10–40 s
//! rounds; a PATCH during a 60 kB search 13–26 ms. The README has the
//! table, the ten-minute run and what bounds memory.

mod app;
pub mod args;
mod error;
pub mod guard;
pub mod json;
mod metrics;
pub mod params;
pub mod pg;
mod routes;
mod run;
pub mod schema;
pub mod strict_json;
mod views;

pub use crate::sample::CountedShell;
pub use app::{Service, ServiceOptions};
pub use args::{ReplicaArgs, ServeArgs};
pub use error::ApiError;
pub use metrics::Metrics;
pub use params::{ListParams, MAX_Q_CHARS};
pub use pg::{PgTable, open_postgres};
pub use routes::MAX_BODY_BYTES;
pub use run::{cache_path, init_logging, main, open_products, open_products_as, run};
pub use schema::{ColumnKind, Schema};

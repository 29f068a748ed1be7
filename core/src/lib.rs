//! # diorama-core
//!
//! The `no_std` + `alloc` core of Diorama: a cached, reactive data layer that
//! sits between application code and slow, flaky or limited data sources.
//!
//! - [`value`]: dynamic CBOR values ([`Value`]) and [`Record`]s.
//! - [`vista`]: the data-source abstraction ([`Vista`], [`TableShell`]),
//!   narrowing, local evaluation and the in-memory [`MemoryVista`].
//! - [`cache`]: the cache storage traits ([`CacheBackend`], [`CacheTable`])
//!   and [`MemoryBackend`].
//! - [`runtime`]: the executor abstraction ([`Runtime`]) every state machine
//!   runs on; no executor type appears in the public API.
//! - [`sync`]: executor-agnostic channels (bounded queue, broadcast bus,
//!   generation watch).
//! - [`lens`], [`dio`], [`scenery`]: the policy, the per-source state
//!   machine and the reactive views.
//! - `sim` (feature `sim`): the deterministic simulator runtime.
//!
//! The crate never names `std`, an executor or a storage engine; the
//! `diorama-std`, `diorama-tokio` and `diorama-embassy` crates plug those in.
//!
//! # Layers
//!
//! Modules import one way, from the bottom up; none names a module above
//! it (the `layers` test of this crate checks every `crate::` path):
//!
//! 1. [`error`]
//! 2. [`value`], [`sync`], [`runtime`] (and `sim`, a runtime)
//! 3. [`vista`], [`cache`] (the cache stores vista rows; `cache::meta` lays
//!    out every key a Dio keeps in its table's meta space)
//! 4. [`dio`]: the Dio with the policy it follows (cache backend, runtime,
//!    callbacks, [`LensDefaults`](dio::LensDefaults)) and the
//!    [`ChunkSink`](dio::ChunkSink) its chunk callback fills. The policy sits
//!    here, not in `lens`, because its callbacks take the Dio.
//! 5. [`scenery`]: views over a Dio; every opener (`Dio::table_scenery`,
//!    `record_scenery`, `value_scenery`) is defined here.
//! 6. [`lens`]: the entry point that builds and freezes the policy and makes
//!    Dios with it; it knows everything below and nothing knows it.
//!
//! # Packages
//!
//! The design's package list, and where each one is used or why not:
//!
//! - **minicbor**: the [`Value`] codec (`value`), cached rows and meta.
//! - **futures-lite**: future combinators (the runtime's `timeout`, viewport
//!   and feed loops).
//! - **async-lock**: the async mutex that serialises a Dio's position writes
//!   across their cache awaits (`dio`).
//! - **async-channel** and **event-listener**: the bounded write queue and
//!   the waker lists under the broadcast bus, latches and gates (`sync`).
//! - **heapless**: the 64-slot block of persisted positions
//!   (`scenery::positions`), whose bound is the storage layout.
//! - **embassy-sync**: not in the core. Its channels fix capacity and
//!   subscriber count at compile time, while the write queue's capacity is a
//!   Lens setting and the event bus serves any number of sceneries; its
//!   blocking mutex is closure-shaped, while the core holds lock guards (the
//!   critical-section locks in `sync` keep its semantics, guard-shaped); its
//!   `OnceLock::get` re-wakes itself until set instead of parking, so the
//!   Dio's latch stays on event-listener. It is used where it fits:
//!   `diorama-embassy` (a `Signal` stops the host executor) and the emulated
//!   Cortex-M's time driver (`CriticalSectionMutex`).
//! - **critical-section** (no threads) and **spin** (threads): the core's
//!   locks, by the rule in [`sync`]; **portable-atomic**: 64-bit atomics on
//!   32-bit chips.
//! - **tracing** (default features off: `no_std`): the Dio's spans, for
//!   whatever subscriber the application installs (see [Tracing](#tracing)).
//! - **smol**, **sled**, **rusqlite**: `diorama-std`; **tokio**: `diorama-tokio`;
//!   **axum**: the `serve` app; the embassy executor and timers: `diorama-embassy`.
//!   Never here: the core names no executor, storage engine or `std`.
//!
//! # Tracing
//!
//! A Dio's work runs in [`tracing`](https://docs.rs/tracing) spans, at
//! `INFO` level, each with the Dio's name as `dio` and, once the work
//! ended, `outcome` (`ok`, or the error kind's
//! [`as_str`](ErrorKind::as_str)) and `error` (the error's text):
//!
//! - `diorama.write`: one queued write, from the worker taking it to its
//!   outcome (`op`: `insert`, `replace`, `patch`, `delete`, `delete_all`;
//!   `id`, empty when the write names none);
//! - `diorama.load_chunk`: one chunk load of a table scenery (`start`,
//!   `end`, `query` in its `Debug` form); an aborted load records no
//!   outcome;
//! - `diorama.refresh`: one refresh, manual or scheduled;
//! - `diorama.master`: one call the core makes on the master (`op`:
//!   `fetch_window`, `count`, `get`, `apply_write`; `query` in its `Debug`
//!   form or `id`; a window's `offset` and `limit`; a write's kind as
//!   `write`), inside the chunk load's or write's span when it serves one.
//!
//! Cache reads and logs made inside them carry the span as their context.
//! Without a subscriber a span costs an atomic load.
#![no_std]
// Unsafe code lives in one file, `sync/critical.rs` (guards over a
// critical section); everywhere else it is an error.
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

pub mod cache;
pub mod dio;
pub mod error;
pub mod lens;
pub mod runtime;
pub mod scenery;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sync;
pub mod value;
pub mod vista;

pub use cache::{CacheBackend, CacheTable, IntoCacheBackend, MemoryBackend};
pub use dio::{ChangeEvent, Dio, DioEvent, WriteOp};
pub use error::{Error, ErrorKind, Result};
pub use lens::{Lens, LensBuilder};
pub use runtime::{Instant, IntoRuntime, JoinHandle, Runtime, RuntimeExt, Timestamp};
pub use scenery::{RecordScenery, TableScenery, ValueScenery};
pub use value::{Record, Value};
pub use vista::{MemoryVista, TableShell, Vista, VistaCapabilities};

/// The README's code blocks, compiled and run as doctests.
#[cfg(all(doctest, feature = "sim"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

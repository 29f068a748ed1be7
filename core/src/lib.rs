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
//! `diorama-std` and `diorama-tokio` crates plug those in.
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

pub use cache::{CacheBackend, CacheTable, MemoryBackend};
pub use dio::{ChangeEvent, Dio, DioEvent, WriteOp};
pub use error::{Error, ErrorKind, Result};
pub use lens::{Lens, LensBuilder};
pub use runtime::{Instant, JoinHandle, Runtime, RuntimeExt, Timestamp};
pub use scenery::{RecordScenery, TableScenery, ValueScenery};
pub use value::{Record, Value};
pub use vista::{MemoryVista, TableShell, Vista, VistaCapabilities};

/// The README's code blocks, compiled and run as doctests.
#[cfg(all(doctest, feature = "sim"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

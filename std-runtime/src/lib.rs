//! # diorama-std
//!
//! Diorama on `std`: a smol runtime and a sled cache on disk.
//!
//! - [`SmolRuntime`]: the [`Runtime`](diorama_core::Runtime) on smol's global
//!   executor or on an `async_executor::Executor` you drive.
//! - [`LensBuilderExt::cache_at`]: a Lens's cache on disk in one line.
//! - [`SledBackend`]: a [`CacheBackend`](diorama_core::CacheBackend) on sled,
//!   so the cache survives restarts. Every entry is checksummed (a damaged
//!   row reads as absent and is counted), a rollback of sled to an older
//!   state is detected with a flush marker (rows from before read as
//!   stale), and an unreadable cache is reported, or moved aside and rebuilt
//!   with [`SledBackend::open_or_rebuild`], which says what it did in an
//!   [`OpenReport`].
//! - [`sqlite::SqliteVista`] (feature `sqlite`, default): a master table in
//!   SQLite with conditions, sort, search and windows pushed into SQL.
//! - `demo` (feature `demo`): the `grid` terminal demo.
//! - `sample` (feature `sample`): the generated product table the demos use.
//! - [`support`]: panic containment and the wall clock, shared with
//!   `diorama-tokio`.
#![forbid(unsafe_code)]

pub use diorama_core as core;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

#[cfg(feature = "demo")]
pub mod demo;
mod lens_ext;
mod runtime;
#[cfg(feature = "sample")]
pub mod sample;
mod sled_cache;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod support;

pub use crate::lens_ext::LensBuilderExt;
pub use crate::runtime::SmolRuntime;
pub use crate::sled_cache::{MovedAside, OpenReport, SledBackend, SledBuilder, SledTable};

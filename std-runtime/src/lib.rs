//! # diorama-std
//!
//! Diorama on `std`: a smol runtime and a sled cache on disk.
//!
//! - [`SmolRuntime`]: the [`Runtime`](diorama_core::Runtime) on smol's global
//!   executor or on an `async_executor::Executor` you drive.
//! - [`LensBuilderExt::cache_at`]: a Lens's cache on disk in one line.
//! - [`SledBackend`]: a [`CacheBackend`](diorama_core::CacheBackend) on sled,
//!   so the cache survives restarts; a corrupt cache is reported (or rebuilt
//!   with [`SledBackend::open_or_rebuild`]) and a corrupt row reads as absent.
//! - [`sqlite::SqliteVista`] (feature `sqlite`, default): a master table in
//!   SQLite with conditions, sort, search and windows pushed into SQL.
//! - [`support`]: panic containment and the wall clock, shared with
//!   `diorama-tokio`.
#![forbid(unsafe_code)]

pub use diorama_core as core;

mod lens_ext;
mod runtime;
mod sled_cache;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod support;

pub use crate::lens_ext::LensBuilderExt;
pub use crate::runtime::SmolRuntime;
pub use crate::sled_cache::{SledBackend, SledBuilder, SledTable};

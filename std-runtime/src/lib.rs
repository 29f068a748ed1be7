//! # diorama-std
//!
//! Diorama on `std`: a smol runtime, a sled cache on disk, a SQLite
//! master and an HTTP master, each behind a feature, so each user compiles what they use.
//!
//! | feature | default | gives | pulls in |
//! |---|---|---|---|
//! | `smol` | yes | [`SmolRuntime`] | smol, async-executor, async-io |
//! | `sled` | yes | [`SledBackend`], [`LensBuilderExt::cache_at`] | sled, blocking |
//! | `sqlite` | no | [`sqlite::SqliteVista`] | rusqlite with SQLite compiled from source, r2d2, blocking |
//! | `http` | no | [`http::HttpVista`] | ureq (plain HTTP), serde_json, blocking |
//!
//! - A smol desktop app takes the defaults: `diorama-std = ".."` gives
//!   [`SmolRuntime`] and [`SledBackend`].
//! - A tokio app uses `diorama-tokio`, which depends on this crate with
//!   `default-features = false, features = ["sled"]`: the sled backend
//!   needs no executor (its flush runs on the `blocking` crate's thread
//!   pool), so no smol is built.
//! - `sqlite` is opt-in (`features = ["sqlite"]`): bundled SQLite is a C
//!   compile a user who does not use it should not pay for. The vista runs
//!   its writes on a thread of its own and its reads on a pool of read
//!   connections (on the `blocking` crate's threads), so it works on any
//!   executor.
//! - Without features the crate is [`support`] alone (panic containment
//!   and the wall clock every std runtime shares).
//!
//! The items:
//!
//! - [`SmolRuntime`] (feature `smol`): the
//!   [`Runtime`](diorama_core::Runtime) on smol's global executor or on an
//!   `async_executor::Executor` you drive.
//! - [`LensBuilderExt::cache_at`] (feature `sled`): a Lens's cache on disk
//!   in one line.
//! - [`SledBackend`] (feature `sled`): a
//!   [`CacheBackend`](diorama_core::CacheBackend) on sled, so the cache
//!   survives restarts. Every entry is checksummed (a damaged row reads as
//!   absent and is counted), a rollback of sled to an older state is
//!   detected with a flush marker (rows from before read as stale), and an
//!   unreadable cache is reported, or moved aside and rebuilt with
//!   [`SledBackend::open_or_rebuild`], which says what it did in an
//!   [`OpenReport`].
//! - [`sqlite::SqliteVista`] (feature `sqlite`): a master table in SQLite
//!   with conditions, sort, search and windows pushed into SQL.
//! - [`http::HttpVista`] (feature `http`): a master table behind an HTTP
//!   JSON API, with a ready mapping for Diorama's own `serve`; works under
//!   smol and tokio alike.
//! - [`support`]: panic containment and the wall clock, shared with
//!   `diorama-tokio`.
//!
//! The demo apps built on this crate (the `grid` terminal grid, the
//! `serve` HTTP service) are not part of it: they live in the unpublished
//! `diorama-apps` crate (`tests/apps/` of the repository), and
//! `cargo run --release -p diorama-std --example grid` runs the grid.
#![forbid(unsafe_code)]
// The docs above link items of every feature; a build without some of them
// (docs.rs builds with all) leaves those links unresolved, not wrong.
#![cfg_attr(
    not(all(
        feature = "smol",
        feature = "sled",
        feature = "sqlite",
        feature = "http"
    )),
    allow(rustdoc::broken_intra_doc_links)
)]

pub use diorama_core as core;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "sled")]
mod lens_ext;
#[cfg(feature = "smol")]
mod runtime;
#[cfg(feature = "sled")]
mod sled_cache;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod support;

#[cfg(feature = "sled")]
pub use crate::lens_ext::LensBuilderExt;
#[cfg(feature = "smol")]
pub use crate::runtime::SmolRuntime;
#[cfg(feature = "sled")]
pub use crate::sled_cache::{MovedAside, OpenReport, SledBackend, SledBuilder, SledTable};

//! # diorama-tokio
//!
//! Diorama on tokio.
//!
//! - [`TokioRuntime`]: the [`Runtime`](diorama_core::Runtime) on a tokio
//!   runtime (current or given [`Handle`](tokio::runtime::Handle)), with
//!   tokio timers and tokio's (pausable) clock.
//! - [`SledBackend`] and [`LensBuilderExt::cache_at`] (feature `sled`, on by
//!   default): the sled cache of `diorama-std`, re-exported. It needs
//!   nothing from smol: its flush runs on the `blocking` crate's thread
//!   pool, which never stalls a tokio worker either.
//! - [`postgres::PgVista`] (feature `postgres`): a master table in
//!   PostgreSQL whose change feed a Dio follows.
//! - [`nats::Replica`] (feature `nats`): several processes' caches over
//!   one master kept coherent over NATS JetStream, with a shared second
//!   tier so a cold key costs one master read across all of them.
//!
//! # Features
//!
//! | feature | default | gives |
//! |---|---|---|
//! | `sled` | yes | [`SledBackend`], [`SledBuilder`], [`SledTable`], [`LensBuilderExt`] |
//! | `postgres` | no | [`postgres::PgVista`]: a master table in PostgreSQL whose change feed a Dio follows (tokio-postgres, deadpool-postgres) |
//! | `nats` | no | [`nats::Replica`]: replicas kept coherent over NATS JetStream, a shared tier with leases (async-nats) |
//!
//! This crate depends on `diorama-std` without its default features, so a
//! tokio user compiles no smol and no SQLite; with `default-features =
//! false` not even sled (a Lens on the core's `MemoryBackend` or a backend
//! of your own). For the SQLite master add `diorama-std` with
//! `features = ["sqlite"]` (it runs on any executor).
//!
//! The `serve` HTTP service built on this crate lives in the unpublished
//! `diorama-apps` crate (`tests/apps/` of the repository);
//! `cargo run --release -p diorama-tokio --example serve` runs it.
#![forbid(unsafe_code)]
// The docs above link the items of every feature; without them the links
// are unresolved, not wrong (docs.rs builds all).
#![cfg_attr(
    not(all(feature = "sled", feature = "postgres", feature = "nats")),
    allow(rustdoc::broken_intra_doc_links)
)]

pub use diorama_core as core;

#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "postgres")]
pub mod postgres;
mod runtime;

pub use crate::runtime::TokioRuntime;
#[cfg(feature = "sled")]
pub use diorama_std::{LensBuilderExt, SledBackend, SledBuilder, SledTable};

//! # diorama-tokio
//!
//! Diorama on tokio.
//!
//! - [`TokioRuntime`]: the [`Runtime`](diorama_core::Runtime) on a tokio
//!   runtime (current or given [`Handle`](tokio::runtime::Handle)), with
//!   tokio timers and tokio's (pausable) clock.
//! - [`SledBackend`]: the sled cache of `diorama-std`, re-exported. It needs
//!   nothing from smol: its flush runs on the `blocking` crate's thread pool,
//!   which never stalls a tokio worker either.
//! - `serve` (feature `serve`): an HTTP JSON service over the generated
//!   product table (`cargo run -p diorama-tokio --example serve`).
//! - `postgres` (feature `postgres`): `PgVista`, a master table in
//!   PostgreSQL whose change feed a Dio follows.
#![forbid(unsafe_code)]

pub use diorama_core as core;

#[cfg(feature = "postgres")]
pub mod postgres;
mod runtime;
#[cfg(feature = "serve")]
pub mod serve;

pub use crate::runtime::TokioRuntime;
pub use diorama_std::{LensBuilderExt, SledBackend, SledBuilder, SledTable};

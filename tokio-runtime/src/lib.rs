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
#![forbid(unsafe_code)]

pub use diorama_core as core;

mod runtime;

pub use crate::runtime::TokioRuntime;
pub use diorama_std::{LensBuilderExt, SledBackend, SledBuilder, SledTable};

//! # diorama-tokio
//!
//! Diorama on tokio.
//!
//! - [`TokioRuntime`]: the [`Runtime`](diorama_core::Runtime) on a tokio
//!   runtime (current or given [`Handle`](tokio::runtime::Handle)), with
//!   tokio timers and tokio's (pausable) clock.
#![forbid(unsafe_code)]

pub use diorama_core as core;

mod runtime;

pub use crate::runtime::TokioRuntime;

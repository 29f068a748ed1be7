//! # diorama-std
//!
//! Diorama on `std`: a smol runtime and a sled cache on disk.
//!
//! - [`SmolRuntime`]: the [`Runtime`](diorama_core::Runtime) on smol's global
//!   executor or on an `async_executor::Executor` you drive.
//! - [`support`]: panic containment and the wall clock, shared with
//!   `diorama-tokio`.
#![forbid(unsafe_code)]

pub use diorama_core as core;

mod runtime;
pub mod support;

pub use crate::runtime::SmolRuntime;

//! # diorama-tokio
//!
//! Diorama on tokio.
#![forbid(unsafe_code)]

pub use diorama_core as core;

//! # diorama-std
//!
//! Diorama on `std`: a smol runtime and a sled cache on disk.
#![forbid(unsafe_code)]

pub use diorama_core as core;

//! Sample data (feature `sample`): the generated product table the demos
//! run over.
//!
//! - [`products`]: row `i` of the table, deterministic.
//! - [`data`]: the data directory — the SQLite database of a given size,
//!   built on first use, and where its sled cache lives.
//! - [`args`]: the command-line defaults and flag parsing the demos share.
//! - [`CountedShell`]: the master as the demos present it, a remote-looking
//!   API (calls counted, an optional latency and write validation).
//!
//! Shared by the `grid` demo of this crate and the `serve` example of
//! `diorama-tokio`, so both run over the same master.

pub mod args;
mod counted;
pub mod data;
pub mod products;

pub use counted::{CountedShell, WriteValidation};

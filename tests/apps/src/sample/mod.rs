//! Sample data: the generated product table the apps run over.
//!
//! - [`products`]: row `i` of the table, deterministic.
//! - [`data`]: the data directory — the SQLite database of a given size,
//!   built on first use, and where its sled cache lives.
//! - [`args`]: the command-line defaults and flag parsing the apps share.
//! - [`CountedShell`]: the master as the apps present it, a remote-looking
//!   API (calls counted, an optional latency and write validation).
//!
//! Shared by the `grid` and `serve` apps, so both run over the same master.

pub mod args;
pub mod cache;
mod counted;
pub mod data;
pub mod products;

pub use counted::{CountedShell, WriteValidation};

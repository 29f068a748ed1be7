//! Demos of Diorama on std (feature `demo`).
//!
//! - [`grid`]: a terminal grid over a generated million-row SQLite table,
//!   cached in sled, on the smol runtime: `cargo run --release -p diorama-std --example grid`.

pub mod grid;

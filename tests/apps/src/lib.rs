//! # diorama-apps
//!
//! The Diorama demo apps, outside the library crates (`publish = false`):
//! what a user runs to see Diorama work, and what the app tests drive.
//!
//! - [`sample`]: the generated product table both apps run over (a SQLite
//!   database built on first use in a data directory), the
//!   [`CountedShell`](sample::CountedShell) that makes it look like a remote
//!   API, and the flags the apps share.
//! - [`grid`] (feature `grid`): a terminal grid over that table, cached in
//!   sled, on smol — binary `grid`, also
//!   `cargo run --release -p diorama-std --example grid`.
//! - [`serve`] (feature `serve`): an HTTP JSON service over the same table,
//!   cached in sled, on tokio — binary `serve`, also
//!   `cargo run --release -p diorama-tokio --example serve`.
//!
//! Both features are on by default. The examples of `diorama-std` and
//! `diorama-tokio` are thin `main`s over [`grid::main_with_args`] and
//! [`serve::main_with_args`] (through a dev-dependency on this crate), so
//! the README's commands run the same code as the binaries. Tests reach the
//! apps in-process through these modules, and as child processes through
//! the binaries (`env!("CARGO_BIN_EXE_grid")`, `env!("CARGO_BIN_EXE_serve")`
//! in this crate's own tests).
#![forbid(unsafe_code)]

#[cfg(feature = "grid")]
pub mod grid;
pub mod sample;
#[cfg(feature = "serve")]
pub mod serve;

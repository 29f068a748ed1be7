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
//! Both features are on by default. The binaries and the examples of
//! `diorama-std` and `diorama-tokio` are thin `main`s over [`grid::main`]
//! and [`serve::main`] (the examples through a dev-dependency on this
//! crate), so the README's commands run the same code as the binaries.
//! Command lines are parsed by clap ([`grid::GridArgs`],
//! [`serve::ServeArgs`], sharing [`sample::args::DataArgs`]); `--help`
//! lists every flag, and a bad value is an error naming its flag (exit
//! status 2).
//!
//! Tests reach the apps in-process through these modules ([`grid::run_script`],
//! [`serve::Service`], [`serve::run`]), and as child processes through the
//! binaries (`env!("CARGO_BIN_EXE_grid")`, `env!("CARGO_BIN_EXE_serve")` in
//! this crate's own tests, as `tests/cli.rs` does).
#![forbid(unsafe_code)]

#[cfg(feature = "grid")]
pub mod grid;
pub mod sample;
#[cfg(feature = "serve")]
pub mod serve;

//! The Diorama acceptance suites: written once, run on every runtime and
//! every cache backend.
//!
//! # What is here
//!
//! - [`harness`]: the [`Harness`](harness::Harness) trait, the one seam
//!   between a suite and what it runs on (a runtime, a way to block on a
//!   future and to move time, a [`BackendFactory`](harness::BackendFactory)),
//!   and one harness per runtime: [`SimHarness`](harness::SimHarness),
//!   [`SmolHarness`](harness::SmolHarness) (owned or global executor),
//!   [`TokioHarness`](harness::TokioHarness) (current-thread with a paused
//!   clock, or multi-thread).
//! - Four suites, each a macro over **one list** of checks:
//!   [`runtime_conformance!`] (every `Runtime`, through its harness),
//!   [`cache_conformance!`] (every `CacheBackend`), and the acceptance
//!   suites [`dio_suite!`] and [`scenery_suite!`], which run on a harness
//!   *and* a backend; [`acceptance_suites!`] runs both on every harness.
//!   Each takes an optional `ignore: [check = "reason", ..]` for the one
//!   instantiation that must skip a check.
//! - [`backends`]: factories of the shipped backends, [`memory`] and
//!   [`sled`]; [`logs`]: a capturing logger for checks that read what a
//!   runtime logged.
//!
//! The test files in `tests/tests/` instantiate them: `runtime_<runtime>.rs`
//! runs the runtime suite on one runtime, `backend_<backend>.rs` runs the
//! cache conformance and acceptance suites over one backend on every
//! harness.
//!
//! # Adding a cache backend
//!
//! Implement [`CacheBackend`](diorama_core::cache::CacheBackend), then add
//! one file, `tests/tests/backend_<name>.rs`, with a factory of fresh,
//! empty backends and two macro calls; nothing in `tests/src` changes:
//!
//! ```ignore
//! use std::sync::Arc;
//! use diorama_tests::harness::BackendFactory;
//!
//! fn mine() -> BackendFactory {
//!     Arc::new(|| Arc::new(MyBackend::open_temporary().unwrap()))
//! }
//!
//! diorama_tests::cache_conformance!(cache, mine());
//! diorama_tests::acceptance_suites!(mine());
//! ```
//!
//! Virtual-clock harnesses wrap each backend in
//! [`inline_flush`](harness::inline_flush), so a backend that flushes on
//! another thread needs nothing special. A backend that must skip a
//! scenario on one harness writes the suite calls out instead of
//! [`acceptance_suites!`] (its docs list them), with `ignore:` on the one
//! that needs it. Move the factory into [`backends`] only when other tests
//! need it too.
//!
//! # Adding a runtime
//!
//! Implement [`Runtime`](diorama_core::Runtime). Write a
//! [`Harness`](harness::Harness) for it in `tests/src/harness/` (a real
//! executor wraps its runtime in a
//! [`TrackedRuntime`](harness::TrackedRuntime) to see when it is quiet;
//! see [`SmolHarness`](harness::SmolHarness)), then add
//! `tests/tests/runtime_<name>.rs`:
//!
//! ```ignore
//! use diorama_tests::{backends::memory, harness::MyHarness};
//! diorama_tests::runtime_conformance!(mine, |_| MyHarness::new(memory()));
//! ```
//!
//! The suite checks the harness too (its [`harness`](runtime_conformance::harness)
//! module), since every other suite relies on it. Once it passes, add the
//! harness to [`acceptance_suites!`], so every backend's file runs the
//! acceptance suites on it. Tests of what only that runtime has (tokio's
//! `try_current`, a type's `Debug`) stay in its own crate.
//!
//! # Adding a scenario or a check
//!
//! Write it as a `pub fn` in the module of its area:
//! `fn(&H)` for any `H: Harness` in [`scenarios::dio`],
//! [`scenarios::scenery`] or [`runtime_conformance`](mod@runtime_conformance);
//! `fn(&dyn Fn() -> Arc<dyn CacheBackend>)` in [`conformance`]. Then add
//! one `module::name` line to the list in its suite's macro: that is the
//! suite's only list (the cache suite's [`CHECKS`](conformance::CHECKS) is
//! generated from it). Every test file of every runtime and backend picks
//! it up; on the simulator it runs once per seed of
//! [`SEEDS`](harness::SEEDS). A scenario asserts what a user can observe
//! and never wall-clock durations: it moves time with
//! [`advance`](harness::Harness::advance), shrinks long spans with
//! [`scaled`](harness::Harness::scaled), and asserts exact instants only
//! where [`virtual_clock`](harness::Harness::virtual_clock) holds.
//!
//! [`memory`]: backends::memory
//! [`sled`]: backends::sled
#![forbid(unsafe_code)]

pub mod backends;
pub mod conformance;
pub mod harness;
pub mod logs;
pub mod runtime_conformance;
pub mod scenarios;
mod suite;

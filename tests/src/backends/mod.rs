//! Factories of the cache backends this workspace ships, one small module
//! each: what the test files hand the harnesses and the cache conformance
//! suite.
//!
//! A factory ([`BackendFactory`]) returns a **fresh, empty** backend on
//! every call. A backend from another crate needs nothing here: its test
//! file writes its own factory (see the crate docs, "Adding a cache
//! backend").

mod memory;
mod sled;

pub use memory::memory;
pub use sled::sled;

pub use crate::harness::BackendFactory;

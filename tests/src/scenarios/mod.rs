//! Acceptance scenarios, each written once over a
//! [`Harness`](crate::harness::Harness) and instantiated per runtime and
//! cache backend by a suite macro.

pub mod dio;
pub mod scenery;

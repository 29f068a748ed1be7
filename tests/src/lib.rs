//! Shared harness of the acceptance suite: suites written once, instantiated
//! per runtime and cache backend.
#![forbid(unsafe_code)]

pub mod backends;
pub mod conformance;
pub mod harness;
pub mod logs;
pub mod runtime_conformance;
pub mod scenarios;
mod suite;

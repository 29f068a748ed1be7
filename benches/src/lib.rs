//! Helpers shared by the criterion benches and bench binaries in `benches/`.
#![forbid(unsafe_code)]

pub mod peer;

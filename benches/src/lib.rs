//! Helpers shared by the criterion benches in `benches/`.
#![forbid(unsafe_code)]

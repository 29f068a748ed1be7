//! The cache backend conformance suite over the simulator's fault-injecting
//! backend with no fault injected: it must be an ordinary cache until told
//! otherwise.

use std::sync::Arc;

use diorama_core::cache::CacheBackend;
use diorama_core::sim::FaultyDisk;

fn fresh_disk() -> Arc<dyn CacheBackend> {
    FaultyDisk::new(1).backend()
}

diorama_tests::cache_conformance!(faulty, super::fresh_disk);

/// `run_all` runs the same checks in one go.
#[test]
fn run_all_passes() {
    diorama_tests::conformance::run_all(&fresh_disk);
}

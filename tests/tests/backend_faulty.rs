//! Every suite over the simulator's fault-injecting backend with no fault
//! injected: until told otherwise it must be an ordinary cache, so the
//! fault tests built on it test Diorama, not the fake.

use std::sync::Arc;

use diorama_core::cache::FaultyDisk;
use diorama_tests::harness::BackendFactory;

fn faulty() -> BackendFactory {
    Arc::new(|| FaultyDisk::new(1).backend())
}

diorama_tests::cache_conformance!(cache, faulty());
diorama_tests::acceptance_suites!(faulty());

/// `run_all` runs the same checks in one go.
#[test]
fn run_all_passes() {
    diorama_tests::conformance::run_all(&*faulty());
}

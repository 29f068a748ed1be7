//! Every suite over diorama-std's `SledBackend`, each backend in a fresh
//! temporary directory: the cache conformance checks, and the Dio and
//! scenery acceptance suites on every harness.

use diorama_tests::backends::sled;

diorama_tests::cache_conformance!(cache, sled());
diorama_tests::acceptance_suites!(sled());

/// `run_all` runs the same checks in one go.
#[test]
fn run_all_passes() {
    diorama_tests::conformance::run_all(&*sled());
}

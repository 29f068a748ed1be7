//! Every suite over the core's `MemoryBackend`: the cache conformance
//! checks, and the Dio and scenery acceptance suites on every harness.

use diorama_tests::backends::memory;

diorama_tests::cache_conformance!(cache, memory());
diorama_tests::acceptance_suites!(memory());

/// `run_all` runs the same checks in one go.
#[test]
fn run_all_passes() {
    diorama_tests::conformance::run_all(&*memory());
}

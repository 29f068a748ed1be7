//! The acceptance suites on the deterministic simulator, every scenario
//! over several seeds, with the in-memory and the sled cache backend.

use diorama_tests::harness::{BackendKind, SimHarness};

diorama_tests::dio_suite!(dio_memory, |seed| SimHarness::with(
    seed,
    BackendKind::Memory
));
diorama_tests::dio_suite!(dio_sled, |seed| SimHarness::with(seed, BackendKind::Sled));
diorama_tests::scenery_suite!(scenery_memory, |seed| SimHarness::with(
    seed,
    BackendKind::Memory
));
diorama_tests::scenery_suite!(scenery_sled, |seed| SimHarness::with(
    seed,
    BackendKind::Sled
));

//! The acceptance suites on `SmolRuntime` (an owned executor, real clock),
//! with the in-memory and the sled cache backend.

use diorama_tests::harness::{BackendKind, SmolHarness};

diorama_tests::dio_suite!(dio_memory, |_| SmolHarness::new(BackendKind::Memory));
diorama_tests::dio_suite!(dio_sled, |_| SmolHarness::new(BackendKind::Sled));
diorama_tests::scenery_suite!(scenery_memory, |_| SmolHarness::new(BackendKind::Memory));
diorama_tests::scenery_suite!(scenery_sled, |_| SmolHarness::new(BackendKind::Sled));

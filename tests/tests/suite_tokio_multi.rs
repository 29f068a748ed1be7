//! The acceptance suites on `TokioRuntime` over a multi-thread runtime
//! (two workers, real clock), with the in-memory and the sled cache backend.

use diorama_tests::harness::{BackendKind, TokioHarness};

diorama_tests::dio_suite!(dio_memory, |_| TokioHarness::multi_thread(
    BackendKind::Memory
));
diorama_tests::dio_suite!(dio_sled, |_| TokioHarness::multi_thread(BackendKind::Sled));
diorama_tests::scenery_suite!(scenery_memory, |_| TokioHarness::multi_thread(
    BackendKind::Memory
));
diorama_tests::scenery_suite!(scenery_sled, |_| TokioHarness::multi_thread(
    BackendKind::Sled
));

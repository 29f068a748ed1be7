//! The acceptance suites on `TokioRuntime` over a current-thread runtime
//! with a paused clock, with the in-memory and the sled cache backend.

use diorama_tests::harness::{BackendKind, TokioHarness};

diorama_tests::dio_suite!(dio_memory, |_| TokioHarness::current_thread_paused(
    BackendKind::Memory
));
diorama_tests::dio_suite!(dio_sled, |_| TokioHarness::current_thread_paused(
    BackendKind::Sled
));
diorama_tests::scenery_suite!(scenery_memory, |_| TokioHarness::current_thread_paused(
    BackendKind::Memory
));
diorama_tests::scenery_suite!(scenery_sled, |_| TokioHarness::current_thread_paused(
    BackendKind::Sled
));

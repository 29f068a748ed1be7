//! The runtime conformance suite on `TokioRuntime` over a current-thread
//! tokio runtime whose clock starts paused (a virtual clock).

use diorama_tests::backends::memory;
use diorama_tests::harness::TokioHarness;

diorama_tests::runtime_conformance!(tokio_current, |_| {
    TokioHarness::current_thread_paused(memory())
});

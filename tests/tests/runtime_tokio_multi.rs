//! The runtime conformance suite on `TokioRuntime` over a multi-thread
//! tokio runtime (two workers, real clock).

use diorama_tests::backends::memory;
use diorama_tests::harness::TokioHarness;

diorama_tests::runtime_conformance!(tokio_multi, |_| TokioHarness::multi_thread(memory()));

//! The runtime conformance suite on `SmolRuntime`: on an executor the test
//! thread owns and drives, and on smol's global executor.

use diorama_tests::backends::memory;
use diorama_tests::harness::SmolHarness;

diorama_tests::runtime_conformance!(owned, |_| SmolHarness::new(memory()));
diorama_tests::runtime_conformance!(global, |_| SmolHarness::global(memory()));

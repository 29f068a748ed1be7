//! The runtime conformance suite on `EmbassyRuntime`: embassy's std
//! executor on a thread of its own, embassy-time's std driver.

use diorama_tests::backends::memory;
use diorama_tests::harness::EmbassyHarness;

diorama_tests::runtime_conformance!(host, |_| EmbassyHarness::new(memory()));

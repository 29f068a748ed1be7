//! The runtime conformance suite on the deterministic simulator
//! (`diorama_core::sim::SimRuntime`), every check over several seeds.

use diorama_tests::backends::memory;
use diorama_tests::harness::SimHarness;

diorama_tests::runtime_conformance!(sim, |seed| SimHarness::new(seed, memory()));

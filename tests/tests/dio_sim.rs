//! The Dio acceptance suite (issue 4) on the deterministic simulator with
//! the in-memory cache backend, every scenario over several seeds.

use diorama_tests::harness::SimHarness;

diorama_tests::dio_suite!(sim_memory, SimHarness::new);

//! The Dio acceptance scenarios of issue 4, written once for any
//! [`Harness`](crate::harness::Harness): one module per test of the issue
//! (its docs name the test), each scenario a `pub fn(&H)`.
//!
//! [`dio_suite!`](crate::dio_suite) instantiates every scenario as a
//! `#[test]`, each run once per seed of the harness's
//! [`RUN_SEEDS`](crate::harness::Harness::RUN_SEEDS) (the five
//! [`SEEDS`](crate::harness::SEEDS) on the simulator, once on real runtimes):
//!
//! ```ignore
//! use diorama_tests::{backends::memory, harness::SimHarness};
//! diorama_tests::dio_suite!(sim_memory, |seed| SimHarness::new(seed, memory()));
//! ```
//!
//! The macro's list is the one list of the suite: a new scenario is a
//! `pub fn` in its module plus one line there.

pub mod awaiting;
pub mod backpressure;
pub mod bus;
pub mod capabilities;
pub mod config;
pub mod drain;
pub mod isolation;
pub mod lens_bus;
pub mod live;
pub mod on_write;
pub mod queries;
pub mod refresh;
pub mod start;
mod support;
pub mod write_through;

/// Expands to one `#[test]` per Dio scenario, inside a module named
/// `$prefix`, each running the scenario once per seed of the harness's
/// [`RUN_SEEDS`](crate::harness::Harness::RUN_SEEDS) on a fresh harness
/// from `$make(seed)`.
///
/// `$make` is any callable `Fn(u64) -> H` with `H: Harness`; paths in it
/// resolve as at the invocation site. An optional
/// `ignore: [scenario = "reason", ..]` marks scenarios `#[ignore]` on this
/// harness only (a race a runtime exposes, with the reason); a scenario of
/// a known, reported bug is ignored everywhere until it is fixed.
#[macro_export]
macro_rules! dio_suite {
    ($prefix:ident, $make:expr $(, ignore: [$($ignored:ident = $why:literal),* $(,)?])? $(,)?) => {
        $crate::__suite_tests!([$] $prefix, $crate::harness::run_seeds, $make,
            [$crate::scenarios::dio];
            [$($($ignored = $why),*)?];
            // The one list of the suite.
            start::on_start_blocking_fills_cache,
            start::on_start_non_blocking_fills_cache_later,
            start::on_start_failure_is_reported,
            start::facade_reads_after_start_skip_master,
            queries::on_query_fires_once_per_cold_query,
            queries::concurrent_cold_reads_share_one_on_query,
            queries::racing_cold_reads_ask_once,
            queries::invalidation_during_on_query_keeps_query_cold,
            queries::get_of_missing_row_asks_on_query_by_id,
            on_write::on_write_receives_ops_in_order,
            on_write::failing_delete_all_reports_no_id,
            write_through::write_through_changes_master_then_cache,
            write_through::facade_writes_go_through_the_queue,
            write_through::write_through_failure_leaves_cache_unchanged,
            backpressure::full_queue_refuses_try_and_awaits_room,
            backpressure::every_writer_waiting_for_room_gets_a_freed_slot,
            awaiting::awaiting_writes_wait_for_room_and_write_through,
            drain::dropping_every_handle_drains_the_queue,
            drain::shutdown_waits_for_queued_writes,
            refresh::manual_refresh_publishes_outcome,
            refresh::scheduled_refresh_runs_on_time_and_survives_failures,
            refresh::a_dropped_refresh_still_ends_in_an_outcome,
            live::patched_and_removed_update_cache,
            live::handle_event_dispatches_to_on_event,
            live::handle_event_default_applies_changes,
            bus::slow_subscriber_learns_it_lagged,
            lens_bus::the_lens_bus_carries_every_dios_events_tagged_and_filterable,
            isolation::dios_do_not_see_each_others_events,
            isolation::make_dio_as_keeps_same_named_masters_apart,
            config::build_rejects_invalid_configurations,
            on_write::thousand_failing_writes_then_a_good_one,
            capabilities::facade_capabilities_are_honest,
        );
    };
}

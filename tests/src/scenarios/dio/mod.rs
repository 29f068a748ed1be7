//! The Dio acceptance scenarios of issue 4, written once for any
//! [`Harness`](crate::harness::Harness).
//!
//! [`dio_suite!`](crate::dio_suite) instantiates every scenario as a
//! `#[test]`, each run once per seed of the harness's
//! [`RUN_SEEDS`](crate::harness::Harness::RUN_SEEDS) (the five
//! [`SEEDS`](crate::harness::SEEDS) on the simulator, once on real runtimes):
//!
//! ```ignore
//! use diorama_tests::harness::SimHarness;
//! diorama_tests::dio_suite!(sim_memory, |seed| SimHarness::new(seed));
//! ```
//!
//! | issue 4 test | scenarios |
//! |---|---|
//! | 1 `on_start` fills the cache | [`on_start_blocking_fills_cache`], [`on_start_non_blocking_fills_cache_later`], [`on_start_failure_is_reported`] |
//! | 2 reads after start skip the master | [`facade_reads_after_start_skip_master`] |
//! | 3 `on_query` once per cold query | [`on_query_fires_once_per_cold_query`], [`concurrent_cold_reads_share_one_on_query`], [`racing_cold_reads_ask_once`], [`invalidation_during_on_query_keeps_query_cold`], [`get_of_missing_row_asks_on_query_by_id`] |
//! | 4 `on_write` order and failures | [`on_write_receives_ops_in_order`], [`failing_delete_all_reports_no_id`] |
//! | 5 write-through | [`write_through_changes_master_then_cache`], [`facade_writes_go_through_the_queue`], [`write_through_failure_leaves_cache_unchanged`] |
//! | 6 backpressure | [`full_queue_refuses_try_and_awaits_room`], [`awaiting_writes_wait_for_room_and_write_through`] |
//! | 7 drain, never drop | [`dropping_every_handle_drains_the_queue`], [`shutdown_waits_for_queued_writes`] |
//! | 8 refresh | [`manual_refresh_publishes_outcome`], [`scheduled_refresh_runs_on_time_and_survives_failures`], [`a_dropped_refresh_still_ends_in_an_outcome`] |
//! | 9 `patched` / `removed` | [`patched_and_removed_update_cache`] |
//! | 10 `handle_event` | [`handle_event_dispatches_to_on_event`], [`handle_event_default_applies_changes`] |
//! | 11 lagging subscriber | [`slow_subscriber_learns_it_lagged`] |
//! | 12 isolation | [`dios_do_not_see_each_others_events`], [`make_dio_as_keeps_same_named_masters_apart`] |
//! | 13 setup errors, failing callbacks | [`build_rejects_invalid_configurations`], [`thousand_failing_writes_then_a_good_one`] |
//! | facade: honest capabilities | [`facade_capabilities_are_honest`] |

mod awaiting;
mod backpressure;
mod bus;
mod capabilities;
mod config;
mod drain;
mod isolation;
mod live;
mod on_write;
mod queries;
mod refresh;
mod start;
mod support;
mod write_through;

pub use awaiting::awaiting_writes_wait_for_room_and_write_through;
pub use backpressure::full_queue_refuses_try_and_awaits_room;
pub use bus::slow_subscriber_learns_it_lagged;
pub use capabilities::facade_capabilities_are_honest;
pub use config::build_rejects_invalid_configurations;
pub use drain::{dropping_every_handle_drains_the_queue, shutdown_waits_for_queued_writes};
pub use isolation::{
    dios_do_not_see_each_others_events, make_dio_as_keeps_same_named_masters_apart,
};
pub use live::{
    handle_event_default_applies_changes, handle_event_dispatches_to_on_event,
    patched_and_removed_update_cache,
};
pub use on_write::{
    failing_delete_all_reports_no_id, on_write_receives_ops_in_order,
    thousand_failing_writes_then_a_good_one,
};
pub use queries::{
    concurrent_cold_reads_share_one_on_query, get_of_missing_row_asks_on_query_by_id,
    invalidation_during_on_query_keeps_query_cold, on_query_fires_once_per_cold_query,
    racing_cold_reads_ask_once,
};
pub use refresh::{
    a_dropped_refresh_still_ends_in_an_outcome, manual_refresh_publishes_outcome,
    scheduled_refresh_runs_on_time_and_survives_failures,
};
pub use start::{
    facade_reads_after_start_skip_master, on_start_blocking_fills_cache,
    on_start_failure_is_reported, on_start_non_blocking_fills_cache_later,
};
pub use write_through::{
    facade_writes_go_through_the_queue, write_through_changes_master_then_cache,
    write_through_failure_leaves_cache_unchanged,
};

/// Expands to one `#[test]` per Dio scenario, inside a module named
/// `$prefix`, each running the scenario once per seed of the harness's
/// [`RUN_SEEDS`](crate::harness::Harness::RUN_SEEDS) on a fresh harness
/// from `$make(seed)`.
///
/// `$make` is any callable `Fn(u64) -> H` with `H: Harness`; paths in it
/// resolve as at the invocation site.
#[macro_export]
macro_rules! dio_suite {
    ($prefix:ident, $make:expr $(,)?) => {
        $crate::dio_suite!(@tests $prefix, $make;
            on_start_blocking_fills_cache,
            on_start_non_blocking_fills_cache_later,
            on_start_failure_is_reported,
            facade_reads_after_start_skip_master,
            on_query_fires_once_per_cold_query,
            concurrent_cold_reads_share_one_on_query,
            racing_cold_reads_ask_once,
            invalidation_during_on_query_keeps_query_cold,
            get_of_missing_row_asks_on_query_by_id,
            on_write_receives_ops_in_order,
            failing_delete_all_reports_no_id,
            write_through_changes_master_then_cache,
            facade_writes_go_through_the_queue,
            write_through_failure_leaves_cache_unchanged,
            full_queue_refuses_try_and_awaits_room,
            awaiting_writes_wait_for_room_and_write_through,
            dropping_every_handle_drains_the_queue,
            shutdown_waits_for_queued_writes,
            manual_refresh_publishes_outcome,
            scheduled_refresh_runs_on_time_and_survives_failures,
            a_dropped_refresh_still_ends_in_an_outcome,
            patched_and_removed_update_cache,
            handle_event_dispatches_to_on_event,
            handle_event_default_applies_changes,
            slow_subscriber_learns_it_lagged,
            dios_do_not_see_each_others_events,
            make_dio_as_keeps_same_named_masters_apart,
            build_rejects_invalid_configurations,
            thousand_failing_writes_then_a_good_one,
            facade_capabilities_are_honest
        );
    };
    (@tests $prefix:ident, $make:expr; $($scenario:ident),+) => {
        mod $prefix {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[test]
                fn $scenario() {
                    $crate::harness::run_seeds($make, $crate::scenarios::dio::$scenario);
                }
            )+
        }
    };
}

//! The scenery acceptance scenarios of issue 5, written once for any
//! [`Harness`](crate::harness::Harness).
//!
//! [`scenery_suite!`](crate::scenery_suite) instantiates every scenario as a
//! `#[test]`, each run once per seed of the harness's
//! [`RUN_SEEDS`](crate::harness::Harness::RUN_SEEDS):
//!
//! ```ignore
//! use diorama_tests::harness::SimHarness;
//! diorama_tests::scenery_suite!(scenery_memory, SimHarness::new);
//! ```
//!
//! | area | scenarios |
//! |---|---|
//! | paged loads (tests 1–6) | [`open_then_scroll_loads_exactly_the_viewport`], [`a_burst_of_viewports_commits_only_the_last`], [`fetch_ranges_are_edge_anchored`], [`a_failing_chunk_changes_nothing_and_is_retried_on_demand_only`], [`unknown_totals_grow_and_stop_at_a_short_page`], [`a_source_promising_more_than_it_serves_is_capped`], [`a_single_row_event_updates_that_row_in_place`] |
//! | staleness (test 7) | [`rows_past_the_ttl_read_stale_and_are_refetched_once_when_reached`], [`invalidation_refetches_the_viewport_in_place_with_one_repaint`], [`a_stale_row_being_refetched_reads_loading`] |
//! | optimistic writes (test 8) | [`optimistic_writes_show_pending_then_fresh_or_the_failure`], [`record_scenery_shows_its_own_writes_pending_then_settled`], [`pending_rows_name_their_dirty_fields`] |
//! | paged sort and search (tests 9–10) | [`paged_sort_refills_the_window_in_the_new_order`], [`sorting_a_paged_view_without_an_ordering_master_is_refused`], [`paged_search_passes_the_query_to_the_chunk_callback`], [`a_query_change_loads_the_latest_requested_viewport_only`], [`a_viewport_past_the_end_of_a_new_query_drops_the_old_rows`] |
//! | local views (test 11) | [`local_sort_is_numeric_nulls_last_ties_by_id_and_search_reaches_nested_text`], [`local_views_re_place_a_changed_row_where_the_sort_puts_it`] |
//! | record and value sceneries (test 12) | [`record_scenery_fetches_on_a_miss_and_follows_its_row_only`], [`record_scenery_with_a_start_value_does_not_fetch`], [`views_over_the_cache_let_on_query_warm_them_on_open`], [`value_scenery_sums_ints_and_floats_and_bumps_only_on_change`], [`other_aggregates`] |
//! | restart and lifetimes (test 13) | [`a_reopen_shows_rows_at_their_positions_before_any_chunk_call`], [`a_warm_open_paints_before_asking_for_the_total`], [`dropping_a_scenery_ends_its_tasks_and_sceneries_do_not_pin_the_dio`], [`a_push_after_the_scenery_dropped_is_refused`] |

mod freshness;
mod lifetime;
mod local;
mod paged;
mod query;
mod record;
mod restart;
mod support;
mod value;
mod writes;

pub use freshness::{
    a_stale_row_being_refetched_reads_loading,
    invalidation_refetches_the_viewport_in_place_with_one_repaint,
    rows_past_the_ttl_read_stale_and_are_refetched_once_when_reached,
};
pub use lifetime::{
    a_push_after_the_scenery_dropped_is_refused,
    dropping_a_scenery_ends_its_tasks_and_sceneries_do_not_pin_the_dio,
};
pub use local::{
    local_sort_is_numeric_nulls_last_ties_by_id_and_search_reaches_nested_text,
    local_views_re_place_a_changed_row_where_the_sort_puts_it,
};
pub use paged::{
    a_burst_of_viewports_commits_only_the_last,
    a_failing_chunk_changes_nothing_and_is_retried_on_demand_only,
    a_single_row_event_updates_that_row_in_place, a_source_promising_more_than_it_serves_is_capped,
    fetch_ranges_are_edge_anchored, open_then_scroll_loads_exactly_the_viewport,
    paged_sort_refills_the_window_in_the_new_order,
    sorting_a_paged_view_without_an_ordering_master_is_refused,
    unknown_totals_grow_and_stop_at_a_short_page,
};
pub use query::{
    a_query_change_loads_the_latest_requested_viewport_only,
    a_sort_during_the_debounce_keeps_the_requested_viewport,
    a_viewport_past_the_end_of_a_new_query_drops_the_old_rows,
    paged_search_passes_the_query_to_the_chunk_callback,
};
pub use record::{
    record_scenery_fetches_on_a_miss_and_follows_its_row_only,
    record_scenery_with_a_start_value_does_not_fetch,
    views_over_the_cache_let_on_query_warm_them_on_open,
};
pub use restart::{
    a_reopen_shows_rows_at_their_positions_before_any_chunk_call,
    a_warm_open_paints_before_asking_for_the_total,
};
pub use value::{other_aggregates, value_scenery_sums_ints_and_floats_and_bumps_only_on_change};
pub use writes::{
    optimistic_writes_show_pending_then_fresh_or_the_failure, pending_rows_name_their_dirty_fields,
    record_scenery_shows_its_own_writes_pending_then_settled,
};

/// Expands to one `#[test]` per scenery scenario, inside a module named
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
macro_rules! scenery_suite {
    ($prefix:ident, $make:expr $(, ignore: [$($ignored:ident = $why:literal),* $(,)?])? $(,)?) => {
        $crate::scenery_suite!(@tests [$] $prefix, $make;
            [$($($ignored = $why),*)?];
            open_then_scroll_loads_exactly_the_viewport,
            a_burst_of_viewports_commits_only_the_last,
            fetch_ranges_are_edge_anchored,
            a_failing_chunk_changes_nothing_and_is_retried_on_demand_only,
            unknown_totals_grow_and_stop_at_a_short_page,
            a_source_promising_more_than_it_serves_is_capped,
            a_single_row_event_updates_that_row_in_place,
            rows_past_the_ttl_read_stale_and_are_refetched_once_when_reached,
            invalidation_refetches_the_viewport_in_place_with_one_repaint,
            a_stale_row_being_refetched_reads_loading,
            optimistic_writes_show_pending_then_fresh_or_the_failure,
            record_scenery_shows_its_own_writes_pending_then_settled,
            pending_rows_name_their_dirty_fields,
            paged_sort_refills_the_window_in_the_new_order,
            sorting_a_paged_view_without_an_ordering_master_is_refused,
            paged_search_passes_the_query_to_the_chunk_callback,
            a_query_change_loads_the_latest_requested_viewport_only,
            a_sort_during_the_debounce_keeps_the_requested_viewport,
            a_viewport_past_the_end_of_a_new_query_drops_the_old_rows,
            local_sort_is_numeric_nulls_last_ties_by_id_and_search_reaches_nested_text,
            local_views_re_place_a_changed_row_where_the_sort_puts_it,
            record_scenery_fetches_on_a_miss_and_follows_its_row_only,
            record_scenery_with_a_start_value_does_not_fetch,
            views_over_the_cache_let_on_query_warm_them_on_open,
            value_scenery_sums_ints_and_floats_and_bumps_only_on_change,
            other_aggregates,
            a_reopen_shows_rows_at_their_positions_before_any_chunk_call,
            a_warm_open_paints_before_asking_for_the_total,
            dropping_a_scenery_ends_its_tasks_and_sceneries_do_not_pin_the_dio,
            a_push_after_the_scenery_dropped_is_refused
        );
    };
    // `$d` is a `$` token, so the inner macro can have metavariables of its own.
    (@tests [$d:tt] $prefix:ident, $make:expr;
        [$($ignored:ident = $why:literal),*];
        $($scenario:ident),+) => {
        mod $prefix {
            #[allow(unused_imports)]
            use super::*;

            // One arm per ignored scenario (the first match wins), then
            // the plain test.
            macro_rules! scenario_test {
                $(
                    ($ignored) => {
                        #[test]
                        #[ignore = $why]
                        fn $ignored() {
                            $crate::harness::run_seeds($make, $crate::scenarios::scenery::$ignored);
                        }
                    };
                )*
                ($d name:ident) => {
                    #[test]
                    fn $d name() {
                        $crate::harness::run_seeds($make, $crate::scenarios::scenery::$d name);
                    }
                };
            }

            $( scenario_test!($scenario); )+
        }
    };
}

//! The scenery acceptance scenarios of issue 5, written once for any
//! [`Harness`](crate::harness::Harness): one module per area (its docs name
//! the tests of the issue it covers), each scenario a `pub fn(&H)`.
//!
//! [`scenery_suite!`](crate::scenery_suite) instantiates every scenario as a
//! `#[test]`, each run once per seed of the harness's
//! [`RUN_SEEDS`](crate::harness::Harness::RUN_SEEDS):
//!
//! ```ignore
//! use diorama_tests::{backends::memory, harness::SimHarness};
//! diorama_tests::scenery_suite!(scenery_memory, |seed| SimHarness::new(seed, memory()));
//! ```
//!
//! The macro's list is the one list of the suite: a new scenario is a
//! `pub fn` in its module plus one line there.

pub mod detail;
pub mod freshness;
pub mod lifetime;
pub mod live;
pub mod local;
pub mod paged;
pub mod query;
pub mod races;
pub mod record;
pub mod restart;
mod support;
pub mod value;
pub mod writes;

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
        $crate::__suite_tests!([$] $prefix, $crate::harness::run_seeds, $make,
            [$crate::scenarios::scenery];
            [$($($ignored = $why),*)?];
            // The one list of the suite.
            paged::open_then_scroll_loads_exactly_the_viewport,
            paged::a_burst_of_viewports_commits_only_the_last,
            paged::a_zero_debounce_loads_without_waiting_for_a_timer,
            paged::fetch_ranges_are_edge_anchored,
            paged::a_failing_chunk_changes_nothing_and_is_retried_on_demand_only,
            paged::unknown_totals_grow_and_stop_at_a_short_page,
            paged::a_source_promising_more_than_it_serves_is_capped,
            paged::a_single_row_event_updates_that_row_in_place,
            freshness::rows_past_the_ttl_read_stale_and_are_refetched_once_when_reached,
            freshness::invalidation_refetches_the_viewport_in_place_with_one_repaint,
            freshness::a_stale_row_being_refetched_reads_loading,
            writes::optimistic_writes_show_pending_then_fresh_or_the_failure,
            writes::record_scenery_shows_its_own_writes_pending_then_settled,
            writes::pending_rows_name_their_dirty_fields,
            paged::paged_sort_refills_the_window_in_the_new_order,
            paged::sorting_a_paged_view_without_an_ordering_master_is_refused,
            query::paged_search_passes_the_query_to_the_chunk_callback,
            query::a_query_change_loads_the_latest_requested_viewport_only,
            query::a_sort_during_the_debounce_keeps_the_requested_viewport,
            query::a_viewport_past_the_end_of_a_new_query_drops_the_old_rows,
            local::local_sort_is_numeric_nulls_last_ties_by_id_and_search_reaches_nested_text,
            local::local_views_re_place_a_changed_row_where_the_sort_puts_it,
            record::record_scenery_fetches_on_a_miss_and_follows_its_row_only,
            record::record_scenery_with_a_start_value_does_not_fetch,
            record::views_over_the_cache_let_on_query_warm_them_on_open,
            value::value_scenery_sums_ints_and_floats_and_bumps_only_on_change,
            value::other_aggregates,
            restart::a_reopen_shows_rows_at_their_positions_before_any_chunk_call,
            restart::a_warm_open_paints_before_asking_for_the_total,
            lifetime::dropping_a_scenery_ends_its_tasks_and_sceneries_do_not_pin_the_dio,
            lifetime::a_push_after_the_scenery_dropped_is_refused,
            races::a_change_arriving_during_a_chunk_load_wins_over_the_chunk,
            races::a_removal_during_a_chunk_load_is_not_undone_by_the_chunk,
            races::a_change_reported_during_a_write_leaves_the_row_to_be_refetched,
            races::a_row_entering_a_filter_during_a_chunk_load_is_not_lost,
            live::a_non_blocking_on_start_reaches_views_opened_before_it_finished,
            live::pending_writes_show_before_the_write_call_returns,
            live::an_empty_page_past_the_known_rows_finds_the_real_end,
            live::an_overstated_total_is_corrected_without_refetching_a_window,
            live::scrolling_chunk_by_chunk_never_loads_a_window_twice,
            live::huge_ranges_and_indices_are_clamped_or_refused,
            live::a_sorted_paged_view_moves_an_edited_row_where_its_key_falls,
            live::a_failed_write_moves_its_row_back,
            live::rows_leave_and_enter_a_filtered_paged_view,
            live::a_query_change_marks_the_old_order_until_the_new_lands,
            live::local_sceneries_of_one_query_share_one_view,
            live::aggregates_follow_row_changes_as_a_fresh_scan_would,
            live::a_filtered_local_view_over_many_unmatched_rows_opens,
            detail::summary_rows_read_incomplete_until_a_viewport_reaches_them_then_fresh,
            detail::details_are_single_flight_across_sceneries_and_bounded,
            detail::a_dropped_scenery_withdraws_its_queued_detail_ids,
            detail::a_failed_detail_shows_on_its_row_and_is_retried_when_reached_again,
            detail::a_reopen_shows_hydrated_rows_without_calls,
            detail::a_row_already_hydrated_in_the_cache_is_not_called_for_again,
        );
    };
}

//! The model driven directly, with no runtime: a small fake driver plays
//! the master (loads answered from a `Vec` in the query's order) and the
//! cache (no persisted positions).

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;
use core::time::Duration;

use super::super::super::presenting::{Hydration, RowFacts};
use super::super::super::sorted::order;
use super::super::super::{EnrichedRecord, RowStatus};
use super::super::local::matches;
use super::*;
use crate::cache::CachedRow;
use crate::dio::PendingWrite;
use crate::error::{Error, ErrorKind};
use crate::record;
use crate::runtime::{Instant, Timestamp};
use crate::value::Record;
use crate::vista::{CmpOp, Condition, Sort, SortDir};

fn at(ms: u64) -> Instant {
    Instant::from_origin(Duration::from_millis(ms))
}

fn ts(ms: u64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn config(debounce_ms: u64) -> ModelConfig {
    ModelConfig {
        scenery_id: 7,
        page_size: 10,
        retain_rows: 100,
        paged: true,
        debounce: Duration::from_millis(debounce_ms),
        details: false,
        total_provider: false,
    }
}

fn by_price() -> Query {
    Query {
        sort: Some(Sort {
            field: "price".to_string(),
            dir: SortDir::Asc,
        }),
        ..Query::default()
    }
}

fn product(price: i64) -> Record {
    record! { "price" => price }
}

/// The fake driver: the master's rows, what it was asked, and loads held
/// back when `hold_loads` (to land them later, in any order).
struct Bench {
    model: TableModel,
    master: Vec<(String, Record)>,
    hold_loads: bool,
    /// Each chunk states the master's total (as a counting master does).
    counts: bool,
    held: Vec<(u64, Range<usize>, Query)>,
    loads: Vec<Range<usize>>,
    bumps: usize,
    events: Vec<DioEvent>,
    forgotten: usize,
}

impl Bench {
    fn new(config: ModelConfig, query: Query, master: Vec<(String, Record)>) -> Self {
        Bench {
            model: TableModel::new(config, query),
            master,
            hold_loads: false,
            counts: false,
            held: Vec::new(),
            loads: Vec::new(),
            bumps: 0,
            events: Vec::new(),
            forgotten: 0,
        }
    }

    fn prices(n: usize) -> Vec<(String, Record)> {
        (0..n)
            .map(|i| (format!("p{i:03}"), product(i as i64 * 10)))
            .collect()
    }

    /// The master's rows of `query`, in its order.
    fn ordered(&self, query: &Query) -> Vec<Arc<EnrichedRecord>> {
        let mut rows: Vec<Arc<EnrichedRecord>> = self
            .master
            .iter()
            .filter(|(_, record)| matches(query, record))
            .map(|(id, record)| Arc::new(EnrichedRecord::fresh(id.into(), record.clone(), None)))
            .collect();
        rows.sort_by(|a, b| order(query.sort.as_ref(), a, b));
        rows
    }

    /// Execute every action asked for, landing loads at once unless held.
    fn run(&mut self) {
        while let Some(action) = self.model.poll_action() {
            match action {
                Action::Restore { epoch, then, .. } => {
                    self.model.handle_restored(epoch, Vec::new(), then)
                }
                Action::RestoreReplacing { epoch, .. } => {
                    self.model.handle_restored_replacing(epoch, None)
                }
                Action::Load { id, range, query } => {
                    self.loads.push(range.clone());
                    if self.hold_loads {
                        self.held.push((id, range, query));
                    } else {
                        self.answer(id, range, &query, None);
                    }
                }
                Action::ForgetPositions { .. } => self.forgotten += 1,
                Action::AskTotal { .. } | Action::RequestDetails { .. } => {}
                Action::Publish(event) => self.events.push(event),
                Action::Bump => self.bumps += 1,
            }
        }
    }

    /// Answer load `id` from the master (or fail it with `error`).
    fn answer(&mut self, id: u64, range: Range<usize>, query: &Query, error: Option<Error>) {
        let outcome = match error {
            Some(error) => Err(error),
            None => {
                let rows = self.ordered(query);
                if self.counts {
                    let _ = self.model.handle_chunk_total(id, rows.len());
                }
                for (index, row) in rows.iter().enumerate() {
                    if range.contains(&index) {
                        let _ = self.model.handle_chunk_row(id, index, row.clone());
                    }
                }
                Ok(())
            }
        };
        if let Some(landing) = self.model.handle_chunk_returned(id, outcome) {
            self.model
                .handle_chunk_stored(landing.load, Ok(BTreeSet::new()), false);
        }
    }

    /// Land the held loads, oldest first.
    fn land_held(&mut self) {
        while !self.held.is_empty() {
            let (id, range, query) = self.held.remove(0);
            self.answer(id, range, &query, None);
            self.run();
        }
    }

    fn viewport(&mut self, range: Range<usize>, now: Instant) {
        self.model.handle_viewport(range, false, now);
        self.model.handle_timeout(now);
        self.run();
    }

    fn ids(&self, range: Range<usize>) -> Vec<Option<String>> {
        range
            .map(|i| self.model.view().row(i).map(|row| row.id.to_string()))
            .collect()
    }

    fn statuses(&self, range: Range<usize>) -> Vec<Option<RowStatus>> {
        range
            .map(|i| self.model.view().row(i).map(|row| row.status.clone()))
            .collect()
    }

    /// Write `record` to `id` on the master and tell the model, as the
    /// driver would after a change it was not told of beforehand landed
    /// in the cache.
    fn write(&mut self, id: &str, record: Option<Record>) {
        self.land(id, record, Cause::Other);
    }

    /// [`write`](Self::write), the change coming by `cause`.
    fn land(&mut self, id: &str, record: Option<Record>, cause: Cause) {
        self.master.retain(|(i, _)| i != id);
        if let Some(record) = record.clone() {
            self.master.push((id.to_string(), record));
        }
        let Some(record) = record else {
            // The cache holds no row any more: the driver drops it.
            self.model.handle_row_dropped(id);
            self.run();
            return;
        };
        let facts = facts(Some(record), None);
        self.model.handle_row_changed(
            id,
            Changed {
                facts,
                cause,
                settled: true,
                confirmed: None,
            },
        );
        self.run();
    }
}

impl Bench {
    /// 100 coloured rows sorted by price, their count known, scrolled to
    /// `20..30`.
    fn scrolled_by_price() -> Self {
        let mut bench = Bench::new(config(0), by_price(), coloured(100));
        bench.model.handle_total(0, 100);
        bench.viewport(20..30, at(0));
        bench
    }

    /// Tell the model a write to `id` is being announced, with `facts`
    /// and, when it is the row's only write, the master's value.
    /// Whether the view changed.
    fn announce(
        &mut self,
        id: &str,
        facts: RowFacts<'static>,
        confirmed: Option<Arc<EnrichedRecord>>,
    ) -> bool {
        let changed = self.model.handle_row_changed(
            id,
            Changed {
                facts,
                cause: Cause::Announced,
                settled: false,
                confirmed,
            },
        );
        self.run();
        changed
    }

    /// Write `record` to `id` as the Dio does: announced first, as the
    /// row's only pending write with the master's value read from the
    /// cache, then landed.
    fn write_through(&mut self, id: &str, record: Record) {
        let old = self
            .master
            .iter()
            .find(|(row, _)| row == id)
            .map(|(_, old)| old.clone());
        let confirmed = old
            .clone()
            .map(|old| Arc::new(EnrichedRecord::fresh(id.into(), old, Some(ts(1)))));
        let pending = PendingWrite {
            record: Some(record.clone()),
            count: 1,
            dirty_fields: None,
        };
        self.announce(id, facts(old, Some(pending)), confirmed);
        self.land(id, Some(record), Cause::Landed);
    }

    /// Patch `fields` of row `id` as the Dio does when the row is not
    /// cached: announced with only the patch's fields known, then landed
    /// with the master's whole row.
    fn patch_uncached(&mut self, id: &str, fields: Record) {
        let mut whole = self
            .master
            .iter()
            .find(|(row, _)| row == id)
            .map(|(_, old)| old.clone())
            .unwrap_or_default();
        whole.merge(&fields);
        let pending = PendingWrite {
            dirty_fields: Some(fields.iter().map(|(field, _)| field.to_string()).collect()),
            record: Some(fields),
            count: 1,
        };
        self.announce(id, facts(None, Some(pending)), None);
        self.land(id, Some(whole), Cause::Landed);
    }

    /// The loaded rows with their indices, in index order.
    fn loaded(&self) -> Vec<(usize, Arc<EnrichedRecord>)> {
        self.model
            .view()
            .rows
            .iter()
            .map(|(i, row)| (i, row.clone()))
            .collect()
    }

    /// Every loaded row is the master's row at its index, and none reads
    /// stale (nothing was revalidated).
    fn assert_loaded_rows_are_the_masters(&self, query: &Query) {
        let ordered = self.ordered(query);
        let loaded = self.loaded();
        assert!(!loaded.is_empty());
        for (i, row) in loaded {
            assert_eq!(row.id, ordered[i].id, "index {i}");
            assert_eq!(row.record, ordered[i].record, "index {i}");
            assert_eq!(row.status, RowStatus::Fresh, "index {i}");
        }
    }
}

/// `n` rows `p000..` priced 0, 10, … and red.
fn coloured(n: usize) -> Vec<(String, Record)> {
    (0..n)
        .map(|i| {
            let price = i as i64 * 10;
            (
                format!("p{i:03}"),
                record! { "price" => price, "colour" => "red" },
            )
        })
        .collect()
}

fn facts(cached: Option<Record>, pending: Option<PendingWrite>) -> RowFacts<'static> {
    RowFacts {
        cached: cached.map(|record| CachedRow::complete(record, Some(ts(1)))),
        pending,
        failure: None,
        expired: false,
        shown: None,
        hydration: Hydration::Off,
    }
}

#[test]
fn a_zero_debounce_commits_at_once_and_restores_before_loading() {
    let mut model = TableModel::new(config(0), Query::default());
    model.handle_viewport(0..10, false, at(5));
    assert_eq!(model.poll_timeout(), Some(at(5)));
    assert_eq!(model.handle_timeout(at(5)), Some(0..10));
    assert!(matches!(
        model.poll_action(),
        Some(Action::Publish(DioEvent::ViewportChanged { scenery: 7, ref range })) if *range == (0..10)
    ));
    let Some(Action::Restore {
        epoch, range, then, ..
    }) = model.poll_action()
    else {
        panic!("the persisted positions are read first");
    };
    assert_eq!(range, 0..10, "the viewport");
    assert!(
        model.poll_action().is_none(),
        "nothing loads before the restore answers"
    );
    model.handle_restored(epoch, Vec::new(), then);
    assert!(
        matches!(model.poll_action(), Some(Action::Load { id: 1, ref range, .. }) if *range == (0..10))
    );
    assert_eq!(model.loads_in_flight(), 1);
}

#[test]
fn a_debounce_commits_only_the_last_viewport_of_a_burst() {
    let mut model = TableModel::new(config(50), Query::default());
    model.handle_viewport(0..10, false, at(0));
    model.handle_viewport(30..40, false, at(20));
    assert_eq!(
        model.handle_timeout(at(60)),
        None,
        "40 ms after the last request"
    );
    assert_eq!(model.poll_timeout(), Some(at(70)));
    model.handle_viewport(60..70, false, at(65));
    assert_eq!(model.handle_timeout(at(115)), Some(60..70));
    assert_eq!(model.committed(), Some(60..70));
    assert_eq!(model.poll_timeout(), None);
}

#[test]
fn a_window_in_flight_is_never_asked_for_twice() {
    let mut bench = Bench::new(config(0), Query::default(), Bench::prices(100));
    bench.hold_loads = true;
    bench.viewport(0..10, at(0));
    bench.viewport(0..10, at(1));
    bench.viewport(5..15, at(2));
    for (i, a) in bench.loads.iter().enumerate() {
        for b in &bench.loads[i + 1..] {
            assert!(
                a.end <= b.start || b.end <= a.start,
                "{a:?} and {b:?} overlap"
            );
        }
    }
    assert!(bench.loads.iter().any(|load| load.contains(&14)));
    bench.land_held();
    assert_eq!(
        bench.ids(0..2),
        vec![Some("p000".into()), Some("p001".into())]
    );
    assert_eq!(bench.statuses(0..1), vec![Some(RowStatus::Fresh)]);
    assert!(
        bench
            .events
            .iter()
            .any(|event| matches!(event, DioEvent::RangeLoaded { range, .. } if *range == (0..10)))
    );
}

#[test]
fn a_row_outside_its_load_is_refused_and_a_void_load_is_cancelled() {
    let mut bench = Bench::new(config(0), Query::default(), Bench::prices(100));
    bench.hold_loads = true;
    bench.viewport(0..10, at(0));
    let (id, _, _) = bench.held[0].clone();
    let row = Arc::new(EnrichedRecord::fresh("x".into(), product(1), None));
    let error = bench
        .model
        .handle_chunk_row(id, 1 << 40, row.clone())
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    bench.model.handle_query(by_price(), None, at(1));
    let error = bench.model.handle_chunk_row(id, 0, row).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Cancelled);
}

#[test]
fn a_failed_chunk_puts_back_what_it_replaced() {
    let mut bench = Bench::new(config(0), Query::default(), Bench::prices(100));
    bench.viewport(0..10, at(0));
    bench.model.handle_invalidated();
    bench.hold_loads = true;
    bench.run();
    let (id, range, query) = bench.held.remove(0);
    assert_eq!(
        bench.statuses(0..1),
        vec![Some(RowStatus::Loading)],
        "a stale row being refetched"
    );
    bench.answer(
        id,
        range,
        &query,
        Some(Error::new(ErrorKind::Failed, "down")),
    );
    bench.run();
    assert_eq!(bench.statuses(0..1), vec![Some(RowStatus::Stale)]);
    assert_eq!(bench.model.counters().chunk_failures, 1);
    assert!(
        bench
            .events
            .iter()
            .any(|event| matches!(event, DioEvent::LoadFailed { .. }))
    );
}

#[test]
fn a_query_change_keeps_the_old_order_marked_until_the_new_lands() {
    let mut master = Bench::prices(30);
    master.reverse();
    let mut bench = Bench::new(config(0), Query::default(), master);
    bench.viewport(0..10, at(0));
    bench.hold_loads = true;
    assert!(bench.model.handle_query(by_price(), None, at(1)));
    bench.run();
    assert_eq!(bench.statuses(0..1), vec![Some(RowStatus::Loading)]);
    assert_eq!(bench.model.view().shown_query, Query::default());
    bench.model.handle_timeout(at(1));
    bench.run();
    bench.land_held();
    assert_eq!(bench.model.view().shown_query, by_price());
    assert_eq!(bench.statuses(0..1), vec![Some(RowStatus::Fresh)]);
    assert_eq!(bench.ids(0..1), vec![Some("p000".into())]);
}

#[test]
fn an_empty_page_past_the_rows_bounds_the_set() {
    let mut bench = Bench::new(config(0), Query::default(), Bench::prices(25));
    bench.viewport(50..60, at(0));
    bench.run();
    assert!(
        bench.model.view().extent.row_count() <= 25,
        "an empty page never counts rows that are not there"
    );
    // The view probes from the known rows to the end and finds it.
    bench.viewport(0..10, at(1));
    bench.viewport(20..30, at(2));
    assert_eq!(bench.model.view().extent.row_count(), 25);
    assert!(!bench.model.view().extent.has_more());
}

#[test]
fn a_pending_write_shows_at_once_with_its_value() {
    let mut bench = Bench::new(config(0), Query::default(), Bench::prices(20));
    bench.viewport(0..10, at(0));
    let pending = PendingWrite {
        record: Some(product(5)),
        count: 1,
        dirty_fields: Some(vec!["price".into()]),
    };
    let changed = bench.model.handle_row_changed(
        "p003",
        Changed {
            facts: facts(Some(product(30)), Some(pending)),
            cause: Cause::Other,
            settled: false,
            confirmed: None,
        },
    );
    assert!(changed);
    let row = bench.model.view().row(3).cloned().expect("shown");
    assert_eq!(row.status, RowStatus::PendingWrite);
    assert_eq!(row.record, product(5));
    assert!(matches!(bench.model.poll_action(), Some(Action::Bump)));
}

#[test]
fn an_edited_row_moves_to_where_its_key_falls() {
    let mut bench = Bench::new(config(0), by_price(), Bench::prices(20));
    bench.viewport(0..10, at(0));
    // p007 (70) becomes 15: between p001 (10) and p002 (20).
    bench.write("p007", Some(product(15)));
    let ids = bench.ids(0..9);
    assert_eq!(ids[2], Some("p007".into()));
    assert_eq!(ids[3], Some("p002".into()));
    assert_eq!(
        ids[7],
        Some("p006".into()),
        "the rows between shifted by one"
    );
    assert_eq!(ids[8], Some("p008".into()));
    assert_eq!(bench.forgotten, 1, "the stored order is forgotten");
}

#[test]
fn an_edited_row_leaving_the_loaded_window_is_not_shown_twice() {
    let mut bench = Bench::new(config(0), by_price(), Bench::prices(100));
    bench.model.handle_total(0, 100);
    bench.viewport(0..10, at(0));
    // The cheapest row becomes the dearest: past everything loaded.
    bench.write("p000", Some(product(99_999)));
    let shown: Vec<String> = bench
        .model
        .view()
        .rows
        .iter()
        .map(|(_, row)| row.id.to_string())
        .collect();
    assert_eq!(shown.iter().filter(|id| *id == "p000").count(), 0);
    assert_eq!(bench.ids(0..1), vec![Some("p001".into())]);
    assert_eq!(
        bench.model.view().extent.row_count(),
        100,
        "the count is kept"
    );
}

#[test]
fn rows_leave_and_enter_a_filter() {
    let query = Query {
        conditions: vec![Condition {
            field: "price".to_string(),
            op: CmpOp::Lt,
            value: 100.into(),
        }],
        ..by_price()
    };
    let mut bench = Bench::new(config(0), query, Bench::prices(20));
    bench.viewport(0..10, at(0));
    assert_eq!(bench.model.view().extent.row_count(), 10);
    bench.write("p004", Some(product(500)));
    assert_eq!(bench.model.view().extent.row_count(), 9, "it left");
    assert_eq!(bench.model.view().index_of("p004"), None);
    bench.write("p015", Some(product(1)));
    assert_eq!(bench.model.view().extent.row_count(), 10, "it entered");
    assert_eq!(
        bench.model.view().index_of("p015"),
        Some(1),
        "after p000 (0)"
    );
}

#[test]
fn a_row_inserted_while_a_chunk_counts_the_set_is_not_lost_from_the_count() {
    let mut bench = Bench::new(config(0), by_price(), Bench::prices(100));
    bench.counts = true;
    bench.viewport(0..10, at(0));
    assert_eq!(bench.model.view().extent.row_count(), 100);
    // A chunk deep in the set goes out and counts the set as it is now...
    bench.hold_loads = true;
    bench.viewport(50..60, at(1));
    let (id, range, query) = bench.held.remove(0);
    let before_insert = bench.ordered(&query);
    // ...a new row arrives meanwhile (its event counts it)...
    bench.master.push(("new".to_string(), product(-5)));
    bench.model.handle_row_changed(
        "new",
        Changed {
            facts: facts(Some(product(-5)), None),
            cause: Cause::Inserted,
            settled: true,
            confirmed: None,
        },
    );
    bench.run();
    assert_eq!(bench.model.view().extent.row_count(), 101);
    // ...and the chunk lands with the total it counted before it.
    bench
        .model
        .handle_chunk_total(id, before_insert.len())
        .unwrap();
    for (index, row) in before_insert.iter().enumerate() {
        if range.contains(&index) {
            bench
                .model
                .handle_chunk_row(id, index, row.clone())
                .unwrap();
        }
    }
    let landing = bench.model.handle_chunk_returned(id, Ok(())).unwrap();
    bench
        .model
        .handle_chunk_stored(landing.load, Ok(BTreeSet::new()), false);
    bench.hold_loads = false;
    bench.run();
    assert_eq!(
        bench.model.view().extent.row_count(),
        101,
        "the set is read again, not counted as the chunk found it"
    );
    assert_eq!(
        bench.ids(50..51),
        vec![Some(bench.ordered(&by_price())[50].id.to_string())]
    );
}

#[test]
fn rows_past_their_ttl_read_stale() {
    let mut bench = Bench::new(config(0), Query::default(), Vec::new());
    let mut model = TableModel::new(config(0), Query::default());
    let row = |id: &str, fetched: u64| {
        Arc::new(EnrichedRecord::fresh(
            id.into(),
            product(1),
            Some(ts(fetched)),
        ))
    };
    model.handle_viewport(0..10, false, at(0));
    model.handle_timeout(at(0));
    bench.model = model;
    bench.hold_loads = true;
    bench.run();
    let (id, _, _) = bench.held.remove(0);
    bench
        .model
        .handle_chunk_row(id, 0, row("a", 1_000))
        .unwrap();
    bench
        .model
        .handle_chunk_row(id, 1, row("b", 5_000))
        .unwrap();
    let landing = bench.model.handle_chunk_returned(id, Ok(())).unwrap();
    bench
        .model
        .handle_chunk_stored(landing.load, Ok(BTreeSet::new()), false);
    let next = bench.model.handle_ttl(ts(11_000), Duration::from_secs(10));
    assert_eq!(
        bench.statuses(0..2),
        vec![Some(RowStatus::Stale), Some(RowStatus::Fresh)]
    );
    assert_eq!(next, Duration::from_secs(4), "until b ages");
}

proptest::proptest! {
    /// After any sequence of writes on a sorted paged view, the loaded rows
    /// are in order and unique, and once revalidated (the viewport loaded
    /// again) they equal the master's order for that window.
    #[test]
    fn loaded_rows_stay_ordered_unique_and_match_the_master_once_revalidated(
        n in 5usize..60,
        start in 0usize..40,
        writes in proptest::collection::vec((0usize..60, proptest::option::of(-50i64..700)), 1..25),
    ) {
        let mut bench = Bench::new(config(0), by_price(), Bench::prices(n));
        let window = start.min(n - 1)..(start + 10).min(n);
        bench.viewport(window.clone(), at(0));
        for (step, (pick, price)) in writes.into_iter().enumerate() {
            let id = format!("p{:03}", pick % n);
            let record = price.map(product);
            if record.is_none() && bench.master.len() <= 1 {
                continue;
            }
            bench.write(&id, record);
            let held = bench.loaded();
            for pair in held.windows(2) {
                proptest::prop_assert!(
                    order(Some(by_price().sort.as_ref().unwrap()), &pair[0].1, &pair[1].1)
                        == core::cmp::Ordering::Less,
                    "in order and unique after write {}", step
                );
            }
            let ids: BTreeSet<&str> = held.iter().map(|(_, row)| row.id.as_str()).collect();
            proptest::prop_assert_eq!(ids.len(), held.len(), "no row shown twice");
        }
        // Revalidate: everything read again from the master.
        bench.model.handle_invalidated();
        bench.run();
        let truth = bench.ordered(&by_price());
        let window = window.start.min(truth.len())..window.end.min(truth.len());
        for i in window {
            let shown = bench.model.view().row(i).map(|row| row.id.to_string());
            proptest::prop_assert_eq!(shown, Some(truth[i].id.to_string()), "row {}", i);
        }
    }
}

proptest::proptest! {
    /// Writes announced with the master's value of their row (as the Dio
    /// announces a row's only write), on a sorted and filtered paged view:
    /// after each one lands, every loaded row is the master's row at its
    /// index, fresh — moved exactly, never revalidated.
    #[test]
    fn writes_with_known_master_values_keep_the_loaded_rows_the_masters(
        n in 5usize..60,
        start in 0usize..40,
        // `None`: the colour changes, the price stays (`true`: patched
        // while the row is not cached).
        writes in proptest::collection::vec(
            (0usize..60, proptest::option::of(-50i64..700), proptest::bool::ANY),
            1..25,
        ),
    ) {
        let query = Query {
            conditions: vec![Condition {
                field: "price".to_string(),
                op: CmpOp::Lt,
                value: 400.into(),
            }],
            ..by_price()
        };
        let mut bench = Bench::new(config(0), query.clone(), coloured(n));
        let members = bench.ordered(&query).len();
        bench.viewport(start.min(members.saturating_sub(1))..start + 10, at(0));
        for (pick, price, uncached) in writes {
            let id = format!("p{:03}", pick % n);
            match price {
                Some(price) => {
                    bench.write_through(&id, record! { "price" => price, "colour" => "red" });
                }
                // A loaded row is cached.
                None if uncached && bench.model.view().index_of(&id).is_none() => {
                    bench.patch_uncached(&id, record! { "colour" => "blue" })
                }
                None => {
                    let (_, old) = bench.master.iter().find(|(row, _)| *row == id).unwrap();
                    let record =
                        record! { "price" => old.get("price").cloned().unwrap(), "colour" => "blue" };
                    bench.write_through(&id, record);
                }
            }
            let ordered = bench.ordered(&query);
            for (i, row) in bench.model.view().rows.iter() {
                proptest::prop_assert_eq!(&row.id, &ordered[i].id, "index {}", i);
                proptest::prop_assert_eq!(&row.status, &RowStatus::Fresh, "index {}", i);
            }
        }
    }
}

#[test]
fn a_write_that_keeps_the_key_of_a_row_not_loaded_moves_and_loads_nothing() {
    let mut bench = Bench::scrolled_by_price();
    let loads = bench.loads.len();
    bench.write_through("p080", record! { "price" => 800, "colour" => "blue" });
    assert_eq!(bench.loads.len(), loads, "nothing was refetched");
    assert_eq!(bench.forgotten, 0, "the stored order still holds");
    bench.assert_loaded_rows_are_the_masters(&by_price());
    // Without the master's value, where the row sat is unknown: the
    // loaded rows are revalidated.
    bench.write("p081", Some(record! { "price" => 810, "colour" => "blue" }));
    assert!(bench.loads.len() > loads, "revalidated");
}

#[test]
fn a_row_not_loaded_moving_across_the_loaded_rows_shifts_them_as_the_master_does() {
    let mut bench = Bench::scrolled_by_price();
    let loads = bench.loads.len();
    // From past the loaded rows into them: shown between p021 and p022.
    bench.write_through("p080", record! { "price" => 215, "colour" => "red" });
    assert_eq!(bench.model.view().index_of("p080"), Some(22));
    assert_eq!(bench.loads.len(), loads, "nothing was refetched");
    bench.assert_loaded_rows_are_the_masters(&by_price());
    // From before them to past them: every loaded row moves up by one.
    bench.write_through("p005", record! { "price" => 99_999, "colour" => "red" });
    bench.assert_loaded_rows_are_the_masters(&by_price());
    assert_eq!(bench.model.view().extent.row_count(), 100);
    // From one hole to another, across them: they move down again.
    bench.write_through("p010", record! { "price" => 5_000, "colour" => "red" });
    bench.assert_loaded_rows_are_the_masters(&by_price());
}

#[test]
fn a_row_whose_master_value_was_outside_a_filter_enters_it_where_its_key_falls() {
    let query = Query {
        conditions: vec![Condition {
            field: "price".to_string(),
            op: CmpOp::Lt,
            value: 300.into(),
        }],
        ..by_price()
    };
    let mut bench = Bench::new(config(0), query.clone(), coloured(100));
    bench.viewport(0..10, at(0));
    let loads = bench.loads.len();
    bench.write_through("p050", record! { "price" => 15, "colour" => "red" });
    assert_eq!(bench.model.view().index_of("p050"), Some(2));
    assert_eq!(bench.loads.len(), loads, "nothing was refetched");
    bench.assert_loaded_rows_are_the_masters(&query);
    // And one that leaves it from a hole: the loaded rows stay.
    bench.write_through("p025", record! { "price" => 900, "colour" => "red" });
    bench.assert_loaded_rows_are_the_masters(&query);
}

#[test]
fn a_search_in_the_masters_order_keeps_a_row_that_stays_a_member_where_it_is() {
    let query = Query::default().with_search("red");
    let mut bench = Bench::new(config(0), query.clone(), coloured(100));
    bench.viewport(0..10, at(0));
    let loads = bench.loads.len();
    bench.write_through("p070", record! { "price" => 1, "colour" => "red" });
    assert_eq!(bench.loads.len(), loads, "nothing was refetched");
    bench.assert_loaded_rows_are_the_masters(&query);
}

#[test]
fn a_patch_of_a_row_not_cached_that_leaves_the_order_alone_moves_and_loads_nothing() {
    let mut bench = Bench::scrolled_by_price();
    let loads = bench.loads.len();
    bench.patch_uncached("p080", record! { "colour" => "blue" });
    // A loaded row is cached: its patch shows in place.
    bench.write_through("p025", record! { "price" => 250, "colour" => "green" });
    assert_eq!(bench.loads.len(), loads, "nothing was refetched");
    assert_eq!(bench.forgotten, 0, "the stored order still holds");
    bench.assert_loaded_rows_are_the_masters(&by_price());
    assert_eq!(
        bench.model.view().row(25).map(|row| row.record.clone()),
        Some(record! { "price" => 250, "colour" => "green" }),
        "a loaded row shows its patch in place"
    );
    // A patch of the sorted field: where the row was is unknown.
    bench.patch_uncached("p081", record! { "price" => 215 });
    assert!(bench.loads.len() > loads, "revalidated");
}

#[test]
fn a_patch_of_a_row_not_cached_in_a_search_revalidates() {
    let query = by_price().with_search("red");
    let mut bench = Bench::new(config(0), query, coloured(100));
    bench.viewport(20..30, at(0));
    let loads = bench.loads.len();
    // The search reads every field: the row may have left or entered it.
    bench.patch_uncached("p080", record! { "colour" => "blue" });
    assert!(bench.loads.len() > loads, "revalidated");
}

#[test]
fn a_patch_under_a_dotted_condition_path_is_an_order_field() {
    let query = Query {
        conditions: vec![Condition {
            field: "size.width".to_string(),
            op: CmpOp::Lt,
            value: 10.into(),
        }],
        ..Query::default()
    };
    let pending = |field: &str| PendingWrite {
        record: None,
        count: 1,
        dirty_fields: Some(vec![field.to_string()]),
    };
    assert!(!super::changes::keeps_place(&query, &pending("size")));
    assert!(super::changes::keeps_place(&query, &pending("sizes")));
    assert!(super::changes::keeps_place(&query, &pending("colour")));
    let whole = PendingWrite {
        dirty_fields: None,
        ..pending("colour")
    };
    assert!(
        !super::changes::keeps_place(&query, &whole),
        "a whole-row write"
    );
}

#[test]
fn a_queued_echo_read_after_its_write_landed_still_waits_for_the_landing() {
    let mut bench = Bench::scrolled_by_price();
    let loads = bench.loads.len();
    let pending = PendingWrite {
        record: Some(record! { "colour" => "blue" }),
        count: 1,
        dirty_fields: Some(vec!["colour".into()]),
    };
    let landed = record! { "price" => 800, "colour" => "blue" };
    assert!(!bench.announce("p080", facts(None, Some(pending)), None));
    // The bus's `WriteQueued` is read once the write has landed already.
    let echo = Changed {
        facts: facts(Some(landed.clone()), None),
        cause: Cause::Queued,
        settled: true,
        confirmed: None,
    };
    assert!(!bench.model.handle_row_changed("p080", echo));
    bench.land("p080", Some(landed), Cause::Landed);
    assert_eq!(bench.loads.len(), loads, "nothing was refetched");
    bench.assert_loaded_rows_are_the_masters(&by_price());
}

//! Record sceneries: one row followed live (issue 5, test 12).

use std::sync::{Arc, Mutex};

use diorama_core::cache::CachedRow;
use diorama_core::scenery::RecordStatus;
use diorama_core::vista::{QueryDescriptor, VistaOp};
use diorama_core::{Value, record};

use super::support::*;
use crate::harness::Harness;

/// A record scenery of an uncached row reads `Loading` while the master is
/// asked, then `Fresh`; other rows' events do not bump it; its removal reads
/// `NotFound`, as does an id the master lacks.
pub fn record_scenery_fetches_on_a_miss_and_follows_its_row_only<H: Harness>(h: &H) {
    let master = products(10);
    let lens = paged_lens(h, h.backend(), false).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    // Held, so the fetch cannot have landed when the scenery is first read.
    master.hold();
    let record = h
        .block_on(dio.record_scenery(product_id(3)).open())
        .unwrap();
    assert_eq!(record.status(), RecordStatus::Loading);
    master.release();
    h.settle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(record.record().unwrap().record, product(3));
    assert_eq!(master.calls(VistaOp::Get), 1);

    let generation = record.generation();
    dio.patched(product_id(4), record! { "price" => 1 })
        .unwrap();
    h.settle();
    assert_eq!(
        record.generation(),
        generation,
        "another row's event does not bump"
    );

    dio.removed(product_id(3)).unwrap();
    h.settle();
    assert_eq!(record.status(), RecordStatus::NotFound);

    let missing = h.block_on(dio.record_scenery("nope").open()).unwrap();
    h.settle();
    assert_eq!(missing.status(), RecordStatus::NotFound);
}

/// A record scenery given a start value shows it at once and asks nothing.
pub fn record_scenery_with_a_start_value_does_not_fetch<H: Harness>(h: &H) {
    let master = products(3);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let record = h
        .block_on(
            dio.record_scenery("x")
                .with_record(record! { "n" => 1 })
                .open(),
        )
        .unwrap();
    h.settle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(master.calls(VistaOp::Get), 0);
}

/// With `on_query`, views over the cache are warmed before they first show:
/// a record view of an uncached row asks `on_query` for that row and opens
/// `Fresh` without fetching it itself; a value view asks for its query once
/// and opens with the value over the warmed rows.
pub fn views_over_the_cache_let_on_query_warm_them_on_open<H: Harness>(h: &H) {
    let master = products(10);
    let asked: Arc<Mutex<Vec<QueryDescriptor>>> = Arc::default();
    let lens = lens_over(h, h.backend())
        .on_query({
            let asked = asked.clone();
            move |dio, descriptor| {
                asked.lock().unwrap().push(descriptor.clone());
                async move {
                    let rows = match &descriptor.id {
                        Some(id) => dio
                            .master()
                            .get(id)
                            .await?
                            .map(|record| (id.clone(), record))
                            .into_iter()
                            .collect(),
                        None => dio.master().list().await?,
                    };
                    let now = Some(dio.runtime().wall_clock());
                    dio.cache().insert_batch(
                        rows.into_iter()
                            .map(|(id, record)| (id, CachedRow::complete(record, now)))
                            .collect(),
                    )
                }
            }
        })
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);

    let record = h
        .block_on(dio.record_scenery(product_id(3)).open())
        .unwrap();
    assert_eq!(record.status(), RecordStatus::Fresh, "warm at open");
    assert_eq!(record.record().unwrap().record, product(3));
    h.settle();
    assert_eq!(master.calls(VistaOp::Get), 1, "only on_query's read");
    assert_eq!(
        asked.lock().unwrap().clone(),
        vec![QueryDescriptor::for_id(product_id(3).as_str())]
    );

    let count = h.block_on(dio.value_scenery().count().open()).unwrap();
    assert_eq!(count.value(), Some(Value::from(10)), "warm at open");
    let again = h.block_on(dio.value_scenery().count().open()).unwrap();
    assert_eq!(again.value(), Some(Value::from(10)));
    assert_eq!(asked.lock().unwrap().len(), 2, "the query is answered once");
    assert_eq!(master.calls(VistaOp::List), 1);
}

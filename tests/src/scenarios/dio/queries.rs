//! Test 3: `on_query` warms each cold query once.

use std::sync::{Arc, Mutex};

use diorama_core::cache::CachedRow;
use diorama_core::vista::{Query, QueryDescriptor, VistaOp};
use diorama_core::{Dio, LensBuilder, MemoryVista, Result, RuntimeExt, Vista};

use super::support::lens_on;
use super::support::products;
use crate::harness::Harness;

/// Descriptors `on_query` was called with, in call order.
type Asked = Arc<Mutex<Vec<QueryDescriptor>>>;

/// A Lens whose `on_query` records the descriptor and copies the master
/// rows matching its query into the cache.
fn lens_with_on_query(builder: LensBuilder, asked: &Asked) -> LensBuilder {
    let asked = asked.clone();
    builder.on_query(move |dio: Dio, descriptor: QueryDescriptor| {
        asked.lock().unwrap().push(descriptor.clone());
        async move { warm(&dio, &descriptor.query).await }
    })
}

async fn warm(dio: &Dio, query: &Query) -> Result<()> {
    let mut master = dio.master().clone();
    for condition in &query.conditions {
        master = master.with_condition(condition.clone());
    }
    let rows = master.list().await?;
    let now = dio.runtime().wall_clock();
    dio.cache().insert_batch(
        rows.into_iter()
            .map(|(id, record)| (id, CachedRow::complete(record, Some(now))))
            .collect(),
    )
}

fn red() -> Query {
    Query::new().with_condition(diorama_core::vista::Condition::eq("color", "red"))
}

fn calls(asked: &Asked) -> Vec<QueryDescriptor> {
    asked.lock().unwrap().clone()
}

/// Rows of `master` matching `query`, as the facade returns them.
fn expected(
    h: &impl Harness,
    master: &MemoryVista,
    query: &Query,
) -> Vec<(String, diorama_core::Record)> {
    let mut vista = Vista::new(master.clone());
    for condition in &query.conditions {
        vista = vista.with_condition(condition.clone());
    }
    let mut rows = h.block_on(vista.list()).unwrap();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Test 3a: A cold query fires `on_query` once with its descriptor; the same
/// query again (warm) does not; `invalidate_all` and a refresh make it
/// cold again; a new Dio over the same cache remembers answered queries.
pub fn on_query_fires_once_per_cold_query<H: Harness>(h: &H) {
    let master = products("products", 20);
    let asked = Asked::default();
    let lens = lens_with_on_query(lens_on(h), &asked).build().unwrap();
    let reds = expected(h, &master, &red());
    master.reset_calls();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let facade = dio.vista().where_eq("color", "red");

        assert_eq!(facade.list().await.unwrap(), reds);
        assert_eq!(calls(&asked), vec![QueryDescriptor::new(red())]);
        assert_eq!(master.calls(VistaOp::List), 1);

        // Warm: list and count of the same query do not ask again.
        assert_eq!(facade.list().await.unwrap(), reds);
        assert_eq!(facade.count().await.unwrap(), reds.len());
        assert_eq!(calls(&asked).len(), 1);

        // Another query is cold.
        assert_eq!(dio.vista().count().await.unwrap(), 20);
        assert_eq!(
            calls(&asked),
            vec![
                QueryDescriptor::new(red()),
                QueryDescriptor::new(Query::new())
            ]
        );

        dio.invalidate_all();
        assert_eq!(facade.list().await.unwrap(), reds);
        assert_eq!(calls(&asked).len(), 3, "invalidate_all makes queries cold");

        dio.refresh().await.unwrap();
        assert_eq!(facade.list().await.unwrap(), reds);
        assert_eq!(calls(&asked).len(), 4, "a refresh makes queries cold");
        dio.shutdown().await.unwrap();

        // Answered keys live in the cache: a new Dio over it knows them.
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        assert_eq!(
            dio.vista().where_eq("color", "red").list().await.unwrap(),
            reds
        );
        assert_eq!(calls(&asked).len(), 4, "answered keys survive a restart");
        dio.shutdown().await.unwrap();
    });
}

/// Test 3b: N concurrent reads of one cold query share a single `on_query` call,
/// and all see its rows.
pub fn concurrent_cold_reads_share_one_on_query<H: Harness>(h: &H) {
    const READERS: usize = 8;
    let master = products("products", 20);
    let asked = Asked::default();
    let lens = lens_with_on_query(lens_on(h), &asked).build().unwrap();
    let reds = expected(h, &master, &red());
    master.reset_calls();
    let rt = h.runtime();
    let dio = h
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();

    // The master answers only when released: every reader arrives while the
    // one on_query is still waiting for it.
    master.hold();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let facade = dio.vista().where_eq("color", "red");
            rt.spawn("reader", async move { facade.list().await })
        })
        .collect();
    h.settle();
    assert_eq!(
        calls(&asked).len(),
        1,
        "one on_query for concurrent readers"
    );
    assert_eq!(master.in_flight(), 1);
    master.release();
    h.block_on(async {
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap(), reds);
        }
        assert_eq!(calls(&asked), vec![QueryDescriptor::new(red())]);
        assert_eq!(master.calls(VistaOp::List), 1);
        dio.shutdown().await.unwrap();
    });
}

/// Test 3c: Readers that do not overlap in time, interleaved by the schedule,
/// still ask once: whichever reader comes first warms the query, the others
/// find it warm or join its call.
pub fn racing_cold_reads_ask_once<H: Harness>(h: &H) {
    const READERS: usize = 16;
    let master = products("products", 20);
    let asked = Asked::default();
    let lens = lens_with_on_query(lens_on(h), &asked).build().unwrap();
    let reds = expected(h, &master, &red());
    let rt = h.runtime();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let facade = dio.vista().where_eq("color", "red");
                rt.spawn("reader", async move { facade.list().await })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap(), reds);
        }
        assert_eq!(calls(&asked), vec![QueryDescriptor::new(red())]);
        dio.shutdown().await.unwrap();
    });
}

/// Test 3d: An `invalidate_all` while `on_query` is still running leaves the
/// query cold: the answer was fetched before the invalidation, so the next
/// read asks again.
pub fn invalidation_during_on_query_keeps_query_cold<H: Harness>(h: &H) {
    let master = products("products", 6);
    let asked = Asked::default();
    let lens = lens_with_on_query(lens_on(h), &asked).build().unwrap();
    let rt = h.runtime();
    let dio = h
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();
    master.hold();
    let reader = rt.spawn("reader", {
        let facade = dio.vista();
        async move { facade.list().await }
    });
    h.settle();
    assert_eq!(calls(&asked).len(), 1);
    dio.invalidate_all();
    master.release();
    h.block_on(async {
        assert_eq!(reader.await.unwrap().unwrap().len(), 6);
        dio.vista().list().await.unwrap();
        assert_eq!(
            calls(&asked).len(),
            2,
            "the stale answer was not remembered"
        );
        dio.vista().list().await.unwrap();
        assert_eq!(calls(&asked).len(), 2);
        dio.shutdown().await.unwrap();
    });
}

/// Test 3e: A `get` of an uncached id asks `on_query` with a by-id descriptor
/// (never remembered: the row's presence is the answer); a cached id does
/// not ask.
pub fn get_of_missing_row_asks_on_query_by_id<H: Harness>(h: &H) {
    let master = products("products", 4);
    let asked = Asked::default();
    let lens = lens_on(h)
        .on_query({
            let asked = asked.clone();
            move |dio: Dio, descriptor: QueryDescriptor| {
                asked.lock().unwrap().push(descriptor.clone());
                async move {
                    let Some(id) = descriptor.id else {
                        return Ok(());
                    };
                    if let Some(record) = dio.master().get(&id).await? {
                        let now = Some(dio.runtime().wall_clock());
                        dio.cache()
                            .insert_batch(vec![(id, CachedRow::complete(record, now))])?;
                    }
                    Ok(())
                }
            }
        })
        .build()
        .unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let facade = dio.vista();
        assert_eq!(facade.get("p002").await.unwrap(), master.get_row("p002"));
        assert_eq!(calls(&asked), vec![QueryDescriptor::for_id("p002")]);
        assert_eq!(facade.get("p002").await.unwrap(), master.get_row("p002"));
        assert_eq!(calls(&asked).len(), 1, "a cached row needs no call");
        assert_eq!(facade.get("nope").await.unwrap(), None);
        assert_eq!(facade.get("nope").await.unwrap(), None);
        assert_eq!(calls(&asked).len(), 3, "an absent row asks each time");
        assert_eq!(master.calls(VistaOp::Get), 3);
        dio.shutdown().await.unwrap();
    });
}

//! The PostgreSQL change feed against a real server: the install is
//! idempotent and records every kind of change; an INSERT, UPDATE or DELETE
//! from a second, plain connection reaches an open table scenery, record
//! scenery and value scenery; killing the listener's connection while
//! writes go on loses nothing and applies nothing twice; a restarted Dio
//! resumes from the sequence stored in its cache meta; a log trimmed past
//! that point is a gap the Dio reports and invalidates. Skipped (one
//! printed line) without a server, unless `DIORAMA_REQUIRE_SERVICES=1`.
#![cfg(feature = "postgres")]

mod pg_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::cache::{CacheBackend, CachedRow};
use diorama_core::sync::broadcast::BroadcastReceiver;
use diorama_core::vista::{ChangeFeed, FeedItem, SortDir, TableShell};
use diorama_core::{ChangeEvent, Dio, DioEvent, Lens, MemoryBackend, Result, Value, Vista, record};
use diorama_tokio::TokioRuntime;
use diorama_tokio::postgres::{ChangeFeedSetup, PgVista, TrimPolicy};
use futures_lite::StreamExt;
use pg_support::{Scratch, eventually};

const TABLE: &str = "CREATE TABLE products (id bigint PRIMARY KEY, name text, price integer)";

async fn open_fed(db: &Scratch) -> PgVista {
    db.vista("products")
        .change_feed(ChangeFeedSetup::Install)
        .feed_poll_interval(Duration::from_secs(30))
        .open()
        .await
        .unwrap()
}

/// Copy the master into the cache (a complete set: local views).
async fn copy_master(dio: Dio) -> Result<()> {
    let rows = dio.master().list().await?;
    let now = Some(dio.runtime().wall_clock());
    dio.cache().insert_batch(
        rows.into_iter()
            .map(|(id, record)| (id, CachedRow::complete(record, now)))
            .collect(),
    )
}

fn lens(backend: &Arc<MemoryBackend>) -> diorama_core::LensBuilder {
    Lens::builder()
        .runtime(Arc::new(TokioRuntime::current()))
        .cache_source(backend.clone())
        .event_bus_capacity(4096)
}

fn drain(events: &mut BroadcastReceiver<DioEvent>) -> Vec<DioEvent> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

/// The next item of a feed stream, within 10 s.
async fn next(stream: &mut diorama_core::vista::BoxStream<'static, Result<FeedItem>>) -> FeedItem {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an item within 10 s")
        .expect("the stream goes on")
        .expect("no error")
}

fn event(item: FeedItem) -> ChangeEvent {
    match item {
        FeedItem::Change { event, .. } => event,
        gap => panic!("not a change: {gap:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_is_idempotent_and_every_kind_of_change_is_recorded() {
    let Some(db) = Scratch::new("feed_kinds").await else {
        return;
    };
    db.exec(TABLE).await;
    let products = db.vista("products").open().await.unwrap();
    assert!(products.change_feed().is_none(), "not installed yet");
    assert!(!products.capabilities().can_subscribe);
    products.install_change_feed().await.unwrap();
    products.install_change_feed().await.unwrap();
    assert!(products.change_feed_installed().await.unwrap());
    assert!(products.capabilities().can_subscribe);
    let feed = products.feed().unwrap();
    assert_eq!(feed.name(), "postgres");
    assert_eq!(feed.change_log_table(), "diorama_log_products");
    // A vista opened later finds it installed.
    let again = db.vista("products").open().await.unwrap();
    assert!(again.change_feed().is_some());
    let off = db
        .vista("products")
        .change_feed(ChangeFeedSetup::Off)
        .open()
        .await
        .unwrap();
    assert!(off.change_feed().is_none());

    // From the end as it is now (subscribe(None) would only fix its start
    // once the stream is first polled).
    let start = feed.position().await.unwrap();
    let mut stream = feed.subscribe(start.clone());
    db.exec("INSERT INTO products VALUES (1, 'Lamp', 5), (2, 'Desk', 120)")
        .await;
    assert_eq!(
        event(next(&mut stream).await),
        ChangeEvent::Inserted {
            id: "1".into(),
            record: Some(record! { "name" => "Lamp", "price" => 5 })
        }
    );
    assert!(
        matches!(event(next(&mut stream).await), ChangeEvent::Inserted { id, .. } if id == "2")
    );
    db.exec("UPDATE products SET price = 6 WHERE id = 1").await;
    assert_eq!(
        event(next(&mut stream).await),
        ChangeEvent::Updated {
            id: "1".into(),
            fields: Some(record! { "name" => "Lamp", "price" => 6 })
        }
    );
    // An update that changes the id: the new row, and the old id gone.
    db.exec("UPDATE products SET id = 3 WHERE id = 2").await;
    let mut seen = vec![
        event(next(&mut stream).await),
        event(next(&mut stream).await),
    ];
    seen.sort_by_key(|e| e.id().map(str::to_owned));
    assert_eq!(
        seen,
        vec![
            ChangeEvent::Removed { id: "2".into() },
            ChangeEvent::Updated {
                id: "3".into(),
                fields: Some(record! { "name" => "Desk", "price" => 120 })
            },
        ]
    );
    db.exec("DELETE FROM products WHERE id = 1").await;
    assert_eq!(
        event(next(&mut stream).await),
        ChangeEvent::Removed { id: "1".into() }
    );
    db.exec("TRUNCATE products").await;
    assert_eq!(event(next(&mut stream).await), ChangeEvent::Reset);
    drop(stream);

    // Resuming from the start replays the same changes, from the log.
    let mut replay = feed.subscribe(start);
    assert!(
        matches!(event(next(&mut replay).await), ChangeEvent::Removed { id } if id == "1"),
        "row 1 is gone now: the entry carries the table as it is"
    );
    drop(replay);

    products.uninstall_change_feed().await.unwrap();
    assert!(!products.change_feed_installed().await.unwrap());
    assert!(products.change_feed().is_none());
    db.exec("INSERT INTO products VALUES (9, 'x', 1)").await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_from_another_connection_reach_open_sceneries() {
    let Some(db) = Scratch::new("feed_views").await else {
        return;
    };
    db.exec(TABLE).await;
    db.exec("INSERT INTO products VALUES (1, 'Lamp', 5), (2, 'Desk', 120), (3, 'Chair', 40)")
        .await;
    let products = open_fed(&db).await;
    let backend = Arc::new(MemoryBackend::new());
    let lens = lens(&backend).on_start(copy_master).build().unwrap();
    let dio = lens.make_dio(Vista::new(products)).await.unwrap();
    assert_eq!(dio.followed_feeds(), vec!["postgres".to_owned()]);
    let table = dio
        .table_scenery()
        .sort("price", SortDir::Asc)
        .initial_range(0..10)
        .open()
        .await
        .unwrap();
    let lamp = dio.record_scenery("1").open().await.unwrap();
    let total = dio.value_scenery().sum("price").open().await.unwrap();
    let ids = |table: &diorama_core::scenery::TableScenery| -> Vec<String> {
        (0..table.row_count())
            .filter_map(|i| table.row(i).map(|row| row.id.clone()))
            .collect()
    };
    assert!(eventually(|| ids(&table) == ["1", "3", "2"]).await);
    assert!(eventually(|| total.value() == Some(Value::from(165))).await);

    let (table_gen, lamp_gen, total_gen) =
        (table.generation(), lamp.generation(), total.generation());
    db.client()
        .execute(
            &format!(
                "UPDATE \"{}\".products SET price = 500 WHERE id = 1",
                db.schema
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(
        eventually(|| lamp
            .record()
            .is_some_and(|row| row.record.get("price") == Some(&Value::from(500))))
        .await,
        "the record scenery shows the update"
    );
    assert!(lamp.generation() > lamp_gen);
    assert!(
        eventually(|| ids(&table) == ["3", "2", "1"]).await,
        "re-placed by its sort key"
    );
    assert!(table.generation() > table_gen);
    assert!(eventually(|| total.value() == Some(Value::from(660))).await);
    assert!(total.generation() > total_gen);

    db.exec("INSERT INTO products VALUES (4, 'Shelf', 60)")
        .await;
    assert!(
        eventually(|| ids(&table) == ["3", "4", "2", "1"]).await,
        "an insert enters"
    );
    assert!(eventually(|| total.value() == Some(Value::from(720))).await);
    db.exec("DELETE FROM products WHERE id = 2").await;
    assert!(
        eventually(|| ids(&table) == ["3", "4", "1"]).await,
        "a delete leaves"
    );
    assert!(eventually(|| total.value() == Some(Value::from(600))).await);
    assert!(dio.cache().get("2").unwrap().is_none());

    // The Dio's own write reaches the master and comes back through the
    // feed without disturbing anything.
    dio.try_patch("3", record! { "price" => 41 })
        .unwrap()
        .outcome()
        .await
        .unwrap();
    assert!(eventually(|| total.value() == Some(Value::from(601))).await);
    dio.shutdown().await.unwrap();
    db.finish().await;
}

/// What `on_event` saw, per row, while applying each change as a Dio does
/// by default.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<ChangeEvent>>>);

impl Seen {
    fn lens(&self, backend: &Arc<MemoryBackend>) -> diorama_core::LensBuilder {
        let seen = self.clone();
        lens(backend).on_event(move |dio: Dio, event: ChangeEvent| {
            seen.0.lock().unwrap().push(event.clone());
            async move {
                match event {
                    ChangeEvent::Inserted {
                        id,
                        record: Some(record),
                    }
                    | ChangeEvent::Updated {
                        id,
                        fields: Some(record),
                    } => dio.patched(id, record),
                    ChangeEvent::Removed { id } => dio.removed(id),
                    _ => {
                        dio.invalidate_all();
                        Ok(())
                    }
                }
            }
        })
    }

    fn events(&self) -> Vec<ChangeEvent> {
        self.0.lock().unwrap().clone()
    }

    fn inserts_per_id(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for event in self.events() {
            if let ChangeEvent::Inserted { id, .. } = event {
                *counts.entry(id).or_insert(0) += 1;
            }
        }
        counts
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_reconnects_and_every_change_is_applied_exactly_once() {
    let Some(db) = Scratch::new("feed_kill").await else {
        return;
    };
    db.exec(TABLE).await;
    let products = open_fed(&db).await;
    let application_name = products.feed().unwrap().application_name().to_owned();
    let backend = Arc::new(MemoryBackend::new());
    let seen = Seen::default();
    let dio = seen
        .lens(&backend)
        .build()
        .unwrap()
        .make_dio(Vista::new(products.clone()))
        .await
        .unwrap();
    let mut events = dio.subscribe_events();
    // The listener is connected once its backend shows up.
    let listening = || async {
        db.client()
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                &[&application_name],
            )
            .await
            .unwrap()
            .len()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while listening().await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener connects"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Two writers at once, each committing transactions of an insert and
    // (every third) an update of its previous row.
    const ROWS: i64 = 150;
    let writers: Vec<_> = [1..=ROWS / 2, ROWS / 2 + 1..=ROWS]
        .into_iter()
        .map(|ids| {
            let schema = db.schema.clone();
            tokio::spawn(async move {
                let client = pg_support::connect("feed_kill writer").await.unwrap();
                let mut updates = 0;
                for n in ids.clone() {
                    let update = if n % 3 == 0 && n > *ids.start() {
                        updates += 1;
                        format!(
                            "UPDATE \"{schema}\".products SET price = price + 1000 WHERE id = {};",
                            n - 1
                        )
                    } else {
                        String::new()
                    };
                    client
                        .batch_execute(&format!(
                            "BEGIN; INSERT INTO \"{schema}\".products VALUES ({n}, 'row', {n}); \
                             {update} COMMIT"
                        ))
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                updates
            })
        })
        .collect();
    let mut kills = 0;
    while !writers.iter().all(|w| w.is_finished()) {
        tokio::time::sleep(Duration::from_millis(60)).await;
        let killed = db
            .client()
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&application_name],
            )
            .await
            .unwrap();
        kills += killed.len();
    }
    let mut expected_updates = 0;
    for writer in writers {
        expected_updates += writer.await.unwrap();
    }
    assert!(
        kills >= 2,
        "the listener was killed while writes went on ({kills})"
    );

    // Every row reaches the cache with the master's values.
    let truth = products
        .list(&diorama_core::vista::Query::new())
        .await
        .unwrap();
    assert_eq!(truth.len(), ROWS as usize);
    assert!(
        eventually(|| truth.iter().all(|(id, record)| {
            dio.cache()
                .get(id)
                .unwrap()
                .is_some_and(|row| row.record == *record)
        }))
        .await,
        "the cache converged to the master"
    );
    let inserts = seen.inserts_per_id();
    assert_eq!(inserts.len(), ROWS as usize, "no insert missed");
    assert!(
        inserts.values().all(|&n| n == 1),
        "no insert applied twice: {inserts:?}"
    );
    let updates = seen
        .events()
        .iter()
        .filter(|e| matches!(e, ChangeEvent::Updated { .. }))
        .count();
    assert_eq!(updates, expected_updates, "every update once");
    assert!(
        drain(&mut events)
            .iter()
            .any(|e| matches!(e, DioEvent::FeedFailed { feed, .. } if feed == "postgres")),
        "the lost connection was reported"
    );
    dio.shutdown().await.unwrap();
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_dio_resumes_from_the_stored_sequence() {
    let Some(db) = Scratch::new("feed_restart").await else {
        return;
    };
    db.exec(TABLE).await;
    db.exec("INSERT INTO products VALUES (1, 'Lamp', 5)").await;
    let products = open_fed(&db).await;
    let feed = products.feed().unwrap();
    let backend = Arc::new(MemoryBackend::new());

    let first = Seen::default();
    let dio = first
        .lens(&backend)
        .on_start(copy_master)
        .build()
        .unwrap()
        .make_dio(Vista::new(products.clone()))
        .await
        .unwrap();
    db.exec("UPDATE products SET price = 6 WHERE id = 1").await;
    assert!(
        eventually(|| dio
            .cache()
            .get("1")
            .unwrap()
            .is_some_and(|row| row.record.get("price") == Some(&Value::from(6))))
        .await
    );
    dio.shutdown().await.unwrap();
    drop(dio);
    let table = backend.open_table("products").unwrap();
    let stored = table
        .meta_get(b"f/postgres")
        .unwrap()
        .expect("a stored position");
    assert_eq!(
        Some(diorama_core::vista::FeedPosition(stored.clone())),
        feed.position().await.unwrap(),
        "applied up to the end of the log"
    );

    // Changes while no Dio follows.
    db.exec(
        "INSERT INTO products VALUES (2, 'Desk', 120);
         UPDATE products SET name = 'Lamp II' WHERE id = 1",
    )
    .await;

    let second = Seen::default();
    let dio = second
        .lens(&backend)
        .build()
        .unwrap()
        .make_dio(Vista::new(products.clone()))
        .await
        .unwrap();
    assert!(
        eventually(|| second.events().len() == 2).await,
        "the two changes made meanwhile"
    );
    let events = second.events();
    assert!(
        matches!(&events[0], ChangeEvent::Inserted { id, .. } if id == "2"),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], ChangeEvent::Updated { id, .. } if id == "1"),
        "{events:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        second.events().len(),
        2,
        "the change applied before is not replayed"
    );
    let lamp = dio.cache().get("1").unwrap().unwrap();
    assert_eq!(lamp.record, record! { "name" => "Lamp II", "price" => 6 });
    assert!(dio.cache().get("2").unwrap().is_some());
    assert_eq!(dio.invalidated_at().as_millis(), 0, "no gap");
    dio.shutdown().await.unwrap();
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_trimmed_past_the_stored_position_is_a_gap() {
    let Some(db) = Scratch::new("feed_trim").await else {
        return;
    };
    db.exec(TABLE).await;
    db.exec("INSERT INTO products VALUES (1, 'Lamp', 5)").await;
    let products = open_fed(&db).await;
    let backend = Arc::new(MemoryBackend::new());
    let dio = lens(&backend)
        .on_start(copy_master)
        .build()
        .unwrap()
        .make_dio(Vista::new(products.clone()))
        .await
        .unwrap();
    db.exec("UPDATE products SET price = 6 WHERE id = 1").await;
    assert!(
        eventually(
            || dio.cache().get("1").unwrap().unwrap().record.get("price") == Some(&Value::from(6))
        )
        .await
    );
    dio.shutdown().await.unwrap();
    drop(dio);

    db.exec(
        "UPDATE products SET price = 7 WHERE id = 1; INSERT INTO products VALUES (2, 'Desk', 1)",
    )
    .await;
    assert_eq!(
        products.trim_change_log().await.unwrap(),
        0,
        "the default policy keeps a day"
    );
    assert!(
        products
            .trim_change_log_with(&TrimPolicy::everything())
            .await
            .unwrap()
            >= 3
    );

    // Listen from the very start of the reopened Dio (on_start runs before
    // the feed has delivered anything).
    let receiver: Arc<Mutex<Option<BroadcastReceiver<DioEvent>>>> = Arc::default();
    let dio = lens(&backend)
        .on_start({
            let receiver = receiver.clone();
            move |dio: Dio| {
                *receiver.lock().unwrap() = Some(dio.subscribe_events());
                async { Ok(()) }
            }
        })
        .build()
        .unwrap()
        .make_dio(Vista::new(products.clone()))
        .await
        .unwrap();
    let mut events = receiver.lock().unwrap().take().unwrap();
    let mut seen = Vec::new();
    assert!(
        eventually(|| {
            seen.extend(drain(&mut events));
            seen.iter().any(|e| matches!(e, DioEvent::Invalidated))
        })
        .await
    );
    let lost = seen
        .iter()
        .position(|e| matches!(e, DioEvent::ChangesLost { feed, reason } if feed == "postgres" && reason.contains("trimmed")))
        .unwrap_or_else(|| panic!("ChangesLost first: {seen:?}"));
    assert!(matches!(seen[lost + 1], DioEvent::Invalidated), "{seen:?}");
    let lamp = dio.cache().get("1").unwrap().unwrap();
    assert!(
        lamp.fetched_at.unwrap() < dio.invalidated_at(),
        "no longer vouched for"
    );

    // The feed goes on after the gap.
    db.exec("UPDATE products SET price = 8 WHERE id = 1").await;
    assert!(
        eventually(
            || dio.cache().get("1").unwrap().unwrap().record.get("price") == Some(&Value::from(8))
        )
        .await
    );
    dio.shutdown().await.unwrap();
    db.finish().await;
}

/// Totals are cached while the table is unchanged (the feed's log says
/// when), and never outlive a change, wherever it was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_totals_never_outlive_a_change() {
    use diorama_core::vista::{CmpOp, Condition, Query};
    let Some(db) = Scratch::new("feed_counts").await else {
        return;
    };
    db.exec(TABLE).await;
    db.exec("INSERT INTO products VALUES (1, 'Lamp', 5), (2, 'Desk', 120), (3, 'Chair', 40)")
        .await;
    let products = open_fed(&db).await;
    let cheap = Query::new().with_condition(Condition::new("price", CmpOp::Lt, 100));
    for _ in 0..2 {
        assert_eq!(products.count(&Query::new()).await.unwrap(), 3);
        assert_eq!(products.count(&cheap).await.unwrap(), 2);
        assert_eq!(
            products.fetch_window(&cheap, 0, 1).await.unwrap().total,
            Some(2)
        );
    }
    db.exec("INSERT INTO products VALUES (4, 'Shelf', 60)")
        .await;
    assert_eq!(products.count(&Query::new()).await.unwrap(), 4);
    assert_eq!(
        products.fetch_window(&cheap, 0, 10).await.unwrap().total,
        Some(3)
    );
    db.exec("UPDATE products SET price = 500 WHERE id = 1")
        .await;
    assert_eq!(products.count(&cheap).await.unwrap(), 2);
    products.delete("2").await.unwrap();
    assert_eq!(
        products
            .fetch_window(&Query::new(), 0, 10)
            .await
            .unwrap()
            .total,
        Some(3)
    );
    db.exec("TRUNCATE products").await;
    assert_eq!(products.count(&Query::new()).await.unwrap(), 0);
    db.finish().await;
}

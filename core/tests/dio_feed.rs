//! A Dio follows change feeds (`TableShell::change_feed`, `Dio::follow`):
//! changes reach the cache and the event bus in order, positions persist in
//! the cache meta so a reopened Dio resumes where it stopped, a gap
//! invalidates and says so, errors are reported and survived, and the
//! follower neither outlives nor keeps alive its Dio. All on the simulator,
//! with an in-memory feed.
#![cfg(feature = "sim")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::cache::{CacheBackend, RowState};
use diorama_core::runtime::BoxFuture;
use diorama_core::sim::SimRuntime;
use diorama_core::sync::broadcast::BroadcastReceiver;
use diorama_core::vista::{
    BoxStream, ChangeFeed, Clause, FeedItem, FeedPosition, Id, Page, Query, TableShell,
    VistaCapabilities,
};
use diorama_core::{
    ChangeEvent, Dio, DioEvent, Error, ErrorKind, Lens, MemoryBackend, MemoryVista, Record, Result,
    Vista, record,
};
use event_listener::Event;
use futures_lite::stream;

// ---------------------------------------------------------------- the feed

/// An in-memory change log: entries numbered from 1, a trim point, errors
/// to inject, and a record of every subscription's starting position.
#[derive(Debug, Default)]
struct Log {
    entries: Vec<(u64, ChangeEvent)>,
    /// Everything up to here was trimmed away.
    trimmed: u64,
    /// Errors the next reads yield, one each.
    errors: usize,
    /// End every open stream (its next read yields `None`).
    end_streams: bool,
    /// The `from` of every `subscribe`.
    subscribed: Vec<Option<u64>>,
    /// `position()` fails while set.
    position_fails: bool,
    /// Streams deliver nothing while set.
    paused: bool,
}

#[derive(Debug, Default)]
struct Shared {
    log: Mutex<Log>,
    changed: Event,
}

/// The feed: cheap clones share one log.
#[derive(Debug, Default, Clone)]
struct TestFeed(Arc<Shared>);

impl std::ops::Deref for TestFeed {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Shared {
    fn push(&self, event: ChangeEvent) -> u64 {
        let seq = {
            let mut log = self.log.lock().unwrap();
            let seq = log.entries.last().map_or(log.trimmed, |(seq, _)| *seq) + 1;
            log.entries.push((seq, event));
            seq
        };
        self.changed.notify(usize::MAX);
        seq
    }

    fn trim_through(&self, seq: u64) {
        let mut log = self.log.lock().unwrap();
        log.entries.retain(|(at, _)| *at > seq);
        log.trimmed = log.trimmed.max(seq);
    }

    fn fail_next(&self, errors: usize) {
        self.log.lock().unwrap().errors = errors;
        self.changed.notify(usize::MAX);
    }

    fn end_streams(&self) {
        self.log.lock().unwrap().end_streams = true;
        self.changed.notify(usize::MAX);
    }

    fn set_paused(&self, paused: bool) {
        self.log.lock().unwrap().paused = paused;
        self.changed.notify(usize::MAX);
    }

    fn subscribed(&self) -> Vec<Option<u64>> {
        self.log.lock().unwrap().subscribed.clone()
    }

    fn end(log: &Log) -> u64 {
        log.entries.last().map_or(log.trimmed, |(seq, _)| *seq)
    }

    /// The next item after `cursor`, or `None` to wait.
    fn next_item(&self, cursor: &mut Option<u64>) -> Option<Option<Result<FeedItem>>> {
        let mut log = self.log.lock().unwrap();
        if log.paused {
            return None;
        }
        if log.end_streams {
            log.end_streams = false;
            return Some(None);
        }
        if log.errors > 0 {
            log.errors -= 1;
            return Some(Some(Err(Error::unavailable("the test feed is down"))));
        }
        let at = *cursor.get_or_insert(Self::end(&log));
        if at < log.trimmed {
            *cursor = Some(log.trimmed);
            return Some(Some(Ok(FeedItem::Gap {
                reason: format!("trimmed through {}", log.trimmed),
                position: FeedPosition::from_u64(log.trimmed),
            })));
        }
        let (seq, event) = log.entries.iter().find(|(seq, _)| *seq > at)?.clone();
        *cursor = Some(seq);
        Some(Some(Ok(FeedItem::Change {
            event,
            position: FeedPosition::from_u64(seq),
        })))
    }
}

impl ChangeFeed for TestFeed {
    fn name(&self) -> &str {
        "test"
    }

    fn subscribe(&self, from: Option<FeedPosition>) -> BoxStream<'static, Result<FeedItem>> {
        let from = from.map(|p| p.as_u64().expect("positions are u64"));
        self.log.lock().unwrap().subscribed.push(from);
        let feed = self.clone();
        Box::pin(stream::unfold(
            (feed, from),
            |(feed, mut cursor)| async move {
                loop {
                    let listener = feed.changed.listen();
                    if let Some(item) = feed.next_item(&mut cursor) {
                        return item.map(|item| (item, (feed, cursor)));
                    }
                    listener.await;
                }
            },
        ))
    }

    fn position(&self) -> BoxFuture<'_, Result<Option<FeedPosition>>> {
        let log = self.log.lock().unwrap();
        let answer = if log.position_fails {
            Err(Error::unavailable("no position while down"))
        } else {
            Ok(Some(FeedPosition::from_u64(Shared::end(&log))))
        };
        Box::pin(async move { answer })
    }
}

/// A `MemoryVista` whose shell offers the test feed.
#[derive(Debug, Clone)]
struct FedShell {
    table: MemoryVista,
    feed: Option<TestFeed>,
}

impl TableShell for FedShell {
    fn name(&self) -> &str {
        self.table.name()
    }
    fn capabilities(&self) -> VistaCapabilities {
        self.table.capabilities()
    }
    fn accepts(&self, clause: Clause<'_>) -> bool {
        self.table.accepts(clause)
    }
    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        self.table.list(query)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        self.table.get(id)
    }
    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        self.table.count(query)
    }
    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        self.table.fetch_window(query, offset, limit)
    }
    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        self.table.insert(id, record)
    }
    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        self.table.replace(id, record)
    }
    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        self.table.patch(id, fields)
    }
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        self.table.delete(id)
    }
    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        self.table.delete_all()
    }
    fn change_feed(&self) -> Option<Arc<dyn ChangeFeed>> {
        self.feed
            .clone()
            .map(|feed| Arc::new(feed) as Arc<dyn ChangeFeed>)
    }
}

// ---------------------------------------------------------------- helpers

struct Fixture {
    sim: SimRuntime,
    backend: Arc<MemoryBackend>,
    table: MemoryVista,
    feed: TestFeed,
}

impl Fixture {
    fn new(seed: u64) -> Self {
        let table = MemoryVista::new("products").with_rows([
            ("a", record! { "name" => "Lamp", "price" => 5 }),
            ("b", record! { "name" => "Desk", "price" => 120 }),
        ]);
        Fixture {
            sim: SimRuntime::new(seed),
            backend: Arc::new(MemoryBackend::new()),
            table,
            feed: TestFeed::default(),
        }
    }

    fn lens(&self) -> Lens {
        Lens::builder()
            .cache_source(self.backend.clone())
            .runtime(self.sim.runtime())
            .event_bus_capacity(1024)
            .build()
            .unwrap()
    }

    /// A Dio over the master whose shell offers the feed.
    fn open(&self) -> Dio {
        self.open_with(self.lens(), true)
    }

    fn open_with(&self, lens: Lens, fed: bool) -> Dio {
        let shell = FedShell {
            table: self.table.clone(),
            feed: fed.then(|| self.feed.clone()),
        };
        let dio = self.sim.block_on(lens.make_dio(Vista::new(shell))).unwrap();
        self.sim.run_until_idle();
        dio
    }

    fn stored_position(&self) -> Option<u64> {
        let table = self.backend.open_table("products").unwrap();
        table
            .meta_get(b"f/test")
            .unwrap()
            .map(|bytes| FeedPosition(bytes).as_u64().unwrap())
    }
}

fn drain(events: &mut BroadcastReceiver<DioEvent>) -> Vec<DioEvent> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

fn updated(id: &str, fields: Record) -> ChangeEvent {
    ChangeEvent::Updated {
        id: id.into(),
        fields: Some(fields),
    }
}

fn cached(dio: &Dio, id: &str) -> Option<Record> {
    dio.cache().get(id).unwrap().map(|row| row.record)
}

fn feed_tasks(sim: &SimRuntime) -> usize {
    sim.live_tasks()
        .iter()
        .filter(|name| **name == "diorama.feed")
        .count()
}

// ---------------------------------------------------------------- tests

#[test]
fn changes_of_the_masters_feed_reach_the_cache_in_order_and_positions_persist() {
    let f = Fixture::new(1);
    let dio = f.open();
    assert_eq!(dio.followed_feeds(), vec!["test".to_owned()]);
    assert_eq!(f.feed.subscribed(), vec![Some(0)], "anchored at the end");
    assert_eq!(f.stored_position(), Some(0));
    let mut events = dio.subscribe_events();

    f.feed.push(ChangeEvent::Inserted {
        id: "c".into(),
        record: Some(record! { "name" => "Chair", "price" => 40 }),
    });
    f.feed.push(updated("c", record! { "price" => 45 }));
    f.feed.push(ChangeEvent::Removed { id: "a".into() });
    f.sim.run_until_idle();

    assert_eq!(
        drain(&mut events),
        vec![
            DioEvent::RecordInserted { id: "c".into() },
            DioEvent::RecordChanged { id: "c".into() },
            DioEvent::RecordRemoved { id: "a".into() },
        ]
    );
    assert_eq!(
        cached(&dio, "c"),
        Some(record! { "name" => "Chair", "price" => 45 })
    );
    assert_eq!(cached(&dio, "a"), None);
    assert_eq!(f.stored_position(), Some(3));
    // The master itself was never asked: the feed carried the values.
    assert_eq!(f.table.total_calls(), 0);
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn a_reopened_dio_resumes_from_the_stored_position_and_skips_nothing() {
    let f = Fixture::new(2);
    let dio = f.open();
    f.feed.push(updated("a", record! { "price" => 6 }));
    f.sim.run_until_idle();
    f.sim.block_on(dio.shutdown()).unwrap();
    drop(dio);
    f.sim.run_until_idle();
    assert_eq!(feed_tasks(&f.sim), 0);

    // Changes made while no Dio followed.
    f.feed.push(updated("a", record! { "price" => 7 }));
    f.feed.push(ChangeEvent::Removed { id: "b".into() });

    let dio = f.open();
    assert_eq!(f.feed.subscribed(), vec![Some(0), Some(1)]);
    assert_eq!(cached(&dio, "a").unwrap().get("price"), Some(&7.into()));
    assert_eq!(cached(&dio, "b"), None);
    assert_eq!(f.stored_position(), Some(3));
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn a_gap_invalidates_everything_and_says_so() {
    let f = Fixture::new(3);
    let lens = Lens::builder()
        .cache_source(f.backend.clone())
        .runtime(f.sim.runtime())
        .on_start(|dio: Dio| async move {
            let rows = dio.master().list().await?;
            let now = Some(dio.runtime().wall_clock());
            dio.cache().insert_batch(
                rows.into_iter()
                    .map(|(id, r)| (id, diorama_core::cache::CachedRow::complete(r, now)))
                    .collect(),
            )
        })
        .build()
        .unwrap();
    let dio = f.open_with(lens.clone(), true);
    assert!(
        dio.invalidated_at().as_millis() == 0,
        "a cold first start loses nothing"
    );
    f.sim.block_on(dio.shutdown()).unwrap();
    drop(dio);

    f.feed.push(updated("a", record! { "price" => 8 }));
    f.feed.push(updated("a", record! { "price" => 9 }));
    f.feed.push(updated("b", record! { "price" => 1 }));
    f.feed.trim_through(2);
    // Held until the test listens to the new Dio's events.
    f.feed.set_paused(true);

    f.sim.advance(Duration::from_secs(1));
    let dio = f.sim.block_on(lens.make_dio(Vista::new(FedShell {
        table: f.table.clone(),
        feed: Some(f.feed.clone()),
    })));
    let dio = dio.unwrap();
    let mut events = dio.subscribe_events();
    // on_start copied the master just now; the gap comes a moment later.
    f.sim.advance(Duration::from_millis(10));
    f.feed.set_paused(false);
    f.sim.run_until_idle();

    let seen = drain(&mut events);
    assert_eq!(
        seen,
        vec![
            DioEvent::ChangesLost {
                feed: "test".into(),
                reason: "trimmed through 2".into(),
            },
            DioEvent::Invalidated,
            DioEvent::RecordChanged { id: "b".into() },
        ]
    );
    assert!(dio.invalidated_at().as_millis() > 0);
    // Rows fetched before the gap read stale; b was confirmed after it.
    let a = dio.cache().get("a").unwrap().unwrap();
    assert!(a.fetched_at.unwrap() < dio.invalidated_at());
    let b = dio.cache().get("b").unwrap().unwrap();
    assert!(b.fetched_at.unwrap() >= dio.invalidated_at());
    assert_eq!(b.record.get("price"), Some(&1.into()));
    assert_eq!(f.stored_position(), Some(3));
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn following_with_rows_cached_but_no_position_is_a_gap() {
    let f = Fixture::new(4);
    // A first life without the feed fills the cache.
    let dio = f.open_with(f.lens(), false);
    dio.patched("a", record! { "name" => "Lamp", "price" => 5 })
        .unwrap();
    f.sim.block_on(dio.shutdown()).unwrap();
    drop(dio);

    let lens = f.lens();
    let shell = FedShell {
        table: f.table.clone(),
        feed: Some(f.feed.clone()),
    };
    let dio = f.sim.block_on(lens.make_dio(Vista::new(shell))).unwrap();
    let mut events = dio.subscribe_events();
    f.sim.run_until_idle();
    let seen = drain(&mut events);
    assert!(
        matches!(&seen[..], [DioEvent::ChangesLost { feed, .. }, DioEvent::Invalidated] if feed == "test"),
        "{seen:?}"
    );
    assert_eq!(f.stored_position(), Some(0));
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn on_start_runs_after_the_anchor_so_a_change_made_meanwhile_arrives() {
    let f = Fixture::new(5);
    let feed = f.feed.clone();
    let lens = Lens::builder()
        .cache_source(f.backend.clone())
        .runtime(f.sim.runtime())
        .on_start(move |dio: Dio| {
            let feed = feed.clone();
            async move {
                let rows = dio.master().list().await?;
                // Someone changes a row after on_start read it.
                feed.push(updated("a", record! { "price" => 99 }));
                let now = Some(dio.runtime().wall_clock());
                dio.cache().insert_batch(
                    rows.into_iter()
                        .map(|(id, r)| (id, diorama_core::cache::CachedRow::complete(r, now)))
                        .collect(),
                )
            }
        })
        .build()
        .unwrap();
    let dio = f.open_with(lens, true);
    assert_eq!(cached(&dio, "a").unwrap().get("price"), Some(&99.into()));
    assert_eq!(dio.invalidated_at().as_millis(), 0, "no gap");
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn errors_are_reported_and_the_follower_resubscribes_after_a_backoff() {
    let f = Fixture::new(6);
    let dio = f.open();
    let mut events = dio.subscribe_events();
    f.feed.push(updated("a", record! { "price" => 6 }));
    f.sim.run_until_idle();

    // Two errors: reported, the stream goes on.
    f.feed.fail_next(2);
    f.sim.run_until_idle();
    f.feed.push(updated("a", record! { "price" => 7 }));
    f.sim.run_until_idle();
    let seen = drain(&mut events);
    let failures = seen
        .iter()
        .filter(|e| matches!(e, DioEvent::FeedFailed { error, .. } if error.kind() == ErrorKind::Unavailable))
        .count();
    assert_eq!(failures, 2, "{seen:?}");
    assert_eq!(f.feed.subscribed(), vec![Some(0)]);
    assert_eq!(cached(&dio, "a").unwrap().get("price"), Some(&7.into()));

    // Three in a row: dropped, and subscribed again from the last position
    // once the backoff passed.
    f.feed.fail_next(3);
    f.sim.run_until_idle();
    assert_eq!(f.feed.subscribed(), vec![Some(0)]);
    f.sim.advance(Duration::from_millis(249));
    assert_eq!(f.feed.subscribed(), vec![Some(0)], "not before the backoff");
    f.sim.advance(Duration::from_millis(1));
    assert_eq!(f.feed.subscribed(), vec![Some(0), Some(2)]);
    f.feed.push(ChangeEvent::Removed { id: "a".into() });
    f.sim.run_until_idle();
    assert_eq!(cached(&dio, "a"), None);

    // A stream that ends is subscribed again too.
    f.feed.end_streams();
    f.sim.run_for(Duration::from_secs(1));
    assert_eq!(f.feed.subscribed(), vec![Some(0), Some(2), Some(3)]);
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn a_failing_anchor_is_retried_and_reported() {
    let f = Fixture::new(7);
    f.feed.log.lock().unwrap().position_fails = true;
    let dio = f.open();
    let mut events = dio.subscribe_events();
    f.sim.run_for(Duration::from_millis(300));
    assert!(
        drain(&mut events)
            .iter()
            .any(|e| matches!(e, DioEvent::FeedFailed { .. }))
    );
    assert!(f.feed.subscribed().is_empty());
    f.feed.log.lock().unwrap().position_fails = false;
    f.sim.run_for(Duration::from_secs(2));
    assert_eq!(f.feed.subscribed(), vec![Some(0)]);
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn a_change_that_cannot_be_applied_marks_its_row_stale_and_goes_on() {
    let f = Fixture::new(8);
    let lens = Lens::builder()
        .cache_source(f.backend.clone())
        .runtime(f.sim.runtime())
        .on_event(|dio: Dio, event: ChangeEvent| async move {
            match event {
                ChangeEvent::Updated { id, .. } if id == "a" => {
                    Err(Error::failed("on_event refuses a"))
                }
                other => {
                    // Applied as without on_event.
                    if let ChangeEvent::Updated {
                        id,
                        fields: Some(fields),
                    } = other
                    {
                        dio.patched(id, fields)?;
                    }
                    Ok(())
                }
            }
        })
        .build()
        .unwrap();
    let dio = f.open_with(lens, true);
    dio.patched("a", record! { "name" => "Lamp", "price" => 5 })
        .unwrap();
    let mut events = dio.subscribe_events();
    f.feed.push(updated("a", record! { "price" => 6 }));
    f.feed.push(updated("b", record! { "price" => 2 }));
    f.sim.run_until_idle();
    let seen = drain(&mut events);
    assert_eq!(seen[0], DioEvent::RecordChanged { id: "a".into() });
    assert!(
        matches!(&seen[1], DioEvent::FeedFailed { error, .. } if error.message().contains("on_event refuses a")),
        "{seen:?}"
    );
    assert_eq!(seen[2], DioEvent::RecordChanged { id: "b".into() });
    assert_eq!(
        dio.cache().get("a").unwrap().unwrap().state,
        RowState::Stale
    );
    assert_eq!(f.stored_position(), Some(2), "passed, not retried forever");
    f.sim.block_on(dio.shutdown()).unwrap();
}

#[test]
fn followers_stop_with_the_dio_and_never_keep_it_alive() {
    let f = Fixture::new(9);
    let dio = f.open();
    let extra = Arc::new(TestFeedNamed("extra", TestFeed::default()));
    dio.follow(extra.clone()).unwrap();
    f.sim.run_until_idle();
    assert_eq!(feed_tasks(&f.sim), 2);
    let err = dio.follow(extra.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // Dropping the last handle stops both, though their streams are idle.
    drop(dio);
    f.sim.run_until_idle();
    assert_eq!(feed_tasks(&f.sim), 0);

    // shutdown() stops them too, and no feed can be followed afterwards.
    let dio = f.open();
    f.sim.block_on(dio.shutdown()).unwrap();
    f.sim.run_until_idle();
    assert_eq!(feed_tasks(&f.sim), 0);
    assert_eq!(
        dio.follow(extra).unwrap_err().kind(),
        ErrorKind::ShuttingDown
    );
}

#[test]
fn an_attached_feed_keeps_its_own_position() {
    let f = Fixture::new(10);
    let dio = f.open_with(f.lens(), false);
    let replicas = Arc::new(TestFeedNamed("replicas", TestFeed::default()));
    dio.follow(replicas.clone()).unwrap();
    f.sim.run_until_idle();
    replicas.1.push(updated("b", record! { "price" => 3 }));
    f.sim.run_until_idle();
    assert_eq!(cached(&dio, "b"), Some(record! { "price" => 3 }));
    let key = dio.cache().meta_get(b"f/replicas").unwrap().unwrap();
    assert_eq!(FeedPosition(key).as_u64(), Some(1));
    assert_eq!(dio.cache().meta_get(b"f/test").unwrap(), None);
    f.sim.block_on(dio.shutdown()).unwrap();
}

/// The test feed under another name.
#[derive(Debug)]
struct TestFeedNamed(&'static str, TestFeed);

impl ChangeFeed for TestFeedNamed {
    fn name(&self) -> &str {
        self.0
    }
    fn subscribe(&self, from: Option<FeedPosition>) -> BoxStream<'static, Result<FeedItem>> {
        self.1.subscribe(from)
    }
    fn position(&self) -> BoxFuture<'_, Result<Option<FeedPosition>>> {
        self.1.position()
    }
}

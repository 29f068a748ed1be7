//! The change feed of a composition: both parts' changes in one stream,
//! translated into changes of the visible rows, resumable from a
//! composite position.

use std::sync::{Arc, Mutex};

use diorama_core::error::ErrorKind;
use diorama_core::record;
use diorama_core::runtime::BoxFuture;
use diorama_core::value::Record;
use diorama_core::vista::compose::{Composed, tombstone};
use diorama_core::vista::{
    BoxStream, ChangeEvent, ChangeFeed, FeedItem, FeedPosition, Id, MemoryVista, Page, Query,
    TableShell, VistaCapabilities,
};
use diorama_core::{Error, Result};
use futures_lite::StreamExt;
use futures_lite::future::block_on;

/// An in-memory feed: a log of changes (position = changes so far) and the
/// live subscribers.
#[derive(Debug)]
struct LogFeed {
    name: &'static str,
    state: Mutex<LogState>,
}

#[derive(Debug, Default)]
struct LogState {
    log: Vec<FeedItem>,
    live: Vec<async_channel::Sender<Result<FeedItem>>>,
}

impl LogFeed {
    fn new(name: &'static str) -> Arc<Self> {
        Arc::new(LogFeed {
            name,
            state: Mutex::new(LogState::default()),
        })
    }

    fn send(&self, item: FeedItem) {
        let mut state = self.state.lock().unwrap();
        state.log.push(item.clone());
        state
            .live
            .retain(|sender| sender.try_send(Ok(item.clone())).is_ok());
    }

    fn push(&self, event: ChangeEvent) {
        let at = self.state.lock().unwrap().log.len() as u64 + 1;
        self.send(FeedItem::Change {
            event,
            position: FeedPosition::from_u64(at),
        });
    }

    fn fail(&self, message: &'static str) {
        let state = self.state.lock().unwrap();
        for sender in &state.live {
            let _ = sender.try_send(Err(Error::failed(message)));
        }
    }

    /// Every live stream ends.
    fn close(&self) {
        self.state.lock().unwrap().live.clear();
    }
}

impl ChangeFeed for LogFeed {
    fn name(&self) -> &str {
        self.name
    }

    fn subscribe(&self, from: Option<FeedPosition>) -> BoxStream<'static, Result<FeedItem>> {
        let mut state = self.state.lock().unwrap();
        let replay: Vec<Result<FeedItem>> = match from.and_then(|p| p.as_u64()) {
            Some(after) => state
                .log
                .iter()
                .skip(after as usize)
                .cloned()
                .map(Ok)
                .collect(),
            None => Vec::new(),
        };
        let (sender, receiver) = async_channel::unbounded();
        state.live.push(sender);
        Box::pin(futures_lite::stream::iter(replay).chain(receiver))
    }
}

/// A `MemoryVista` with a feed.
#[derive(Debug)]
struct Fed {
    table: MemoryVista,
    feed: Arc<LogFeed>,
}

impl TableShell for Fed {
    fn name(&self) -> &str {
        self.table.name()
    }
    fn capabilities(&self) -> VistaCapabilities {
        VistaCapabilities {
            can_subscribe: true,
            ..self.table.capabilities()
        }
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
        Some(self.feed.clone())
    }
}

struct Setup {
    base: MemoryVista,
    base_feed: Arc<LogFeed>,
    drafts: MemoryVista,
    drafts_feed: Arc<LogFeed>,
    composed: Composed,
}

fn setup() -> Setup {
    let base = MemoryVista::new("products").with_rows([
        ("p1", record! { "v" => 1 }),
        ("p2", record! { "v" => 2 }),
        ("p3", record! { "v" => 3 }),
    ]);
    let drafts = MemoryVista::new("drafts").with_rows([("p2", record! { "v" => 20 })]);
    let (base_feed, drafts_feed) = (LogFeed::new("pg"), LogFeed::new("local"));
    let composed = Composed::overlay(
        Arc::new(Fed {
            table: base.clone(),
            feed: base_feed.clone(),
        }),
        Arc::new(Fed {
            table: drafts.clone(),
            feed: drafts_feed.clone(),
        }),
    );
    Setup {
        base,
        base_feed,
        drafts,
        drafts_feed,
        composed,
    }
}

fn next(stream: &mut BoxStream<'static, Result<FeedItem>>) -> Option<Result<FeedItem>> {
    block_on(stream.next())
}

fn change(item: Option<Result<FeedItem>>) -> (ChangeEvent, FeedPosition) {
    match item {
        Some(Ok(FeedItem::Change { event, position })) => (event, position),
        other => panic!("expected a change, got {other:?}"),
    }
}

#[test]
fn no_feed_without_a_part_feed_and_can_subscribe_needs_both() {
    let plain = Composed::overlay(
        Arc::new(MemoryVista::new("a")),
        Arc::new(MemoryVista::new("b")),
    );
    assert!(plain.change_feed().is_none());
    assert!(!plain.capabilities().can_subscribe);

    let s = setup();
    assert!(s.composed.capabilities().can_subscribe);
    let feed = s.composed.change_feed().expect("a feed");
    assert_eq!(feed.name(), "overlay(pg+local)");
    // One part with a feed: its changes are followed, but not every change
    // is reported, so the composition does not claim `can_subscribe`.
    let half = Composed::merge(
        Arc::new(MemoryVista::new("local")),
        Arc::new(Fed {
            table: MemoryVista::new("remote"),
            feed: LogFeed::new("pg"),
        }),
    );
    assert_eq!(half.change_feed().expect("a feed").name(), "merge(pg+-)");
    assert!(!half.capabilities().can_subscribe);
}

#[test]
fn changes_of_both_parts_arrive_as_changes_of_the_visible_rows() {
    let s = setup();
    let feed = s.composed.change_feed().unwrap();
    let mut stream = feed.subscribe(None);

    // A base change of a row the drafts do not hold.
    s.base_feed.push(ChangeEvent::Updated {
        id: "p1".into(),
        fields: Some(record! { "v" => 10 }),
    });
    let (event, _) = change(next(&mut stream));
    assert_eq!(
        event,
        ChangeEvent::Updated {
            id: "p1".into(),
            fields: Some(record! { "v" => 10 })
        }
    );

    // A base change hidden by the draft p2 does not surface: the next item
    // is the change after it.
    s.base_feed.push(ChangeEvent::Removed { id: "p2".into() });
    s.base_feed.push(ChangeEvent::Inserted {
        id: "p9".into(),
        record: Some(record! { "v" => 9 }),
    });
    let (event, position) = change(next(&mut stream));
    assert_eq!(event.id(), Some("p9"));

    // A tombstone in the drafts removes the visible row.
    s.drafts.put_row("p3", tombstone());
    s.drafts_feed.push(ChangeEvent::Inserted {
        id: "p3".into(),
        record: Some(tombstone()),
    });
    let (event, _) = change(next(&mut stream));
    assert_eq!(event, ChangeEvent::Removed { id: "p3".into() });

    // A draft leaving reveals the base row, read at once.
    s.drafts.remove_row("p2");
    s.drafts_feed.push(ChangeEvent::Removed { id: "p2".into() });
    let (event, _) = change(next(&mut stream));
    assert_eq!(
        event,
        ChangeEvent::Inserted {
            id: "p2".into(),
            record: s.base.get_row("p2")
        }
    );
    // ...or removes it when the base has none.
    s.drafts_feed.push(ChangeEvent::Removed { id: "d7".into() });
    let (event, _) = change(next(&mut stream));
    assert_eq!(event, ChangeEvent::Removed { id: "d7".into() });
    // ...or asks for a refetch when the base cannot be read.
    s.base.fail_next(diorama_core::vista::VistaOp::Get, 1);
    s.drafts_feed.push(ChangeEvent::Removed { id: "p1".into() });
    let (event, _) = change(next(&mut stream));
    assert_eq!(
        event,
        ChangeEvent::Updated {
            id: "p1".into(),
            fields: None
        }
    );

    // Resets pass through; errors pass through naming the part.
    s.base_feed.push(ChangeEvent::Reset);
    assert_eq!(change(next(&mut stream)).0, ChangeEvent::Reset);
    s.drafts_feed.fail("connection lost");
    let err = next(&mut stream).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.message().contains("\"drafts\""), "{err}");
    assert_ne!(position, FeedPosition::default());
}

#[test]
fn resuming_from_a_composite_position_delivers_what_followed_in_both_parts() {
    let s = setup();
    let feed = s.composed.change_feed().unwrap();
    let mut stream = feed.subscribe(None);
    s.base_feed.push(ChangeEvent::Updated {
        id: "p1".into(),
        fields: None,
    });
    s.drafts_feed.push(ChangeEvent::Updated {
        id: "p2".into(),
        fields: None,
    });
    let mut last = None;
    for _ in 0..2 {
        last = Some(change(next(&mut stream)).1);
    }
    drop(stream);
    // While nobody listens.
    s.base_feed.push(ChangeEvent::Removed { id: "p3".into() });
    s.drafts_feed.push(ChangeEvent::Inserted {
        id: "d1".into(),
        record: Some(record! { "v" => 0 }),
    });
    s.base_feed.push(ChangeEvent::Inserted {
        id: "p4".into(),
        record: None,
    });
    let mut resumed = feed.subscribe(last);
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(change(next(&mut resumed)).0);
    }
    // Each part in its own order; nothing before the position again.
    let ids: Vec<_> = got.iter().map(|e| e.id().unwrap().to_string()).collect();
    let base_order: Vec<_> = ids.iter().filter(|id| id.starts_with('p')).collect();
    assert_eq!(base_order, ["p3", "p4"]);
    assert!(ids.contains(&"d1".to_string()));
    // Then live changes.
    s.drafts_feed.push(ChangeEvent::Reset);
    assert_eq!(change(next(&mut resumed)).0, ChangeEvent::Reset);
}

#[test]
fn gaps_pass_through_and_an_unreadable_position_is_a_gap() {
    let s = setup();
    let feed = s.composed.change_feed().unwrap();
    let mut stream = feed.subscribe(Some(FeedPosition(vec![9, 9, 9])));
    match next(&mut stream) {
        Some(Ok(FeedItem::Gap { reason, .. })) => assert!(reason.contains("composite position")),
        other => panic!("expected a gap, got {other:?}"),
    }
    s.base_feed.send(FeedItem::Gap {
        reason: "log trimmed".into(),
        position: FeedPosition::from_u64(40),
    });
    match next(&mut stream) {
        Some(Ok(FeedItem::Gap { reason, position })) => {
            assert!(reason.contains("\"products\"") && reason.contains("log trimmed"));
            // Resuming from the gap's position starts the base after 40.
            drop(stream);
            let mut again = feed.subscribe(Some(position));
            s.base_feed.push(ChangeEvent::Reset);
            assert_eq!(change(next(&mut again)).0, ChangeEvent::Reset);
        }
        other => panic!("expected a gap, got {other:?}"),
    }
}

#[test]
fn the_stream_ends_when_either_part_stops() {
    let s = setup();
    let feed = s.composed.change_feed().unwrap();
    let mut stream = feed.subscribe(None);
    s.base_feed.close();
    assert!(next(&mut stream).is_none());
}

#[test]
fn a_merge_has_no_tombstones_in_its_feed() {
    let primary = Arc::new(Fed {
        table: MemoryVista::new("local"),
        feed: LogFeed::new("local"),
    });
    let feed_of_primary = primary.feed.clone();
    let merged = Composed::merge(primary, Arc::new(MemoryVista::new("remote")));
    let mut stream = merged.change_feed().unwrap().subscribe(None);
    let inserted = ChangeEvent::Inserted {
        id: "x".into(),
        record: Some(tombstone()),
    };
    feed_of_primary.push(inserted.clone());
    assert_eq!(change(next(&mut stream)).0, inserted);
}

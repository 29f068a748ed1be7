//! Replicas in one process over the NATS server (`DIORAMA_NATS_URL`):
//! changes made through one reach the others' caches and sceneries, with
//! no echo; learned changes are announced; a purged stream is a gap; the
//! shared tier costs one master read per cold key across all replicas.

mod nats_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diorama_core::runtime::{BoxFuture, IntoRuntime};
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{
    ChangeEvent, Dio, DioEvent, Lens, MemoryBackend, MemoryVista, Record, Result, Vista, record,
};
use diorama_tokio::TokioRuntime;
use diorama_tokio::nats::Replica;
use nats_support::Scratch;

/// The master, counting its reads.
#[derive(Debug, Clone)]
struct Counted {
    table: MemoryVista,
    reads: Arc<AtomicU64>,
    delay: Duration,
}

impl Counted {
    fn new(table: MemoryVista) -> Self {
        Counted {
            table,
            reads: Arc::default(),
            delay: Duration::ZERO,
        }
    }

    #[allow(dead_code)]
    fn reads(&self) -> u64 {
        self.reads.load(Ordering::SeqCst)
    }
}

impl TableShell for Counted {
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
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.table.list(query)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.table.get(id).await
        })
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
        self.reads.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.table.fetch_window(query, offset, limit).await
        })
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
}

fn products() -> MemoryVista {
    MemoryVista::new("products").with_rows((0..20).map(|i| {
        (
            format!("p{i}"),
            record! { "name" => format!("item {i}"), "price" => i },
        )
    }))
}

fn lens() -> Lens {
    Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(TokioRuntime::current().into_runtime())
        .load_chunks_from_master()
        .event_bus_capacity(4096)
        .build()
        .unwrap()
}

async fn replica(scratch: &Scratch, name: &str, master: &Counted) -> (Replica, Dio) {
    let replica = Replica::connect(scratch.options(name)).await.unwrap();
    let dio = replica
        .make_dio(&lens(), Vista::new(master.clone()))
        .await
        .unwrap();
    (replica, dio)
}

/// Wait (bounded) until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    // Generous: a loaded 2-core CI machine can take seconds to converge;
    // a passing check returns at once.
    for _ in 0..2000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not within 20 s");
}

/// The same fields with the same values, in any order (a row put
/// together from a change and a later read lists its fields in another
/// order than the master).
fn same_fields(a: &Record, b: &Record) -> bool {
    a.len() == b.len() && a.iter().all(|(name, value)| b.get(name) == Some(value))
}

fn cached(dio: &Dio, id: &str) -> Option<Record> {
    dio.cache().get(id).unwrap().map(|row| row.record)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_replica_updates_the_others_in_place_with_no_echo() {
    let Some(scratch) = Scratch::new("write_reaches_others").await else {
        return;
    };
    let master = Counted::new(products());
    let (ra, a) = replica(&scratch, "a", &master).await;
    let (rb, b) = replica(&scratch, "b", &master).await;
    let (_rc, c) = replica(&scratch, "c", &master).await;
    // b and c show p1 in a record scenery.
    let view_b = b.record_scenery("p1").open().await.unwrap();
    let view_c = c.record_scenery("p1").open().await.unwrap();
    eventually("b loads p1", || view_b.record().is_some()).await;
    eventually("c loads p1", || view_c.record().is_some()).await;
    let generation = view_b.generation();
    let mut events = b.subscribe_events();

    let ticket = a.patch("p1", record! { "price" => 100 }).await.unwrap();
    ticket.outcome().await.unwrap();
    for (name, view) in [("b", &view_b), ("c", &view_c)] {
        eventually(&format!("{name} shows the new price"), || {
            view.record()
                .is_some_and(|row| row.record.get("price") == Some(&100.into()))
        })
        .await;
    }
    assert!(view_b.generation() > generation);
    assert_eq!(cached(&b, "p1").unwrap().get("price"), Some(&100.into()));
    assert_eq!(
        cached(&b, "p1").unwrap().get("name"),
        Some(&"item 1".into()),
        "a patch merges, the other fields stay"
    );
    // b saw the change as a change of p1, not a wholesale invalidation.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert!(
        seen.contains(&DioEvent::RecordChanged { id: "p1".into() }),
        "{seen:?}"
    );
    assert!(!seen.contains(&DioEvent::Invalidated), "{seen:?}");

    // No echo: nothing b applied was published again, a published once.
    assert!(ra.flush(Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rb.stats().published, 0, "{:?}", rb.stats());
    assert_eq!(ra.stats().published, 1, "{:?}", ra.stats());
    eventually("a skips its own message", || ra.stats().skipped >= 1).await;
    assert_eq!(ra.stats().skipped, 1, "a skips its own message");
    for dio in [a, b, c] {
        dio.shutdown().await.unwrap();
    }
    scratch.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_learned_outside_the_queue_are_announced_and_a_purge_is_a_gap() {
    let Some(scratch) = Scratch::new("learned_changes").await else {
        return;
    };
    let master = Counted::new(products());
    let (ra, a) = replica(&scratch, "a", &master).await;
    let (rb, b) = replica(&scratch, "b", &master).await;
    let view = b.record_scenery("p2").open().await.unwrap();
    eventually("b loads p2", || view.record().is_some()).await;

    // A live source told a: b follows.
    a.handle_event(ChangeEvent::Updated {
        id: "p2".into(),
        fields: Some(record! { "name" => "renamed" }),
    })
    .await
    .unwrap();
    eventually("b shows the learned change", || {
        cached(&b, "p2").is_some_and(|r| r.get("name") == Some(&"renamed".into()))
    })
    .await;
    a.removed("p3").unwrap();
    b.vista().get("p3").await.unwrap();
    let mut events = b.subscribe_events();
    a.invalidate_all();
    eventually("b is invalidated too", || {
        std::iter::from_fn(|| events.try_recv().ok()).any(|e| e == DioEvent::Invalidated)
    })
    .await;
    assert!(ra.flush(Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    eventually("a learns the three changes", || ra.stats().learned >= 3).await;
    assert_eq!(ra.stats().learned, 3, "{:?}", ra.stats());
    assert_eq!(
        rb.stats().published,
        0,
        "b announced nothing back: {:?}",
        rb.stats()
    );

    ra.flush(Duration::from_secs(10)).await;
    b.shutdown().await.unwrap();
    a.shutdown().await.unwrap();
    scratch.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_resumes_from_its_stored_position_and_a_purged_one_is_a_gap() {
    let Some(scratch) = Scratch::new("resume_and_gap").await else {
        return;
    };
    let master = Counted::new(products());
    let (ra, a) = replica(&scratch, "a", &master).await;
    let backend = Arc::new(MemoryBackend::new());
    let lens_b = || {
        Lens::builder()
            .cache_source(backend.clone())
            .runtime(TokioRuntime::current().into_runtime())
            .event_bus_capacity(4096)
            .build()
            .unwrap()
    };
    let open_b = |lens: Lens| {
        let scratch = &scratch;
        let master = master.clone();
        async move {
            let rb = Replica::connect(scratch.options("b")).await.unwrap();
            let dio = lens.make_dio(rb.share(Vista::new(master))).await.unwrap();
            let events = dio.subscribe_events();
            rb.attach(&dio).unwrap();
            (rb, dio, events)
        }
    };
    let (_rb, b, _) = open_b(lens_b()).await;
    b.vista().get("p5").await.unwrap();
    a.patch("p5", record! { "price" => 55 })
        .await
        .unwrap()
        .outcome()
        .await
        .unwrap();
    eventually("b follows", || {
        cached(&b, "p5").is_some_and(|r| r.get("price") == Some(&55.into()))
    })
    .await;
    b.shutdown().await.unwrap();
    drop(b);

    // Changes while b is away reach it when it comes back.
    a.patch("p5", record! { "price" => 56 })
        .await
        .unwrap()
        .outcome()
        .await
        .unwrap();
    let (_rb, b, mut events) = open_b(lens_b()).await;
    eventually("b catches up", || {
        cached(&b, "p5").is_some_and(|r| r.get("price") == Some(&56.into()))
    })
    .await;
    assert!(
        !std::iter::from_fn(|| events.try_recv().ok())
            .any(|e| matches!(e, DioEvent::ChangesLost { .. })),
        "resuming loses nothing"
    );
    b.shutdown().await.unwrap();
    drop(b);

    // Changes b never reads: the stream is purged meanwhile.
    a.patch("p5", record! { "price" => 57 })
        .await
        .unwrap()
        .outcome()
        .await
        .unwrap();
    assert!(ra.flush(Duration::from_secs(10)).await);
    let stream = scratch
        .jetstream()
        .get_stream(&scratch.stream)
        .await
        .unwrap();
    stream.purge().await.unwrap();
    let (_rb, b, mut events) = open_b(lens_b()).await;
    let mut lost = None;
    eventually("b says it lost changes", || {
        for event in std::iter::from_fn(|| events.try_recv().ok()) {
            if let DioEvent::ChangesLost { feed, reason } = event {
                lost = Some((feed, reason));
            }
        }
        lost.is_some()
    })
    .await;
    let (feed, reason) = lost.unwrap();
    assert_eq!(feed, format!("nats:{}", scratch.stream));
    assert!(reason.contains("no longer holds"), "{reason}");
    assert!(
        b.invalidated_at().as_millis() > 0,
        "everything it cached reads stale"
    );
    b.shutdown().await.unwrap();
    drop(b);

    // The stream is deleted and made again, and grows past b's position:
    // b's position names the old stream, so that is a gap too.
    scratch
        .jetstream()
        .delete_stream(&scratch.stream)
        .await
        .unwrap();
    for i in 0..8 {
        a.patch("p6", record! { "price" => 60 + i })
            .await
            .unwrap()
            .outcome()
            .await
            .unwrap();
    }
    assert!(ra.flush(Duration::from_secs(5)).await);
    let (_rb, b, mut events) = open_b(lens_b()).await;
    let mut lost = None;
    eventually("b says the stream is another", || {
        for event in std::iter::from_fn(|| events.try_recv().ok()) {
            if let DioEvent::ChangesLost { reason, .. } = event {
                lost = Some(reason);
            }
        }
        lost.is_some()
    })
    .await;
    let reason = lost.unwrap();
    assert!(reason.contains("made again"), "{reason}");
    b.shutdown().await.unwrap();
    a.shutdown().await.unwrap();
    scratch.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_stopped_during_writes_and_restarted_every_replica_converges_losing_nothing() {
    let Some(mut server) = nats_support::OwnServer::start("nats_restart") else {
        return;
    };
    let scratch = Scratch::on("nats_restart", &server.url()).await.unwrap();
    let master = Counted::new(products());
    let mut replicas = Vec::new();
    for name in ["a", "b", "c"] {
        replicas.push(replica(&scratch, name, &master).await);
    }
    let ids: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
    for (_, dio) in &replicas {
        for id in &ids {
            let view = dio.record_scenery(id.as_str()).open().await.unwrap();
            eventually("loads", || view.record().is_some()).await;
        }
    }
    let writes = 48;
    for i in 0..writes {
        if i == 16 {
            server.stop();
        }
        if i == 32 {
            server.resume();
        }
        let (_, dio) = &replicas[i % 3];
        let id = &ids[(i * 5) % ids.len()];
        dio.patch(id.as_str(), record! { "price" => 1_000 + i as i64 })
            .await
            .unwrap()
            .outcome()
            .await
            .unwrap();
    }
    for (replica, _) in &replicas {
        assert!(
            replica.flush(Duration::from_secs(15)).await,
            "{:?}",
            replica.stats()
        );
    }
    for (name, (_, dio)) in ["a", "b", "c"].iter().zip(&replicas) {
        for id in &ids {
            let truth = master.table.get(id).await.unwrap().unwrap();
            eventually(&format!("{name} converges on {id}"), || {
                cached(dio, id).is_some_and(|row| same_fields(&row, &truth))
            })
            .await;
        }
    }
    // Counted: every write announced once, and every announcement read by
    // every replica (applied, skipped as its own, or settled by a refetch).
    let published: u64 = replicas.iter().map(|(r, _)| r.stats().published).sum();
    assert_eq!(published, writes as u64);
    for (replica, _) in &replicas {
        let stats = replica.stats();
        eventually("every announcement is read", || {
            let s = replica.stats();
            s.applied + s.skipped + s.refetched == published
        })
        .await;
        assert!(stats.outages >= 1, "{stats:?}");
        assert_eq!(stats.collapsed, 0);
    }
    for (_, dio) in replicas {
        dio.shutdown().await.unwrap();
    }
    scratch.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_refuses_a_master_it_did_not_share_and_a_second_dio() {
    fn send_sync<T: Send + Sync + Clone + 'static>() {}
    send_sync::<Replica>();
    let Some(scratch) = Scratch::new("attach_errors").await else {
        return;
    };
    let master = Counted::new(products());
    let replica = Replica::connect(scratch.options("a")).await.unwrap();
    let plain = lens().make_dio(Vista::new(master.clone())).await.unwrap();
    let error = replica.attach(&plain).unwrap_err();
    assert_eq!(error.kind(), diorama_core::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("not shared"), "{error}");
    let shared = replica.share(Vista::new(master));
    let first = lens().make_dio(shared.clone()).await.unwrap();
    replica.attach(&first).unwrap();
    assert_eq!(first.followed_feeds(), vec![replica.feed_name()]);
    let second = lens().make_dio(shared).await.unwrap();
    let error = replica.attach(&second).unwrap_err();
    assert!(error.to_string().contains("attached already"), "{error}");
    let bad = Replica::connect(scratch.options("").stream("no spaces")).await;
    assert_eq!(
        bad.unwrap_err().kind(),
        diorama_core::ErrorKind::InvalidInput
    );
    for dio in [plain, first, second] {
        dio.shutdown().await.unwrap();
    }
    scratch.finish().await;
}

//! The shared tier: ten replicas with ten readers each of one cold key cost
//! the master one read; a cold window likewise; a failed master read frees
//! the lease; with NATS stopped every replica still answers, from the
//! master, without hanging.

mod nats_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diorama_core::runtime::{BoxFuture, IntoRuntime};
use diorama_core::scenery::RecordStatus;
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Dio, Error, Lens, MemoryBackend, MemoryVista, Record, Result, Vista, record};
use diorama_tokio::TokioRuntime;
use diorama_tokio::nats::Replica;
use nats_support::{OwnServer, Scratch};

/// The master: counts reads, answers after a delay, can be made to fail.
#[derive(Debug, Clone)]
struct Slow {
    table: MemoryVista,
    reads: Arc<AtomicU64>,
    failing: Arc<AtomicBool>,
}

impl Slow {
    fn new() -> Self {
        Slow {
            table: MemoryVista::new("products").with_rows((0..50).map(|i| {
                (
                    format!("p{i}"),
                    record! { "name" => format!("item {i}"), "price" => i },
                )
            })),
            reads: Arc::default(),
            failing: Arc::default(),
        }
    }

    fn reads(&self) -> u64 {
        self.reads.load(Ordering::SeqCst)
    }

    async fn read<T>(&self, read: BoxFuture<'_, Result<T>>) -> Result<T> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        // Long enough that every reader arrives while the first one reads.
        tokio::time::sleep(Duration::from_millis(150)).await;
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::unavailable("the master is down"));
        }
        read.await
    }
}

impl TableShell for Slow {
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
        Box::pin(self.read(self.table.list(query)))
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(self.read(self.table.get(id)))
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
        Box::pin(self.read(self.table.fetch_window(query, offset, limit)))
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

fn lens() -> Lens {
    Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(TokioRuntime::current().into_runtime())
        .load_chunks_from_master()
        .build()
        .unwrap()
}

async fn replicas(scratch: &Scratch, master: &Slow, n: usize) -> Vec<(Replica, Dio)> {
    let mut out = Vec::new();
    for i in 0..n {
        let replica = Replica::connect(scratch.options(&format!("r{i}")))
            .await
            .unwrap();
        let dio = replica
            .make_dio(&lens(), Vista::new(master.clone()))
            .await
            .unwrap();
        out.push((replica, dio));
    }
    out
}

/// Open `readers` record sceneries of `id` on every Dio at once and wait
/// for each to show the row; the names they read.
async fn read_everywhere(dios: &[(Replica, Dio)], id: &str, readers: usize) -> Vec<String> {
    let mut tasks = Vec::new();
    for (_, dio) in dios {
        for _ in 0..readers {
            let dio = dio.clone();
            let id = id.to_string();
            tasks.push(tokio::spawn(async move {
                let view = dio.record_scenery(id.as_str()).open().await.unwrap();
                let mut generation = view.subscribe();
                loop {
                    generation.mark_seen();
                    if view.status() == RecordStatus::Fresh {
                        let row = view.record().unwrap();
                        return row
                            .record
                            .get("name")
                            .unwrap()
                            .as_str()
                            .unwrap()
                            .to_string();
                    }
                    assert!(
                        !matches!(view.status(), RecordStatus::Failed { .. }),
                        "{:?}",
                        view.status()
                    );
                    generation.changed().await.unwrap();
                }
            }));
        }
    }
    let mut names = Vec::new();
    for task in tasks {
        names.push(
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("a reader hung")
                .unwrap(),
        );
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_replicas_with_ten_readers_of_a_cold_key_cost_one_master_read() {
    let Some(scratch) = Scratch::new("tier_one_read").await else {
        return;
    };
    let master = Slow::new();
    let dios = replicas(&scratch, &master, 10).await;
    let names = read_everywhere(&dios, "p7", 10).await;
    assert_eq!(names.len(), 100);
    assert!(names.iter().all(|name| name == "item 7"));
    assert_eq!(
        master.reads(),
        1,
        "one master read for 100 readers on 10 replicas"
    );
    let leases: u64 = dios.iter().map(|(r, _)| r.stats().leases).sum();
    let served: u64 = dios
        .iter()
        .map(|(r, _)| r.stats().tier_waits + r.stats().tier_hits)
        .sum();
    assert_eq!(leases, 1);
    assert!(
        served >= 9,
        "the other replicas were served by the tier: {served}"
    );

    // A cold window too: one master read for all.
    let mut tasks = Vec::new();
    for (_, dio) in &dios {
        let master = dio.master().clone();
        tasks.push(tokio::spawn(
            async move { master.fetch_window(10, 5).await },
        ));
    }
    for task in tasks {
        let page = task.await.unwrap().unwrap();
        assert_eq!(page.rows.len(), 5);
        assert_eq!(page.rows[0].0, "p10");
    }
    assert_eq!(master.reads(), 2, "one more read for the window");
    for (_, dio) in dios {
        dio.shutdown().await.unwrap();
    }
    scratch.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_master_read_frees_the_lease_and_a_write_drops_the_key() {
    let Some(scratch) = Scratch::new("tier_failure").await else {
        return;
    };
    let master = Slow::new();
    let dios = replicas(&scratch, &master, 2).await;
    let (a, b) = (&dios[0].1, &dios[1].1);
    master.failing.store(true, Ordering::SeqCst);
    let error = a.master().get("p3").await.unwrap_err();
    assert_eq!(error.kind(), diorama_core::ErrorKind::Unavailable);
    master.failing.store(false, Ordering::SeqCst);
    // The next reader takes a new lease at once (not after the old one's expiry).
    let started = std::time::Instant::now();
    let row = b.master().get("p3").await.unwrap().unwrap();
    assert_eq!(row.get("name"), Some(&"item 3".into()));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no wait for an expiry"
    );
    assert_eq!(master.reads(), 2);
    // Served from the tier now …
    a.master().get("p3").await.unwrap();
    assert_eq!(master.reads(), 2);
    // … until a write drops the key: the next read asks the master.
    a.patch("p3", record! { "name" => "new" })
        .await
        .unwrap()
        .outcome()
        .await
        .unwrap();
    let row = b.master().get("p3").await.unwrap().unwrap();
    assert_eq!(
        row.get("name"),
        Some(&"new".into()),
        "never the tier's older value"
    );
    assert_eq!(master.reads(), 3);
    for (_, dio) in dios {
        dio.shutdown().await.unwrap();
    }
    scratch.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nats_stopped_every_replica_still_answers_from_the_master() {
    let Some(mut server) = OwnServer::start("tier_nats_stopped") else {
        return;
    };
    let scratch = Scratch::on("tier_nats_stopped", &server.url())
        .await
        .unwrap();
    let master = Slow::new();
    let dios = replicas(&scratch, &master, 10).await;
    server.stop();
    let started = std::time::Instant::now();
    let names = read_everywhere(&dios, "p9", 2).await;
    assert_eq!(names.len(), 20);
    assert!(names.iter().all(|name| name == "item 9"));
    assert!(started.elapsed() < Duration::from_secs(8), "no hang");
    let fallbacks: u64 = dios.iter().map(|(r, _)| r.stats().fallbacks).sum();
    assert!(
        master.reads() >= 10,
        "each replica read the master: {}",
        master.reads()
    );
    assert!(master.reads() <= 20, "{}", master.reads());
    assert_eq!(fallbacks, master.reads());
    assert!(dios.iter().all(|(r, _)| r.stats().outages == 1));
    for (_, dio) in dios {
        dio.shutdown().await.unwrap();
    }
}

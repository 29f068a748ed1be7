//! Replicas over NATS JetStream (diorama-tokio feature `nats`), on the
//! server at `DIORAMA_NATS_URL` (default `nats://127.0.0.1:4222`; skipped
//! with one printed line when none answers, failing instead with
//! `DIORAMA_REQUIRE_SERVICES=1`), on tokio, two replicas in one process
//! over loopback:
//!
//! - `nats_propagation`: a write through replica A (`Dio::patch`, awaited
//!   until applied) until the generation of an open table scenery on
//!   replica B (a local view of 1,000 rows sorted by the written column)
//!   bumps: A's master write, its announcement (the shared tier's key
//!   dropped, the publish and its stream acknowledgement), B's consumer,
//!   the ordering rule, `Dio::handle_event`, the cache write, the event,
//!   the scenery re-placing the row. Besides criterion's estimate, 1,000
//!   writes are timed one by one for p50 and p99 (DESIGN §4 budget:
//!   p50 ≤ 5 ms, p99 ≤ 50 ms).
//! - `nats_cold_read/{tier,master}`: one cold row read through the shared
//!   tier when another replica filled it (a hit: one key-value read), and
//!   from a master that answers in 2 ms.
//! - Master reads saved by leases (printed): 10 replicas × 10 concurrent
//!   readers of each of 20 cold keys, with the shared tier and without.
//!
//! Measured (release, 2-core VM with other builds running, nats-server
//! 2.9.10 on the same machine; p50/p99 over 1,000 writes, one run):
//!
//! | bench | figure |
//! |---|---|
//! | `nats_propagation` p50 / p99 (budget ≤ 5 ms / ≤ 50 ms) | **0.50 ms / 0.73 ms** (max 5.3 ms) |
//! | `nats_propagation` (criterion mean, incl. a `block_on` per write) | 1.13 ms |
//! | master reads, 20 cold keys × 10 replicas × 10 readers | **20 with the shared tier, 2,000 without** |
//! | `nats_cold_read/tier` (a hit filled by another replica) | 0.20 ms |
//! | `nats_cold_read/master` (a master answering in 2 ms) | 3.3 ms |
//!
//! What the figures say: propagation is a tenth of the budget; most of it
//! is the two round trips of the announcement (dropping the row's shared
//! key, the publish acknowledged by the stream) and the consumer's
//! delivery. Leases make every cold key one master read however many
//! replicas and readers want it; a hit in the tier costs one key-value
//! read on loopback.
//!
//! Run: `cargo bench -p diorama-benches --bench nats_replicas -- --warm-up-time 1 --measurement-time 5`

#[path = "../../tokio-runtime/tests/nats_support/mod.rs"]
mod nats_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use diorama_core::cache::CachedRow;
use diorama_core::runtime::BoxFuture;
use diorama_core::scenery::RecordStatus;
use diorama_core::vista::{Clause, Id, Page, Query, SortDir, TableShell, VistaCapabilities};
use diorama_core::{
    Dio, Lens, MemoryBackend, MemoryVista, Record, Result, TableScenery, Vista, record,
};
use diorama_tokio::TokioRuntime;
use diorama_tokio::nats::Replica;
use nats_support::Scratch;

const ROWS: usize = 1_000;
const SAMPLES: usize = 1_000;

/// A master answering reads after `delay`, counting them.
#[derive(Debug, Clone)]
struct Master {
    table: MemoryVista,
    reads: Arc<AtomicU64>,
    delay: Duration,
}

impl Master {
    fn new(delay: Duration) -> Self {
        Master {
            table: MemoryVista::new("products").with_rows((0..ROWS).map(|i| {
                (
                    format!("p{i}"),
                    record! { "name" => format!("item {i}"), "price" => i as i64 },
                )
            })),
            reads: Arc::default(),
            delay,
        }
    }

    async fn read<T>(&self, read: BoxFuture<'_, Result<T>>) -> Result<T> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        read.await
    }
}

impl TableShell for Master {
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

async fn copy_master(dio: Dio) -> Result<()> {
    let rows = dio.master().list().await?;
    let now = Some(dio.runtime().wall_clock());
    dio.cache().insert_batch(
        rows.into_iter()
            .map(|(id, record)| (id, CachedRow::complete(record, now)))
            .collect(),
    )
}

fn lens(copy: bool) -> Lens {
    let builder = Lens::builder()
        .runtime(Arc::new(TokioRuntime::current()))
        .cache_source(Arc::new(MemoryBackend::new()))
        .event_bus_capacity(4096);
    if copy {
        builder.on_start(copy_master).build().expect("a lens")
    } else {
        builder.build().expect("a lens")
    }
}

struct Propagation {
    a: Dio,
    b_view: TableScenery,
    _b: Dio,
    _replicas: (Replica, Replica),
}

async fn propagation_setup(scratch: &Scratch) -> Propagation {
    let master = Master::new(Duration::ZERO);
    let ra = Replica::connect(scratch.options("a"))
        .await
        .expect("replica a");
    let rb = Replica::connect(scratch.options("b"))
        .await
        .expect("replica b");
    let a = ra
        .make_dio(&lens(true), Vista::new(master.clone()))
        .await
        .expect("a");
    let b = rb
        .make_dio(&lens(true), Vista::new(master))
        .await
        .expect("b");
    let b_view = b
        .table_scenery()
        .sort("price", SortDir::Asc)
        .initial_range(0..100)
        .open()
        .await
        .expect("a scenery");
    tokio::time::sleep(Duration::from_millis(300)).await;
    Propagation {
        a,
        b_view,
        _b: b,
        _replicas: (ra, rb),
    }
}

async fn propagate(setup: &Propagation, n: usize) -> Duration {
    let mut generations = setup.b_view.subscribe();
    generations.mark_seen();
    let id = format!("p{}", n % ROWS);
    let started = Instant::now();
    let ticket = setup
        .a
        .patch(id, record! { "price" => (ROWS + n) as i64 })
        .await
        .expect("queued");
    ticket.outcome().await.expect("applied");
    tokio::time::timeout(Duration::from_secs(5), generations.changed())
        .await
        .expect("the scenery bumps within 5 s")
        .expect("the scenery is open");
    started.elapsed()
}

/// Master reads for 10 replicas × 10 readers of each of `keys` cold keys.
async fn cold_reads(scratch: &Scratch, shared: bool, keys: usize) -> u64 {
    let master = Master::new(Duration::from_millis(2));
    let mut dios = Vec::new();
    for i in 0..10 {
        let options = scratch
            .options(&format!("cold{i}-{shared}"))
            .shared_tier(shared);
        let replica = Replica::connect(options).await.expect("replica");
        let dio = replica
            .make_dio(&lens(false), Vista::new(master.clone()))
            .await
            .expect("a Dio");
        dios.push((replica, dio));
    }
    for key in 0..keys {
        let id = format!("p{}", 500 + key);
        let mut tasks = Vec::new();
        for (_, dio) in &dios {
            for _ in 0..10 {
                let dio = dio.clone();
                let id = id.clone();
                tasks.push(tokio::spawn(async move {
                    let view = dio.record_scenery(id.as_str()).open().await.expect("view");
                    let mut generation = view.subscribe();
                    while view.status() != RecordStatus::Fresh {
                        generation.mark_seen();
                        generation.changed().await.expect("open");
                    }
                }));
            }
        }
        for task in tasks {
            task.await.expect("reader");
        }
    }
    for (_, dio) in dios {
        dio.shutdown().await.expect("shutdown");
    }
    master.reads.load(Ordering::SeqCst)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let Some(scratch) = runtime.block_on(Scratch::new("bench")) else {
        return;
    };
    let mut criterion = Criterion::default().configure_from_args();

    let setup = runtime.block_on(propagation_setup(&scratch));
    let mut samples: Vec<Duration> = runtime.block_on(async {
        let mut samples = Vec::with_capacity(SAMPLES);
        for n in 0..SAMPLES {
            samples.push(propagate(&setup, n).await);
        }
        samples
    });
    samples.sort();
    println!(
        "nats_propagation over {SAMPLES} writes: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
    );
    let mut n = SAMPLES;
    criterion.bench_function("nats_propagation", |b| {
        b.iter(|| {
            n += 1;
            runtime.block_on(propagate(&setup, n))
        });
    });
    drop(setup);

    let keys = 20;
    let with = runtime.block_on(cold_reads(&scratch, true, keys));
    let without = runtime.block_on(cold_reads(&scratch, false, keys));
    println!(
        "nats_leases: {keys} cold keys × 10 replicas × 10 readers: {with} master reads with the shared tier, {without} without"
    );

    // One cold read: a tier hit (another replica filled the key) against
    // the master itself.
    let (hit_replica, hit_master) = runtime.block_on(async {
        let master = Master::new(Duration::from_millis(2));
        let filler = Replica::connect(scratch.options("filler")).await.unwrap();
        let reader = Replica::connect(scratch.options("reader")).await.unwrap();
        let filled = filler.share(Vista::new(master.clone()));
        for i in 0..ROWS {
            filled.get(&format!("p{i}")).await.unwrap();
        }
        (reader.share(Vista::new(master.clone())), Vista::new(master))
    });
    let mut i = 0;
    criterion.bench_function("nats_cold_read/tier", |b| {
        b.iter(|| {
            i = (i + 1) % ROWS;
            runtime.block_on(hit_replica.get(&format!("p{i}"))).unwrap()
        });
    });
    criterion.bench_function("nats_cold_read/master", |b| {
        b.iter(|| {
            i = (i + 1) % ROWS;
            runtime.block_on(hit_master.get(&format!("p{i}"))).unwrap()
        });
    });
    criterion.final_summary();
    runtime.block_on(scratch.finish());
}

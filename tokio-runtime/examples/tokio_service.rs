//! The quickstart's policy inside a tokio program: a sled cache on disk, a
//! slow master, and three tasks on the multi-thread scheduler — two reading
//! rows through the facade Vista while a third writes through the queue.
//! Then a restart on the same cache answers from disk without the master.
//!
//! The readers check what a service handler relies on: a read never waits
//! for the master once the cache is warm, every row read is whole, and a
//! row's price never goes back in time (writes reach the cache in queue
//! order).
//!
//! Run: `cargo run -p diorama-tokio --example tokio_service` (the cache goes
//! to a temporary directory; `-- <dir>` keeps it in `<dir>`). `cargo test -p
//! diorama-tokio --example tokio_service` runs it as a test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diorama_core::cache::CachedRow;
use diorama_core::{Dio, Error, Lens, MemoryVista, Result, Value, Vista, WriteOp, record};
use diorama_tokio::{LensBuilderExt, TokioRuntime};

/// Rows of the master.
const ROWS: usize = 2_000;
/// Rows the writer keeps changing (and the readers keep reading).
const HOT: usize = 20;
/// Times the writer changes each hot row.
const ROUNDS: usize = 5;

fn id(i: usize) -> String {
    format!("p{i:05}")
}

/// The master: generated products behind 5 ms of latency.
fn master(runtime: &TokioRuntime) -> MemoryVista {
    let master = MemoryVista::generate("products", ROWS, |i| {
        (
            id(i),
            record! { "name" => format!("Product {i}"), "price" => 0.0 },
        )
    });
    master.set_latency(Duration::from_millis(5), runtime.clone());
    master
}

/// The quickstart's policy (cache in `dir`, total from the master, one
/// master window per chunk), plus a warm-up on the first start: a service
/// answers from its cache, so an empty cache is filled from the master
/// before the Dio serves.
fn policy(dir: &Path, runtime: &TokioRuntime) -> Result<Lens> {
    Ok(Lens::builder()
        .cache_at(dir)?
        .runtime(runtime.clone())
        .on_start(|dio| async move {
            if dio.cache().count()? > 0 {
                return Ok(());
            }
            let rows = dio.master().list().await?;
            let now = Some(dio.runtime().wall_clock());
            dio.cache().insert_batch(
                rows.into_iter()
                    .map(|(id, record)| (id, CachedRow::complete(record, now)))
                    .collect(),
            )
        })
        // Total from the master's `count`, one `fetch_window` per chunk.
        .page_from_master()
        .build()?)
}

fn price(record: &diorama_core::Record) -> Result<f64> {
    match record.get("price") {
        Some(Value::Float(price)) => Ok(*price),
        other => Err(Error::failed(format!("a row without a price: {other:?}"))),
    }
}

/// Read hot rows through the facade until the writer is done; returns how
/// many reads it made.
async fn reader(dio: Dio, writing: Arc<AtomicBool>, seed: usize) -> Result<usize> {
    let facade = dio.vista();
    let mut seen: HashMap<String, f64> = HashMap::new();
    let mut reads = 0;
    let mut i = seed;
    loop {
        let done = !writing.load(Ordering::Acquire);
        i = (i * 7 + 3) % HOT;
        let id = id(i);
        let record = facade
            .get(&id)
            .await?
            .ok_or_else(|| Error::failed(format!("{id} is missing")))?;
        let (name, price) = (record.get("name"), price(&record)?);
        if name != Some(&Value::from(format!("Product {i}"))) {
            return Err(Error::failed(format!("{id} read as {record}")));
        }
        let last = seen.entry(id.clone()).or_insert(price);
        if price < *last {
            return Err(Error::failed(format!(
                "{id} went back from {last} to {price}"
            )));
        }
        *last = price;
        reads += 1;
        if done {
            return Ok(reads);
        }
        tokio::task::yield_now().await;
    }
}

/// Change every hot row `ROUNDS` times, each write awaited (a handler that
/// answers once the master took the write).
async fn writer(dio: Dio, writing: Arc<AtomicBool>) -> Result<usize> {
    let mut writes = 0;
    for round in 1..=ROUNDS {
        for i in 0..HOT {
            let op = WriteOp::Patch {
                id: id(i),
                fields: record! { "price" => round as f64 },
            };
            dio.write(op).await?.outcome().await?;
            writes += 1;
        }
    }
    writing.store(false, Ordering::Release);
    Ok(writes)
}

async fn service(dir: &Path) -> Result<()> {
    let runtime = TokioRuntime::current();
    let master = master(&runtime);

    println!("— first start, cold cache at {}", dir.display());
    let lens = policy(dir, &runtime)?;
    let dio = lens.make_dio(Vista::new(master.clone())).await?;
    println!("warmed: {} rows cached", dio.cache().count()?);
    let calls = master.total_calls();

    let writing = Arc::new(AtomicBool::new(true));
    let readers = [1, 2].map(|seed| tokio::spawn(reader(dio.clone(), writing.clone(), seed)));
    let writes = tokio::spawn(writer(dio.clone(), writing.clone()));
    let writes = writes.await.map_err(|e| Error::failed(e.to_string()))??;
    for (n, reader) in readers.into_iter().enumerate() {
        let reads = reader.await.map_err(|e| Error::failed(e.to_string()))??;
        println!(
            "reader {}: {reads} facade reads, prices never went back",
            n + 1
        );
    }
    println!(
        "writer: {writes} writes; master calls while serving: {} (the writes only)",
        master.total_calls() - calls
    );
    for i in 0..HOT {
        let record = dio.vista().get(&id(i)).await?;
        let cached = record.as_ref().map(price).transpose()?;
        if cached != Some(ROUNDS as f64) {
            return Err(Error::failed(format!("{} ends at {cached:?}", id(i))));
        }
    }
    dio.shutdown().await?;
    drop(dio);
    drop(lens);

    println!("— restart, warm cache");
    let calls = master.total_calls();
    let lens = policy(dir, &runtime)?;
    let dio = lens.make_dio(Vista::new(master.clone())).await?;
    let record = dio.vista().get(&id(7)).await?;
    println!(
        "{} = {:?}, master calls since restart: {}",
        id(7),
        record.map(|r| r.to_string()),
        master.total_calls() - calls
    );
    if master.total_calls() != calls {
        return Err(Error::failed("the restart asked the master"));
    }
    dio.shutdown().await
}

/// The service on a two-worker multi-thread runtime, with the cache in
/// `dir` (a temporary directory if `None`).
fn run(dir: Option<PathBuf>) -> Result<()> {
    let scratch = tempfile::tempdir().map_err(|e| Error::failed(e.to_string()))?;
    let dir = dir.unwrap_or_else(|| scratch.path().join("cache"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::failed(e.to_string()))?;
    runtime.block_on(service(&dir))
}

fn main() -> Result<()> {
    run(std::env::args().nth(1).map(PathBuf::from))
}

#[cfg(test)]
#[test]
fn runs() {
    run(None).expect("the service runs");
}

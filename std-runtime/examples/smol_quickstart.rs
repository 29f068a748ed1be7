//! Quickstart on smol with a sled cache on disk: a slow master, a Lens
//! whose cache lives in a directory, a paged table scenery scrolled through,
//! a write shown pending then fresh, and a restart that paints the same
//! rows from the warm cache before the master answers anything.
//!
//! Run: `cargo run -p diorama-std --example smol_quickstart` (the cache goes
//! to a temporary directory; `-- <dir>` keeps it in `<dir>`). `cargo test -p
//! diorama-std --example smol_quickstart` runs it as a test.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diorama_core::scenery::RowStatus;
use diorama_core::{Error, Lens, MemoryVista, Result, TableScenery, Vista, record};
use diorama_std::{LensBuilderExt, SmolRuntime};
use futures_lite::future;

/// The master: 10,000 products behind 80 ms of latency, like a remote API.
fn master(runtime: &SmolRuntime) -> MemoryVista {
    let master = MemoryVista::generate("products", 10_000, |i| {
        (
            format!("p{i:05}"),
            record! { "name" => format!("Product {i}"), "price" => 1.0 + i as f64 / 100.0 },
        )
    });
    master.set_latency(Duration::from_millis(80), runtime.clone());
    master
}

/// The policy: cache in `dir` (`cache_at`: sled, default options), total
/// from the master, one master window per chunk. The same in both sessions.
fn lens(dir: &Path, runtime: &SmolRuntime) -> Result<Lens> {
    Ok(Lens::builder()
        .cache_at(dir)?
        .runtime(runtime.clone())
        // Total from the master's `count`, one `fetch_window` per chunk.
        .page_from_master()
        // A refused configuration converts into `Error` (InvalidInput).
        .build()?)
}

/// Row `index` as shown: record and status.
fn shown(view: &TableScenery, index: usize) -> String {
    match view.row(index) {
        Some(row) => format!("{} ({:?})", row.record, row.status),
        None => "(not loaded)".to_owned(),
    }
}

/// Wait (at most 10 s) until `ready` holds, waking on each repaint.
async fn settle(
    view: &TableScenery,
    what: &str,
    ready: impl Fn(&TableScenery) -> bool,
) -> Result<()> {
    let mut changes = view.subscribe();
    let waiting = async {
        while !ready(view) {
            changes
                .changed()
                .await
                .map_err(|_| Error::failed("the scenery closed"))?;
        }
        Ok(())
    };
    let timeout = async {
        async_io::Timer::after(Duration::from_secs(10)).await;
        Err(Error::failed(format!("timed out waiting for {what}")))
    };
    future::or(waiting, timeout).await
}

fn main() -> Result<()> {
    run(std::env::args().nth(1).map(PathBuf::from))
}

/// Both sessions, with the cache in `dir` (a temporary directory if `None`).
fn run(dir: Option<PathBuf>) -> Result<()> {
    let scratch = tempfile::tempdir().map_err(|e| Error::failed(e.to_string()))?;
    let dir = dir.unwrap_or_else(|| scratch.path().join("cache"));
    let runtime = SmolRuntime::global();
    let master = master(&runtime);
    future::block_on(first_session(&dir, &runtime, &master))?;
    future::block_on(second_session(&dir, &runtime, &master))?;
    Ok(())
}

/// Cold cache: everything shown comes from the master, and stays on disk.
async fn first_session(dir: &Path, runtime: &SmolRuntime, master: &MemoryVista) -> Result<()> {
    println!("— first run, cold cache at {}", dir.display());
    let lens = lens(dir, runtime)?;
    let dio = lens.make_dio(Vista::new(master.clone())).await?;
    let view = dio.table_scenery().page_size(50).open().await?;
    settle(&view, "the first page", |v| v.row(49).is_some()).await?;
    println!(
        "opened: {} rows, row 0 = {}",
        view.row_count(),
        view.row(0)
            .map(|r| r.record.to_string())
            .unwrap_or_default()
    );

    // Scroll: one chunk for the viewport, nothing in between is fetched.
    for start in [1_000, 5_000] {
        view.set_viewport(start..start + 20);
        settle(&view, "the viewport", |v| v.row(start + 19).is_some()).await?;
    }
    let windows: Vec<_> = master.windows().iter().map(|w| w.1..w.1 + w.2).collect();
    println!("master windows fetched: {windows:?}");

    // A write: pending at once, fresh once the master took it.
    let id = view
        .row(5_010)
        .map(|r| r.id.clone())
        .ok_or_else(|| Error::failed("row 5010"))?;
    let ticket = dio.try_patch(id.clone(), record! { "price" => 9.99 })?;
    settle(&view, "the pending write", |v| {
        v.row(5_010)
            .is_some_and(|r| r.status == RowStatus::PendingWrite)
    })
    .await?;
    println!("written:  {}", shown(&view, 5_010));
    ticket.outcome().await?;
    settle(&view, "the written row", |v| {
        v.row(5_010).is_some_and(|r| r.status == RowStatus::Fresh)
    })
    .await?;
    println!("accepted: {}", shown(&view, 5_010));

    // Shutdown drains the queue and flushes the cache to disk.
    drop(view);
    dio.shutdown().await
}

/// Warm cache: the rows are there before the master answers.
async fn second_session(dir: &Path, runtime: &SmolRuntime, master: &MemoryVista) -> Result<()> {
    println!("— second run, warm cache");
    master.reset_calls();
    let lens = lens(dir, runtime)?;
    let dio = lens.make_dio(Vista::new(master.clone())).await?;
    let started = Instant::now();
    let view = dio
        .table_scenery()
        .page_size(50)
        .initial_range(5_000..5_020)
        .open()
        .await?;
    // `open` placed the cached rows before returning: no waiting here. The
    // refetch of the viewport (refresh_on_open) runs behind them.
    let painted = started.elapsed();
    let row = view
        .row(5_010)
        .ok_or_else(|| Error::failed("the warm cache should show row 5010 at once"))?;
    if row.record.get("price") != Some(&9.99.into()) {
        return Err(Error::failed("the write did not survive the restart"));
    }
    println!(
        "painted {} rows from the cache in {painted:.1?}: row 5010 = {}",
        (5_000..5_020).filter(|&i| view.row(i).is_some()).count(),
        row.record
    );
    println!("total known at once: {} rows", view.row_count());
    settle(&view, "the refetch", |v| v.stats().chunk_loads > 0).await?;
    println!(
        "refetch landed after {:.1?} ({} master calls)",
        started.elapsed(),
        master.total_calls()
    );
    let cached = dio.vista().get(&row.id).await?;
    println!("facade read (cache): {:?}", cached.map(|r| r.to_string()));
    drop(view);
    dio.shutdown().await
}

#[cfg(test)]
#[test]
fn runs() {
    run(None).expect("the quickstart runs");
}

//! Warm sled caches of 10k, 100k and 1M rows for the reopen benches, built
//! once through the real write path and kept in the target directory.
//!
//! Each cache is what a session that scrolled through a whole paged table
//! scenery leaves behind: every row, the positions of the default query
//! (blocks of 64) and the stated total, in cache table `products` of
//! `<target>/diorama-bench-cache/sled-<rows>`. A marker file
//! `sled-<rows>.format3.built` next to it says the build finished (in the
//! sled backend's cache format 3); without it the directory is deleted and
//! built again. Building takes about 12 s for 1M
//! rows in release (chunks of 1,000 pushed through a scenery on the
//! simulator); later runs reuse it. Delete `<target>/diorama-bench-cache` to
//! start over.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diorama_core::cache::CacheBackend;
use diorama_core::sim::SimRuntime;
use diorama_core::{Dio, Error, Lens, MemoryVista, Record, Vista, record};
use diorama_std::SledBackend;

/// Rows per chunk (and per build step).
pub(crate) const CHUNK: usize = 1000;

/// The record of row `i`.
pub(crate) fn row(i: usize) -> Record {
    record! { "name" => format!("Product {i}"), "price" => i as f64 * 0.5, "stock" => (i % 7) as i64 }
}

/// The id of row `i`.
pub(crate) fn id(i: usize) -> String {
    format!("p{i:08}")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The directory of the warm cache of `rows` rows (built first if needed)
/// and whether this call built it.
pub(crate) fn cache_dir(rows: usize) -> (PathBuf, bool) {
    let root = target_dir().join("diorama-bench-cache");
    let dir = root.join(format!("sled-{rows}"));
    let marker = root.join(format!("sled-{rows}.format3.built"));
    if marker.exists() && dir.exists() {
        return (dir, false);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove a half-built cache");
    }
    std::fs::create_dir_all(&root).expect("create the bench cache directory");
    eprintln!("building the {rows}-row sled cache in {} …", dir.display());
    let started = Instant::now();
    build(&dir, rows);
    std::fs::write(&marker, format!("{rows} rows\n")).expect("write the marker");
    eprintln!("built in {:.1?}", started.elapsed());
    // sled replays everything a session wrote on the next open (it writes
    // its snapshot only while opening); do that replay once here so the
    // benches see a cache in its steady state.
    let replay = Instant::now();
    drop(SledBackend::open(&dir).expect("reopen the fresh cache"));
    eprintln!(
        "first open after the build session (sled replays its log): {:.1?}",
        replay.elapsed()
    );
    (dir, true)
}

/// A Lens over the cache at `backend` whose chunks are generated rows and
/// whose total is `rows`: the policy the cache was built with.
pub(crate) fn lens(sim: &SimRuntime, backend: Arc<dyn CacheBackend>, rows: usize) -> Lens {
    Lens::builder()
        .cache_source(backend)
        .runtime(sim.runtime())
        .refresh_on_open(false)
        .total_provider(move |_dio, _query| async move { Ok(rows) })
        .on_load_chunk(move |_dio, range, _query, sink| async move {
            for i in range.start..range.end.min(rows) {
                sink.push(i, id(i), row(i))?;
            }
            Ok(())
        })
        .build()
        .expect("a valid Lens")
}

/// A Lens for reading a warm cache: a master call is a bench bug.
pub(crate) fn reading_lens(sim: &SimRuntime, backend: Arc<dyn CacheBackend>) -> Lens {
    Lens::builder()
        .cache_source(backend)
        .runtime(sim.runtime())
        .refresh_on_open(false)
        .on_load_chunk(|_dio, range, _query, _sink| async move {
            Err(Error::failed(format!(
                "rows {range:?} were fetched: the warm cache should have had them"
            )))
        })
        .build()
        .expect("a valid Lens")
}

/// The Dio over the products table of `lens`.
pub(crate) fn dio(sim: &SimRuntime, lens: &Lens) -> Dio {
    sim.block_on(lens.make_dio(Vista::new(MemoryVista::new("products"))))
        .expect("make_dio")
}

fn build(dir: &Path, rows: usize) {
    let sim = SimRuntime::new(1);
    let backend = Arc::new(SledBackend::open(dir).expect("create the cache"));
    let lens = lens(&sim, backend.clone(), rows);
    let dio = dio(&sim, &lens);
    let view = sim
        .block_on(
            dio.table_scenery()
                .page_size(CHUNK)
                .initial_range(0..CHUNK)
                .open(),
        )
        .expect("open the scenery");
    for start in (0..rows).step_by(CHUNK) {
        view.set_viewport(start..start + CHUNK);
        sim.run_for(Duration::from_millis(60));
    }
    assert_eq!(view.stats().chunk_failures, 0);
    assert_eq!(dio.cache().count().expect("count"), rows);
    // The simulator cannot wait for sled's flush on the blocking pool
    // (`Dio::shutdown`); flush on this thread instead. Nothing is queued.
    drop(view);
    drop(dio);
    drop(lens);
    backend.flush_blocking().expect("flush the cache");
    drop(sim);
}

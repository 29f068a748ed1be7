//! Resident memory of a reopened 1M-row sled cache with a 100-row viewport
//! open (DESIGN §4: the scenery holds O(viewport) rows).
//!
//! Not a timing bench: it prints the process's `VmRSS` (from
//! `/proc/self/status`) at each step of a warm start and the scenery's
//! `stats().rows_held`, and fails if the scenery holds more than its
//! viewport plus its retained window. The cache comes from `sled_fixture`
//! (built once into the target directory). `SLED_MEMORY_ROWS=<n>` picks
//! another of the fixture sizes (10000, 100000).
//!
//! Measured (release; VmRSS and its change from the step before), rows in
//! blocks of 64 (cache format 3); one key per row (format 2) in
//! parentheses:
//!
//! | step | 100k rows | 1M rows |
//! |---|---|---|
//! | before opening the cache | 2.6 MiB | 2.6 MiB (2.4) |
//! | `SledBackend::open` + table | 4.5 MiB (+2.0) | 5.5 MiB (+2.9; format 2: 35.1, +32.8) |
//! | `make_dio` | 4.9 MiB (+0.3) | 5.8 MiB (+0.3) |
//! | scenery open, 100-row viewport readable | 5.2 MiB (+0.3) | 6.1 MiB (+0.4) |
//! | after 50 scroll jumps across the table | 7.6 MiB (+2.4) | 10.1 MiB (+3.9) |
//!
//! The scenery holds exactly its 100 rows (`rows_held` 100 after opening
//! and after every jump: rows left behind are dropped), so its memory does
//! not depend on the table. What does is sled's: its page table (one entry
//! per page, loaded at open) was ≈ 33 MiB at 1M rows with one key per row
//! and is ≈ 3 MiB with 64 rows per key; its page cache grows with the
//! blocks read, up to the backend's 64 MiB bound.
//! Run: `cargo bench -p diorama-benches --bench sled_memory`

mod sled_fixture;

use std::sync::Arc;
use std::time::Duration;

use diorama_core::cache::CacheBackend;
use diorama_core::sim::SimRuntime;
use diorama_std::SledBackend;

const VIEWPORT: usize = 100;

/// The process's resident set in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

fn report(step: &str, rss: u64, before: u64) {
    println!(
        "{step:<48} VmRSS {:>8.1} MiB  (Δ {:+.1} MiB)",
        rss as f64 / 1024.0,
        (rss as f64 - before as f64) / 1024.0
    );
}

fn main() {
    let rows: usize = std::env::var("SLED_MEMORY_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let (dir, built) = sled_fixture::cache_dir(rows);
    if built {
        // The build's memory stays with this process: measure in a fresh one.
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .status()
            .expect("run the measurement");
        std::process::exit(status.code().unwrap_or(1));
    }
    let sim = SimRuntime::new(5);

    let start = rss_kib();
    report("before opening the cache", start, start);

    let backend: Arc<dyn CacheBackend> = SledBackend::open(&dir).expect("open").arc();
    let table = backend.open_table("products").expect("open the table");
    assert_eq!(table.count().unwrap(), rows);
    let opened = rss_kib();
    report("SledBackend::open + table", opened, start);

    let lens = sled_fixture::reading_lens(&sim, backend);
    let dio = sled_fixture::dio(&sim, &lens);
    let made = rss_kib();
    report("make_dio", made, opened);

    let middle = rows / 2;
    let view = sim
        .block_on(
            dio.table_scenery()
                .page_size(VIEWPORT)
                .initial_range(middle..middle + VIEWPORT)
                .open(),
        )
        .expect("open the scenery");
    for i in middle..middle + VIEWPORT {
        assert_eq!(view.row(i).expect("readable").id, sled_fixture::id(i));
    }
    let shown = rss_kib();
    report("scenery open, 100-row viewport readable", shown, made);
    println!(
        "  rows_held {} of {} (row_count {})",
        view.stats().rows_held,
        rows,
        view.row_count()
    );
    assert_eq!(view.stats().rows_held, VIEWPORT);

    let mut rng = fastrand::Rng::with_seed(9);
    for _ in 0..50 {
        let at = rng.usize(0..rows - VIEWPORT);
        view.set_viewport(at..at + VIEWPORT);
        sim.run_for(Duration::from_millis(100));
        assert!(view.row(at).is_some(), "row {at} restored from the cache");
    }
    let scrolled = rss_kib();
    report("after 50 scroll jumps across the table", scrolled, shown);
    let held = view.stats().rows_held;
    println!(
        "  rows_held {held}, cache hits {}, chunk loads {}",
        view.stats().cache_hits,
        view.stats().chunk_loads
    );
    // The viewport plus the retained window on each side (10 pages).
    assert!(
        held <= VIEWPORT + 2 * 10 * VIEWPORT,
        "the scenery holds {held} rows"
    );
    assert_eq!(view.stats().chunk_loads, 0, "no master call");
}

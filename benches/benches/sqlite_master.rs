//! SqliteVista on the apps' million-row product table (issue 16's
//! budgets): a 50-row window at offset 900,000 in every sort ≤ 50 ms cold;
//! a search's first window ≤ 50 ms and its count ≤ 200 ms.
//!
//! The table is the apps' (`diorama_apps::sample`, `target/diorama-grid/
//! products-1000000.sqlite`, built on first use in about a minute, with
//! its sort and search indexes). "Cold" is a vista opened for the one call:
//! new connections (empty SQLite page caches, no cached count, no prepared
//! statements); the file itself is in the OS page cache, as on a server
//! that has been up for a while. Opening is not timed.
//!
//! - `deep_window/<sort>`: `fetch_window(offset 900,000, limit 50)`, the
//!   window's rows and the query's total, for no sort and each column
//!   both ways.
//! - `search_first_window/<needle>`: `fetch_window(offset 0, limit 50)` of
//!   a search (rows and total), sorted by `-price`.
//! - `search_count/<needle>`: `count` of a search.
//!
//! Measured (release, 2-core VM, criterion means; the spread between
//! runs is the machine):
//!
//! | bench | before (issue 16) | now |
//! |---|---|---|
//! | `deep_window/none` | — | 2.6 ms (a rowid range: the table's rowids have no gap; the count from a rank table) |
//! | `deep_window/<sort>` | 1.48 s at 654,321 (`price`) | 3.2–7.0 ms (the rank table finds the bucket, the index is walked from its bound; 24–65 ms before, walking the far end of the index) |
//! | `deep_window/mmap/*` | — | no steady gain, so mapping stays off by default |
//! | `search_first_window` | 0.63 s (`lamp`, sorted) | 23–40 ms (18–29 ms at another time) |
//! | `search_count` | a scan, 0.6–5.7 s | 13–32 ms |
//!
//! Run: `cargo bench -p diorama-benches --bench sqlite_master -- --warm-up-time 1 --measurement-time 3`

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use diorama_apps::sample::args::default_data_dir;
use diorama_apps::sample::data::{self, TABLE};
use diorama_core::vista::{Query, Sort, SortDir, TableShell};
use diorama_std::sqlite::{SqliteOptions, SqliteVista};

const ROWS: usize = 1_000_000;

fn table() -> std::path::PathBuf {
    let dataset = data::prepare(&default_data_dir(), ROWS, &mut std::io::stderr())
        .expect("the million-row table");
    dataset.db_path
}

/// Time `call` on a vista opened for it, `iters` times.
fn cold<T>(path: &std::path::Path, iters: u64, call: impl Fn(&SqliteVista) -> T) -> Duration {
    cold_with(path, &SqliteOptions::default(), iters, call)
}

fn cold_with<T>(
    path: &std::path::Path,
    options: &SqliteOptions,
    iters: u64,
    call: impl Fn(&SqliteVista) -> T,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let vista = SqliteVista::open_with(path, TABLE, "id", options).expect("open");
        let started = Instant::now();
        std::hint::black_box(call(&vista));
        total += started.elapsed();
    }
    total
}

fn sorts() -> Vec<(String, Query)> {
    let mut sorts = vec![("none".to_string(), Query::new())];
    for column in data::INDEXED {
        for (dir, sign) in [(SortDir::Asc, ""), (SortDir::Desc, "-")] {
            sorts.push((
                format!("{sign}{column}"),
                Query::new().with_sort(Sort::new(*column, dir)),
            ));
        }
    }
    sorts
}

fn deep_window(c: &mut Criterion) {
    let path = table();
    let mut group = c.benchmark_group("deep_window");
    group.sample_size(10);
    for (name, query) in sorts() {
        group.bench_function(BenchmarkId::from_parameter(&name), |b| {
            b.iter_custom(|iters| {
                cold(&path, iters, |vista| {
                    let page = smol::block_on(vista.fetch_window(&query, 900_000, 50)).unwrap();
                    assert_eq!(page.rows.len(), 50);
                    page
                })
            })
        });
    }
    // The same with the file memory-mapped (256 MiB per reader).
    let mapped = SqliteOptions::default().mmap_size(256 << 20);
    for (name, query) in sorts().into_iter().take(3) {
        group.bench_function(BenchmarkId::new("mmap", &name), |b| {
            b.iter_custom(|iters| {
                cold_with(&path, &mapped, iters, |vista| {
                    smol::block_on(vista.fetch_window(&query, 900_000, 50)).unwrap()
                })
            })
        });
    }
    group.finish();
}

const NEEDLES: [&str; 4] = ["lamp", "walnut", "nordic oak", "qqq"];

fn search(c: &mut Criterion) {
    let path = table();
    let mut group = c.benchmark_group("search_first_window");
    group.sample_size(10);
    for needle in NEEDLES {
        let query = Query::new()
            .with_search(needle)
            .with_sort(Sort::new("price", SortDir::Desc));
        group.bench_function(BenchmarkId::from_parameter(needle), |b| {
            b.iter_custom(|iters| {
                cold(&path, iters, |vista| {
                    smol::block_on(vista.fetch_window(&query, 0, 50)).unwrap()
                })
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group("search_count");
    group.sample_size(10);
    for needle in NEEDLES {
        let query = Query::new().with_search(needle);
        group.bench_function(BenchmarkId::from_parameter(needle), |b| {
            b.iter_custom(|iters| {
                cold(&path, iters, |vista| {
                    smol::block_on(vista.count(&query)).unwrap()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, deep_window, search);
criterion_main!(benches);

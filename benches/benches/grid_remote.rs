//! The grid's remote path (`grid --remote`, issue 15): a smol desktop app
//! caching a tokio service caching a database. The `serve` service runs
//! in this process on a tokio runtime of its own, over a generated SQLite
//! table of 100,000 products, with a fresh sled cache, on a loopback port;
//! the grid side is the grid's own [`Session`] (its Lens, sled cache,
//! smol runtime and paged table scenery) over
//! [`HttpVista`](diorama_std::http::HttpVista) with `Source::remote`.
//!
//! - `grid_remote/cold_viewport_50`: `set_viewport` to a 50-row window the
//!   grid has not shown yet (a random 50-aligned offset; chunks of 50, so
//!   one chunk load), until all 50 rows are shown: the chunk load, one
//!   HTTP request, serve's list scenery (its chunk of 100 rows from SQLite
//!   when its own cache lacks it), the JSON both ways and the grid's cache
//!   write. Offsets repeat rarely (2,000 windows); a repeat is a cache hit
//!   for serve, never for the grid (its cache is cleared between samples).
//! - `grid_remote/warm_open_50`: a second open of the grid's first screen
//!   over a warm cache: a new table scenery of the default query, placed
//!   from persisted positions, all 50 rows shown at open with 0 HTTP
//!   requests (checked each iteration).
//!
//! Measured (release, the 2-core VM shared with other builds; criterion
//! `--warm-up-time 1 --measurement-time 3`, 30 samples, point estimates):
//!
//! | case | time |
//! |---|---|
//! | `cold_viewport_50` | 54.3 ms: the grid's 50 ms viewport debounce (it waits for scrolling to pause), then ≈ 4.3 ms for the load |
//! | `warm_open_50` | 100 µs (0 HTTP requests) |
//!
//! The ≈ 4.3 ms of a cold window is the grid's chunk load and cache
//! write, the request (≈ 0.45 ms through HttpVista, `http_window`), and
//! serve's own cold chunk: a 100-row window from SQLite into its sled
//! cache, and its list scenery.
//!
//! Run: `cargo bench -p diorama-benches --bench grid_remote -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::ops::Range;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use diorama_apps::grid::session::Session;
use diorama_apps::grid::{GridArgs, Source};
use diorama_apps::serve::{Service, ServiceOptions, open_products};
use diorama_core::TableScenery;

const ROWS: usize = 100_000;
const WINDOW: usize = 50;

/// `serve` on its own runtime.
struct Serve {
    _runtime: tokio::runtime::Runtime,
    _service: Service,
    base: String,
}

fn start_serve(dir: &std::path::Path) -> Serve {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (service, listener) = runtime.block_on(async {
        let (service, _) = open_products(dir, ROWS, ServiceOptions::default(), std::io::stderr())
            .await
            .expect("open serve");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        (service, listener)
    });
    let base = format!("http://{}", listener.local_addr().expect("address"));
    runtime.spawn(service.clone().serve(listener, std::future::pending()));
    Serve {
        _runtime: runtime,
        _service: service,
        base,
    }
}

/// Spin (yielding) until every row of `range` is shown; the rows are read
/// the way the grid's frame reads them.
fn wait_shown(view: &TableScenery, range: Range<usize>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    smol::block_on(async {
        let mut changes = view.subscribe();
        while !view.rows(range.clone()).iter().all(Option::is_some) {
            assert!(Instant::now() < deadline, "rows {range:?} never shown");
            let _ = futures_lite::future::or(
                async {
                    let _ = changes.changed().await;
                },
                async {
                    async_io::Timer::after(Duration::from_millis(50)).await;
                },
            )
            .await;
        }
    });
}

fn grid_remote(c: &mut Criterion) {
    let served = tempfile::tempdir().expect("tempdir");
    let serve = start_serve(served.path());
    let mut group = c.benchmark_group("grid_remote");
    group.sample_size(30);

    // A cold grid: its own cache in a fresh directory, the first screen shown.
    let cold_grid = || {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut args = GridArgs::new(dir.path());
        args.remote = Some(serve.base.clone());
        args.page_size = WINDOW;
        let source = Source::remote(&serve.base, dir.path());
        let session =
            smol::block_on(Session::open(&args, source.clone(), 0..WINDOW)).expect("open");
        wait_shown(&session.view, 0..WINDOW);
        (dir, args, source, session, std::collections::HashSet::new())
    };
    let mut grid = Some(cold_grid());
    group.bench_function("cold_viewport_50", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                // Every window shown once: start over with a cold grid
                // (untimed), so no timed window is in the grid's cache.
                if grid
                    .as_ref()
                    .is_some_and(|g| g.4.len() + 1 >= ROWS / WINDOW)
                {
                    let (_, _, _, session, _) = grid.take().expect("grid");
                    smol::block_on(session.dio.shutdown()).expect("shutdown");
                    drop(session);
                    grid = Some(cold_grid());
                }
                let (_, _, _, session, shown) = grid.as_mut().expect("grid");
                let start = loop {
                    let start = fastrand::usize(1..ROWS / WINDOW) * WINDOW;
                    if shown.insert(start) {
                        break start;
                    }
                };
                let began = Instant::now();
                session.view.set_viewport(start..start + WINDOW);
                wait_shown(&session.view, start..start + WINDOW);
                spent += began.elapsed();
                black_box(session.view.row(start));
            }
            spent
        })
    });
    let (_grid_dir, args, source, session, _) = grid.take().expect("grid");
    // Drain and flush, so the next session opens warm.
    smol::block_on(session.dio.shutdown()).expect("shutdown");
    drop(session);

    let warm = smol::block_on(Session::open(&args, source, 0..WINDOW)).expect("reopen");
    assert!(warm.warm, "the cache holds the first screen");
    let calls = warm.master_calls();
    group.bench_function("warm_open_50", |b| {
        b.iter(|| {
            let view = smol::block_on(
                warm.dio
                    .table_scenery()
                    .page_size(WINDOW)
                    .initial_range(0..WINDOW)
                    .open(),
            )
            .expect("open");
            assert!(
                view.rows(0..WINDOW).iter().all(Option::is_some),
                "shown at open"
            );
            black_box(view)
        })
    });
    assert_eq!(warm.master_calls(), calls, "a warm open sends no request");
    group.finish();
    smol::block_on(warm.dio.shutdown()).expect("shutdown");
}

criterion_group!(benches, grid_remote);
criterion_main!(benches);

//! Restart on disk: what a Dio wrote to a sled cache (rows, scenery
//! positions, totals, row states) is all there after everything was dropped
//! and the directory reopened by a new Lens, before any master call.
//!
//! Run on smol and on tokio's multi-thread scheduler, each phase on a fresh
//! harness (dropping the harness ends every task, so nothing keeps the
//! database open: reopening a path sled still has open in this process
//! fails, which this test would report).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::cache::{CacheBackend, CachedRow, RowState};
use diorama_core::scenery::RowStatus;
use diorama_core::vista::Id;
use diorama_core::{Lens, LensBuilder, MemoryVista, Vista, record};
use diorama_std::SledBackend;
use diorama_tests::backends::memory;
use diorama_tests::harness::{Harness, SmolHarness, TokioHarness};

const ROWS: usize = 1000;
const DEBOUNCE: Duration = Duration::from_millis(5);

fn product_id(i: usize) -> Id {
    format!("p{i:04}")
}

fn products() -> MemoryVista {
    MemoryVista::new("products").with_rows((0..ROWS).map(|i| {
        let record = record! { "name" => format!("Product {i}"), "price" => i as i64 };
        (product_id(i), record)
    }))
}

/// A Lens over `backend` whose chunks come from the master's windows; with
/// `total`, a total provider from `count`.
fn lens<H: Harness>(h: &H, backend: Arc<dyn CacheBackend>, total: bool) -> LensBuilder {
    let builder = Lens::builder()
        .cache_source(backend)
        .runtime(h.runtime())
        .viewport_debounce(DEBOUNCE)
        .on_load_chunk(|dio, range, query, sink| async move {
            let page = dio
                .master()
                .shell()
                .fetch_window(&query, range.start, range.len())
                .await?;
            for (i, (id, record)) in page.rows.into_iter().enumerate() {
                sink.push(range.start + i, id, record)?;
            }
            Ok(())
        });
    if total {
        builder.total_provider(|dio, query| async move { dio.master().shell().count(&query).await })
    } else {
        builder
    }
}

fn settle<H: Harness>(h: &H) {
    h.advance(DEBOUNCE + Duration::from_millis(1));
    while let Some(left) = h.next_timer_in().filter(|left| *left <= DEBOUNCE) {
        h.advance(left + Duration::from_millis(1));
    }
}

/// What the first life of the cache wrote, read back through its Dio.
struct Written {
    rows: Vec<(Id, CachedRow)>,
    ids: Vec<Option<Id>>,
}

/// Phase one: load 0..100 and 500..600 through a table scenery, patch
/// through the facade, invalidate a row, shut down.
fn write_through_a_dio<H: Harness>(h: &H, dir: &Path, master: &MemoryVista) -> Written {
    let backend = SledBackend::open(dir).expect("open the cache").arc();
    let lens = lens(h, backend, true).build().unwrap();
    let dio = h
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    view.set_viewport(500..600);
    settle(h);
    assert_eq!(view.estimated_total(), Some(ROWS));
    assert!(view.rows(500..600).iter().all(Option::is_some));

    h.block_on(dio.vista().patch("p0003", record! { "price" => 7 }))
        .unwrap();
    dio.invalidate_record(product_id(50));
    h.block_on(dio.shutdown()).unwrap();

    let rows = dio.cache().scan(None, usize::MAX).unwrap();
    assert_eq!(rows.len(), 200, "two chunks of rows");
    let patched = rows.iter().find(|(id, _)| id == "p0003").unwrap();
    assert_eq!(patched.1.record.get("price"), Some(&7.into()));
    assert_eq!(
        master.get_row("p0003").unwrap().get("price"),
        Some(&7.into())
    );
    let stale = rows.iter().find(|(id, _)| *id == product_id(50)).unwrap();
    assert_eq!(stale.1.state, RowState::Stale);
    let ids = view
        .rows(0..ROWS)
        .into_iter()
        .map(|row| row.map(|row| row.id.clone()))
        .collect();
    Written { rows, ids }
}

/// Phase two: a new Lens over the reopened directory, no refresh on open,
/// no total provider: everything must come from disk.
fn read_back<H: Harness>(h: &H, dir: &Path, master: &MemoryVista, written: &Written) {
    let backend = SledBackend::open(dir)
        .expect("reopen the cache: every handle of the first life is closed")
        .arc();
    let lens = lens(h, backend, false)
        .refresh_on_open(false)
        .build()
        .unwrap();
    master.reset_calls();
    let dio = h
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();
    let rows = dio.cache().scan(None, usize::MAX).unwrap();
    assert_eq!(
        rows, written.rows,
        "rows, states and fetch times as written"
    );

    let view = h
        .block_on(dio.table_scenery().initial_range(0..100).open())
        .unwrap();
    assert_eq!(master.total_calls(), 0, "no master call to open");
    assert_eq!(view.estimated_total(), Some(ROWS), "the persisted total");
    let shown = |range: std::ops::Range<usize>| -> Vec<Option<Id>> {
        view.rows(range)
            .into_iter()
            .map(|row| row.map(|row| row.id.clone()))
            .collect()
    };
    assert_eq!(shown(0..100), written.ids[0..100].to_vec());
    let stale = view.row(50).unwrap();
    assert_eq!(stale.id, product_id(50));
    assert_eq!(stale.status, RowStatus::Stale, "the invalidated row");
    let patched = view.row(3).unwrap();
    assert_eq!(patched.record.get("price"), Some(&7.into()));
    assert_eq!(patched.status, RowStatus::Fresh);

    view.set_viewport(500..600);
    settle(h);
    assert_eq!(shown(500..600), written.ids[500..600].to_vec());
    assert!(
        view.rows(500..600)
            .iter()
            .all(|row| row.as_ref().is_some_and(|r| r.status == RowStatus::Fresh))
    );
    assert_eq!(
        master.total_calls(),
        0,
        "the persisted block served from disk"
    );
    h.block_on(dio.shutdown()).unwrap();
}

fn restart_on_disk<H: Harness>(make: impl Fn() -> H) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let master = products();
    let written = {
        let h = make();
        write_through_a_dio(&h, &path, &master)
        // `h` drops here: its tasks end, the last cache handles close.
    };
    assert_eq!(
        written.ids.iter().flatten().count(),
        200,
        "200 rows at their positions"
    );
    let h = make();
    read_back(&h, &path, &master, &written);
}

#[test]
fn restart_on_smol() {
    restart_on_disk(|| SmolHarness::new(memory()));
}

#[test]
fn restart_on_tokio_multi_thread() {
    restart_on_disk(|| TokioHarness::multi_thread(memory()));
}

//! The child process of the crash test (`tests/crash_sled.rs`): writes
//! through a sled-backed Dio until it is killed.
//!
//! Usage: `crash_writer <cache dir> <table name>`
//!
//! On smol's global executor it opens the sled cache at `<cache dir>` with
//! default options, makes a Dio over a generated [`MemoryVista`] (rows
//! `c000000`, … with `name` and `n`) cached in table `<table name>`, and
//! opens a paged table scenery, then prints `ready`. Then, step by step
//! (`k = 0, 1, …`):
//!
//! 1. scrolls the scenery to rows `k·WINDOW .. (k+1)·WINDOW` and waits until
//!    the chunk load has written them to the cache (rows and positions, one
//!    batch);
//! 2. through the facade Vista inserts `w<k>` = `{ step: k }` and patches
//!    `c<k·WINDOW>` with `{ patched: k }`, and waits until both are in the
//!    cache (the queue is serial: the patch completing means both did);
//! 3. prints `wrote <k+1>`: steps `0..=k` are in the cache, maybe not on disk;
//! 4. every [`FLUSH_EVERY`] steps calls `dio.cache().flush()` and, once it
//!    returned, prints `flushed <k+1>`: steps `0..=k` are durable.
//!
//! Every line is printed only after what it reports is done, so the parent
//! knows exactly what must survive a `SIGKILL`. When the master runs out of
//! rows it flushes a last time and waits to be killed. Any error exits with
//! status 2 and a message on stderr (the parent asserts the child was still
//! running when it killed it).

use std::process::ExitCode;
use std::time::Duration;

use diorama_core::{DioEvent, Lens, MemoryVista, Record, Result, Runtime, Vista, record};
use diorama_std::{SledBackend, SmolRuntime};
use futures_lite::future;

/// Rows per step (one chunk, one viewport).
const WINDOW: usize = 50;
/// Rows of the master: enough steps for far longer than the parent waits.
const MASTER_ROWS: usize = 40_000;
/// Steps between explicit flushes.
const FLUSH_EVERY: usize = 4;

/// The master's row at index `i`; the parent checks cached rows against it.
fn master_row(i: usize) -> (String, Record) {
    (
        format!("c{i:06}"),
        record! { "name" => format!("Item {i}"), "n" => i as i64 },
    )
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(table), None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: crash_writer <cache dir> <table name>");
        return ExitCode::from(2);
    };
    match future::block_on(run(&dir, &table)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crash_writer: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run(dir: &str, table: &str) -> Result<()> {
    let runtime = SmolRuntime::global();
    let backend = SledBackend::open(dir)?;
    let master = MemoryVista::generate("items", MASTER_ROWS, master_row);
    let lens = Lens::builder()
        .cache_source(backend)
        .runtime(runtime.clone())
        .viewport_debounce(Duration::from_millis(1))
        .total_provider(|dio, query| async move { dio.master().shell().count(&query).await })
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
        })
        .build()?;
    let dio = lens.make_dio_as(Vista::new(master), table).await?;
    let mut events = dio.subscribe_events();
    let view = dio
        .table_scenery()
        .page_size(WINDOW)
        .initial_range(0..WINDOW)
        .open()
        .await?;
    let facade = dio.vista();
    println!("ready");

    let steps = MASTER_ROWS / WINDOW;
    for k in 0..steps {
        let window = k * WINDOW..(k + 1) * WINDOW;
        view.set_viewport(window.clone());
        let ids: Vec<String> = window.clone().map(|i| master_row(i).0).collect();
        loop {
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            if dio.cache().get_many(&refs)?.iter().all(Option::is_some) {
                break;
            }
            // Any event may be the landing; a lagging receiver just re-checks.
            if let Ok(DioEvent::LoadFailed { error, .. }) = events.recv().await {
                return Err(error);
            }
        }

        let patched = ids[0].clone();
        facade
            .insert(Some(format!("w{k:06}")), record! { "step" => k as i64 })
            .await?;
        facade
            .patch(&patched, record! { "patched" => k as i64 })
            .await?;
        // Nothing else writes: once no write is pending, both are in the
        // cache (a write leaves the pending set after its cache update).
        while dio.pending_writes() > 0 {
            if let Ok(DioEvent::WriteFailed { error, .. }) = events.recv().await {
                return Err(error);
            }
        }
        let landed = dio.cache().get(&patched)?.map(|row| row.record);
        let inserted = dio.cache().get(&format!("w{k:06}"))?;
        if landed.and_then(|r| r.get("patched").cloned()) != Some((k as i64).into())
            || inserted.is_none()
        {
            return Err(diorama_core::Error::failed(format!(
                "step {k}: a facade write did not reach the cache"
            )));
        }
        println!("wrote {}", k + 1);

        if (k + 1) % FLUSH_EVERY == 0 {
            dio.cache().flush().await?;
            println!("flushed {}", k + 1);
        }
    }
    dio.cache().flush().await?;
    println!("flushed {steps}");
    println!("done");
    // Wait to be killed, like a process that is still running.
    loop {
        runtime.sleep(Duration::from_secs(3600)).await;
    }
}

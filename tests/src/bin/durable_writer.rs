//! The child process of the durable-writes crash test
//! (`tests/crash_durable.rs`): a stream of writes through a Dio over a
//! SQLite master file and a sled cache, until it is killed.
//!
//! Usage: `durable_writer <dir> <run>`
//!
//! Opens the SQLite master `<dir>/master.sqlite` (table `items`, made by the
//! parent) and the sled cache `<dir>/cache` (`open_or_rebuild`), makes a Dio
//! (which replays the writes an earlier, killed run left unconfirmed) and
//! prints `ready`. Then [`WRITERS`] tasks each patch rows of their own
//! (`w<writer>-<row>`), round robin, with `n` values unique to this run
//! (`run · 10⁹ + writer · 10⁶ + i`), one write after another without
//! waiting for the master. For each write it prints, once that is true:
//!
//! - `queued <id> <n>`: the write is in the queue;
//! - `durable <id> <n>`: its ticket said durable (its intent is on disk);
//! - `applied <id> <n>`: the master applied it.
//!
//! Any error exits with status 2 and a message on stderr.

use std::process::ExitCode;

use diorama_core::{Lens, Result, RuntimeExt, Vista, record};
use diorama_std::sqlite::SqliteVista;
use diorama_std::{SledBackend, SmolRuntime};
use futures_lite::future;

/// Concurrent writers.
const WRITERS: u64 = 8;
/// Rows each writer owns.
const ROWS_PER_WRITER: u64 = 8;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(run), None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: durable_writer <dir> <run>");
        return ExitCode::from(2);
    };
    let Ok(run) = run.parse::<u64>() else {
        eprintln!("durable_writer: <run> must be a number");
        return ExitCode::from(2);
    };
    match future::block_on(writes(&dir, run)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("durable_writer: {error}");
            ExitCode::from(2)
        }
    }
}

async fn writes(dir: &str, run: u64) -> Result<()> {
    let dir = std::path::Path::new(dir);
    let master = SqliteVista::open(dir.join("master.sqlite"), "items", "id")?;
    let cache = SledBackend::open_or_rebuild(dir.join("cache"))?;
    let lens = Lens::builder()
        .cache_source(cache)
        .runtime(SmolRuntime::global())
        .build()?;
    let dio = lens.make_dio(Vista::new(master)).await?;
    println!("ready");
    let runtime = SmolRuntime::global();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let dio = dio.clone();
            let aside = runtime.clone();
            runtime.spawn("durable_writer.writer", async move {
                for i in 0.. {
                    let id = format!("w{writer}-{}", i % ROWS_PER_WRITER);
                    let n = run * 1_000_000_000 + writer * 1_000_000 + i;
                    let ticket = dio.patch(id.clone(), record! { "n" => n as i64 }).await?;
                    println!("queued {id} {n}");
                    ticket.durable().await?;
                    println!("durable {id} {n}");
                    // The outcome is awaited aside: the next write goes out
                    // while this one is on its way to the master.
                    drop(aside.spawn("durable_writer.outcome", async move {
                        if ticket.outcome().await.is_ok() {
                            println!("applied {id} {n}");
                        }
                    }));
                }
                Ok::<(), diorama_core::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .map_err(|e| diorama_core::Error::failed(format!("a writer ended: {e}")))??;
    }
    Ok(())
}

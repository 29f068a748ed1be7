//! Wiring the app: the generated database, the sled cache, the service
//! and the listener.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use diorama_core::cache::IntoCacheBackend;
use diorama_core::{Error, Result};
use diorama_std::sqlite::SqliteVista;

use super::app::{Service, ServiceOptions};
use super::args::{ReplicaArgs, ServeArgs};
use super::schema::Schema;
use crate::sample::data::{self, Dataset, TABLE};

/// The service's sled cache for a table of `rows`: its own, not the grid
/// demo's (`cache-<rows>.sled`), since sled lets one process open a
/// database at a time and both may run side by side.
pub fn cache_path(dir: &Path, rows: usize) -> PathBuf {
    dir.join(format!("serve-cache-{rows}.sled"))
}

/// Prepare the database of `rows` generated products in `dir` (built on
/// first use, with a progress line on `progress`) and open the service
/// over it with its sled cache. Call from inside a tokio runtime; the
/// build runs on a blocking thread.
///
/// A database built by this call starts with an empty cache: a cache left
/// from an earlier database of that size may hold edits the new one lacks.
///
/// Errors: I/O and SQLite failures (with the path), the cache's errors.
pub async fn open_products(
    dir: &Path,
    rows: usize,
    options: ServiceOptions,
    progress: impl Write + Send + 'static,
) -> Result<(Service, Dataset)> {
    open_products_as(dir, rows, options, None, None, progress).await
}

/// [`open_products`] with its sled cache in `cache_dir` (default `dir`)
/// and, with `replica` flags naming a server and a replica, as one of
/// several replicas over the database (see [`Service::open_as`]); each
/// replica's cache is then its own (`serve-cache-<rows>-<replica>.sled`),
/// so replicas over one data directory never share one.
///
/// Errors: as [`open_products`]; `InvalidInput` for bad replica options.
pub async fn open_products_as(
    dir: &Path,
    rows: usize,
    options: ServiceOptions,
    cache_dir: Option<&Path>,
    replica: Option<&ReplicaArgs>,
    progress: impl Write + Send + 'static,
) -> Result<(Service, Dataset)> {
    let owned = dir.to_path_buf();
    let dataset = tokio::task::spawn_blocking(move || {
        let mut progress = progress;
        data::prepare(&owned, rows, &mut progress)
    })
    .await
    .map_err(|e| Error::failed(format!("building the database: {e}")))??;
    let replica = replica.and_then(|args| args.options(&dataset.db_path));
    let mut cache_dir = cache_path(cache_dir.unwrap_or(dir), rows);
    if let Some(replica) = &replica {
        cache_dir = cache_dir.with_file_name(format!(
            "serve-cache-{rows}-{}.sled",
            crate::serve::args::file_safe(&replica.replica)
        ));
    }
    if dataset.built_in.is_some() && cache_dir.exists() {
        std::fs::remove_dir_all(&cache_dir).map_err(|e| {
            Error::failed(format!(
                "removing the stale cache {}: {e}",
                cache_dir.display()
            ))
        })?;
    }
    let master = SqliteVista::open(&dataset.db_path, TABLE, "id")?;
    let (cache, notice) = crate::sample::cache::open_cache(&cache_dir)?;
    if let Some(notice) = notice {
        // Printed as well as logged: someone starting the service by hand
        // must see that the cache was replaced or distrusted.
        eprintln!("serve: {notice}");
        tracing::warn!("{notice}");
    }
    let service = Service::open_as(
        Arc::new(master),
        cache.into_cache_backend(),
        Schema::products(),
        options,
        replica,
    )
    .await?;
    Ok((service, dataset))
}

/// The whole program, for a `main`: parse the process's command line
/// (clap prints `--help`, or a bad flag's error and exits with status 2),
/// then [`run`] on a multi-thread tokio runtime; a failure is printed as
/// `serve: <error>` with status 1.
pub fn main() -> ExitCode {
    let args = ServeArgs::parse();
    init_logging();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("starting the tokio runtime: {e}")))
        .and_then(|runtime| runtime.block_on(run(&args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("serve: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Log to stderr through `tracing-subscriber`: `info` and up unless
/// `RUST_LOG` says otherwise (`RUST_LOG=warn` silences the request lines);
/// `log` records (r2d2's, SQLite's vista) are forwarded. A second call
/// (or a subscriber already set) changes nothing.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Everything the app does once `args` are parsed: prepare the data (the
/// SQLite table, or with `--master` the PostgreSQL one), serve
/// until Ctrl-C, then drain the write queue and flush the cache. Call from
/// inside a tokio runtime.
///
/// Errors: building or opening the data and the cache, binding the
/// address, serving.
pub async fn run(args: &ServeArgs) -> Result<()> {
    if let Some(cache) = &args.cache {
        std::fs::create_dir_all(cache)
            .map_err(|e| Error::failed(format!("creating {}: {e}", cache.display())))?;
    }
    let service = match &args.master {
        Some(url) => {
            let cache_dir = args.cache.as_deref().unwrap_or(&args.dataset.data);
            let (service, table) = super::pg::open_postgres(
                url,
                &args.table,
                args.dataset.rows,
                args.options.clone(),
                cache_dir,
                std::io::stderr(),
            )
            .await?;
            eprintln!("{} (its change feed followed)", table.describe(url));
            service
        }
        None => {
            let (service, dataset) = open_products_as(
                &args.dataset.data,
                args.dataset.rows,
                args.options.clone(),
                args.cache.as_deref(),
                Some(&args.replica),
                std::io::stderr(),
            )
            .await?;
            eprintln!("{}", dataset.describe());
            service
        }
    };
    if let Some(replica) = service.replica() {
        eprintln!(
            "replica {} of {} (NATS {})",
            replica.options().replica,
            replica.options().stream,
            replica.options().url
        );
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Error::failed(format!("binding {}: {e}", args.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::failed(format!("reading the bound address: {e}")))?;
    // `ctrl_c()` installs its handler when first polled: polled once now,
    // before "serving" is printed, a Ctrl-C sent as soon as the line shows
    // is caught rather than killing the process with the default action.
    let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
    let early = futures_lite::future::poll_once(&mut ctrl_c).await;
    eprintln!("serving http://{addr} (Ctrl-C stops)");
    eprintln!("  curl 'http://{addr}/products?limit=5&sort=-price&q=lamp'");
    eprintln!("  curl http://{addr}/products/p0000042");
    eprintln!(
        "  curl -X PATCH -H 'content-type: application/json' -d '{{\"price\": 19.99}}' http://{addr}/products/p0000042"
    );
    eprintln!("  curl http://{addr}/stats");
    eprintln!("  curl http://{addr}/metrics");
    let stop = async move {
        let caught = match early {
            Some(caught) => caught,
            None => ctrl_c.await,
        };
        // Without a signal handler, serve until the process is killed.
        if caught.is_err() {
            std::future::pending::<()>().await;
        }
    };
    service
        .serve(listener, stop)
        .await
        .map_err(|e| Error::failed(format!("serving {addr}: {e}")))?;
    eprintln!("stopped: queued writes reached the master, the cache is flushed");
    Ok(())
}

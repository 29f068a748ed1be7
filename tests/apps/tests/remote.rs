//! The desktop grid's remote path: `HttpVista` against the real `serve`
//! (its service on a loopback port of a tokio runtime of the test's own,
//! over a small generated SQLite table), and the headless grid with
//! `--remote` reading through it — a smol app caching a tokio service
//! caching a database.
//!
//! Expected rows come from the generator (`products::product`) and from
//! the SQLite table itself (the truth), never from the service.

use std::io;
use std::path::Path;
use std::sync::Arc;

use diorama_apps::grid::model::App;
use diorama_apps::grid::render::draw;
use diorama_apps::grid::screen::buffer_text;
use diorama_apps::grid::session::Session;
use diorama_apps::grid::{GridArgs, Source, run_script};
use diorama_apps::sample::data::{self, TABLE};
use diorama_apps::sample::products::{product, product_id};
use diorama_apps::serve::{Schema, Service, ServiceOptions, open_products, open_products_as};
use diorama_core::scenery::RowStatus;
use diorama_core::vista::{MemoryVista, Query, Sort, TableShell, VistaOp};
use diorama_core::{ErrorKind, MemoryBackend, Record, TableScenery, Value};
use diorama_std::http::HttpVista;
use diorama_std::sqlite::SqliteVista;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ROWS: usize = 2_000;

/// A `serve` service on a loopback port, on a runtime of its own.
struct Serve {
    runtime: tokio::runtime::Runtime,
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<io::Result<()>>>,
}

impl Serve {
    fn start<F>(open: impl FnOnce() -> F) -> Serve
    where
        F: Future<Output = Service>,
    {
        Serve::start_at("127.0.0.1:0", open)
    }

    /// Open a service with `open` and serve it on `addr`.
    fn start_at<F>(addr: &str, open: impl FnOnce() -> F) -> Serve
    where
        F: Future<Output = Service>,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (service, listener) = runtime.block_on(async {
            let service = open().await;
            let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
            (service, listener)
        });
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(service.serve(listener, async move {
            let _ = stopped.await;
        }));
        Serve {
            runtime,
            base: format!("http://{addr}"),
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// `serve` over the generated table of [`ROWS`] in `dir`.
    fn over_products(dir: &Path) -> Serve {
        Serve::start(|| async move {
            let (service, _) = open_products(dir, ROWS, ServiceOptions::default(), io::sink())
                .await
                .expect("open the service");
            service
        })
    }

    fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        self.runtime
            .block_on(self.served.take().expect("running"))
            .expect("server task")
            .expect("served and flushed");
    }
}

fn smol<T>(future: impl Future<Output = T>) -> T {
    smol::block_on(future)
}

/// The generated rows in the order `sort` gives (ties by id, as SQLite
/// breaks them).
fn sorted_ids(field: &str, descending: bool, rows: impl Iterator<Item = usize>) -> Vec<String> {
    let mut rows: Vec<(Value, String)> = rows
        .map(|i| {
            let (id, record) = product(i);
            (record.get(field).cloned().expect("field"), id)
        })
        .collect();
    rows.sort_by(|a, b| {
        let by_value = match (a.0.as_f64(), b.0.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.0.as_str().cmp(&b.0.as_str()),
        };
        let by_value = if descending {
            by_value.reverse()
        } else {
            by_value
        };
        by_value.then_with(|| a.1.cmp(&b.1))
    });
    rows.into_iter().map(|(_, id)| id).collect()
}

fn lamps() -> Vec<usize> {
    (0..ROWS)
        .filter(|&i| {
            let name = product(i)
                .1
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_lowercase);
            name.is_some_and(|name| name.contains("lamp"))
        })
        .collect()
}

fn window_ids(page: &diorama_core::vista::Page) -> Vec<String> {
    page.rows.iter().map(|(id, _)| id.clone()).collect()
}

#[test]
fn http_vista_reads_and_writes_through_the_real_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serve = Serve::over_products(dir.path());
    let http = HttpVista::serve(&serve.base).expect("mapping");

    // Windows: the generator's rows, and the table's total.
    let page = smol(http.fetch_window(&Query::new(), 0, 50)).unwrap();
    assert_eq!(page.total, Some(ROWS));
    assert_eq!(page.rows.len(), 50);
    for (i, (id, record)) in page.rows.iter().enumerate() {
        assert_eq!((id, record), (&product(i).0, &product(i).1));
    }
    let deep = smol(http.fetch_window(&Query::new(), 1_990, 50)).unwrap();
    assert_eq!(
        window_ids(&deep),
        (1_990..ROWS).map(product_id).collect::<Vec<_>>()
    );
    let past = smol(http.fetch_window(&Query::new(), ROWS + 10, 50)).unwrap();
    assert!(past.rows.is_empty());
    // Longer than one request of serve (1,000 rows): read whole.
    let long = smol(http.fetch_window(&Query::new(), 500, 1_200)).unwrap();
    assert_eq!(
        window_ids(&long),
        (500..1_700).map(product_id).collect::<Vec<_>>()
    );

    // Sort, both ways, pushed to serve (and by serve to SQLite).
    let by_price = Query::new().with_sort(Sort::desc("price"));
    let page = smol(http.fetch_window(&by_price, 100, 20)).unwrap();
    assert_eq!(
        window_ids(&page),
        sorted_ids("price", true, 0..ROWS)[100..120]
    );
    let by_name = Query::new().with_sort(Sort::asc("name"));
    let page = smol(http.fetch_window(&by_name, 0, 20)).unwrap();
    assert_eq!(window_ids(&page), sorted_ids("name", false, 0..ROWS)[..20]);

    // Search (case-insensitive), counted; with a sort.
    let lamps = lamps();
    assert!(lamps.len() > 20, "the generator makes lamps");
    let search = Query::new().with_search("LAMP");
    assert_eq!(smol(http.count(&search)).unwrap(), lamps.len());
    let page = smol(http.fetch_window(&search, 0, 1_000)).unwrap();
    assert_eq!(page.total, Some(lamps.len()));
    assert_eq!(
        window_ids(&page),
        lamps.iter().map(|&i| product_id(i)).collect::<Vec<_>>()
    );
    let cheap_lamps = Query::new()
        .with_search("lamp")
        .with_sort(Sort::asc("price"));
    let page = smol(http.fetch_window(&cheap_lamps, 0, 10)).unwrap();
    assert_eq!(
        window_ids(&page),
        sorted_ids("price", false, lamps.iter().copied())[..10]
    );
    assert_eq!(smol(http.count(&Query::new())).unwrap(), ROWS);

    // Reads by id; a missing row is none (serve's 404).
    assert_eq!(smol(http.get("p0000042")).unwrap(), Some(product(41).1));
    assert_eq!(smol(http.get("p9999999")).unwrap(), None);

    // A patch round trip: it reaches SQLite, and reads show it.
    smol(http.patch("p0000042", Record::new().with("price", 12.5))).unwrap();
    let sqlite = SqliteVista::open(
        data::prepare(dir.path(), ROWS, &mut io::sink())
            .unwrap()
            .db_path,
        TABLE,
        "id",
    )
    .unwrap();
    let stored = smol(sqlite.get("p0000042")).unwrap().expect("row");
    assert_eq!(stored.get("price"), Some(&Value::from(12.5)));
    let read = smol(http.get("p0000042")).unwrap().expect("row");
    assert_eq!(read.get("price"), Some(&Value::from(12.5)));
    assert_eq!(read.get("name"), product(41).1.get("name"));

    // Refusals are the request's fault, with serve's message; nothing
    // reaches SQLite.
    let error = smol(http.patch("p0000042", Record::new().with("price", -3.0))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.message().contains("negative"), "{error}");
    let error = smol(http.patch("p0000042", Record::new().with("colour", "red"))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.message().contains("colour"), "{error}");
    let error = smol(http.patch("p9999999", Record::new().with("price", 1.0))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    // A sort serve does not offer is refused before any request.
    let sent = http.requests();
    let error =
        smol(http.fetch_window(&Query::new().with_sort(Sort::asc("colour")), 0, 5)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    assert_eq!(http.requests(), sent);
    let stored = smol(sqlite.get("p0000042")).unwrap().expect("row");
    assert_eq!(stored.get("price"), Some(&Value::from(12.5)));

    // Stopped: connection refused is the source's failure, at once.
    let base = serve.base.clone();
    serve.stop();
    let error = smol(http.fetch_window(&Query::new(), 0, 10)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    assert!(error.message().contains(&base), "names the URL: {error}");
    let error = smol(http.get("p0000001")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    let error = smol(http.patch("p0000001", Record::new().with("price", 1.0))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
}

#[test]
fn a_failing_master_behind_serve_is_the_sources_failure() {
    let master = MemoryVista::new("products").with_rows((0..300).map(product));
    let shell = master.clone();
    let serve = Serve::start(move || async move {
        Service::open(
            Arc::new(shell),
            Arc::new(MemoryBackend::new()),
            Schema::products(),
            ServiceOptions::default(),
        )
        .await
        .expect("open")
    });
    let http = HttpVista::serve(&serve.base).unwrap();
    master.fail_all(VistaOp::FetchWindow, true);
    // serve answers 502: a failure of the source, with serve's message.
    let error = smol(http.fetch_window(&Query::new(), 0, 10)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    assert!(error.message().contains("502"), "{error}");
    master.fail_all(VistaOp::FetchWindow, false);
    let page = smol(http.fetch_window(&Query::new(), 0, 10)).unwrap();
    assert_eq!(
        window_ids(&page),
        (0..10).map(product_id).collect::<Vec<_>>()
    );
    master.fail_all(VistaOp::Patch, true);
    let error = smol(http.patch("p0000003", Record::new().with("price", 2.0))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Failed, "{error}");
    master.fail_all(VistaOp::Patch, false);
    assert_eq!(
        master.get_row("p0000003"),
        Some(product(2).1),
        "nothing written"
    );
    serve.stop();
}

fn grid_args(dir: &Path, remote: &str) -> GridArgs {
    let mut args = GridArgs::new(dir);
    args.remote = Some(remote.to_string());
    args.size = (120, 24);
    args.page_size = 50;
    args
}

#[test]
fn the_grid_over_remote_shows_serves_rows_and_edits_reach_sqlite() {
    let served = tempfile::tempdir().expect("tempdir");
    let serve = Serve::over_products(served.path());
    let db_path = data::prepare(served.path(), ROWS, &mut io::sink())
        .unwrap()
        .db_path;
    // The grid's own directory: it builds no table, only its cache.
    let mine = tempfile::tempdir().expect("tempdir");
    let args = grid_args(mine.path(), &serve.base);
    let source = Source::remote(&serve.base, mine.path());
    let report = smol(run_script(&args, source.clone(), "edit 3 12.34; quit")).expect("script");
    assert!(!report.warm);
    assert!(
        !mine.path().join(format!("{TABLE}-{ROWS}.sqlite")).exists(),
        "no local table"
    );

    // The first screen: serve's rows, in order, with the service named.
    let settled = &report.settled;
    assert!(settled.screen.contains(&serve.base), "{}", settled.screen);
    assert_eq!(settled.row_count, ROWS);
    for (line, (index, row)) in settled.rows.iter().enumerate() {
        let row = row.as_ref().expect("loaded");
        assert_eq!(*index, line);
        assert_eq!(row.id, product_id(line));
        assert_eq!(row.record, product(line).1);
        assert!(
            settled
                .screen
                .contains(product(line).1.get("name").and_then(Value::as_str).unwrap())
        );
    }
    assert!(settled.master_calls > 0, "read over HTTP");

    // The edit went to the service and from there to SQLite.
    let edited = &report.steps[0].after;
    let row = edited.rows[2].1.as_ref().expect("loaded");
    assert_eq!(row.id, "p0000003");
    assert_eq!(row.record.get("price"), Some(&Value::from(12.34)));
    assert_eq!(row.status, RowStatus::Fresh);
    let sqlite = SqliteVista::open(&db_path, TABLE, "id").unwrap();
    let stored = smol(sqlite.get("p0000003")).unwrap().expect("row");
    assert_eq!(stored.get("price"), Some(&Value::from(12.34)));

    // The service stopped: the grid opens warm from its cache without a
    // request, and an edit is reported as failed (nothing written).
    serve.stop();
    let report = smol(run_script(&args, source, "edit 4 5.55; quit")).expect("script");
    assert!(report.warm);
    assert_eq!(
        report.first_frame.master_calls, 0,
        "the first screen came from the cache"
    );
    let first = report.first_frame.rows[2].1.as_ref().expect("cached");
    assert_eq!(first.record.get("price"), Some(&Value::from(12.34)));
    let refused = &report.steps[0];
    let row = refused.after.rows[3].1.as_ref().expect("cached");
    assert!(
        matches!(row.status, RowStatus::WriteFailed { .. }),
        "{:?}",
        row.status
    );
    assert!(
        refused.after.screen.contains("failed"),
        "{}",
        refused.after.screen
    );
    let stored = smol(sqlite.get("p0000004")).unwrap().expect("row");
    assert_eq!(stored, product(3).1, "nothing reached SQLite");
}

/// Wait (at most 20 s) until `ready` holds for the grid's view.
fn wait_for(session: &Session, what: &str, ready: impl Fn(&TableScenery) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !ready(&session.view) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn the_grid_reports_a_stopped_service_and_recovers_when_it_is_back() {
    let served = tempfile::tempdir().expect("tempdir");
    let serve = Serve::over_products(served.path());
    let addr = serve.base.trim_start_matches("http://").to_string();
    let mine = tempfile::tempdir().expect("tempdir");
    let args = grid_args(mine.path(), &serve.base);
    let session = smol(Session::open(
        &args,
        Source::remote(&serve.base, mine.path()),
        0..20,
    ))
    .expect("open");
    wait_for(&session, "the first screen", |view| {
        view.rows(0..20).iter().all(Option::is_some)
    });

    // Stopped: a new range cannot load; the failure is counted and shown
    // on the status line.
    serve.stop();
    session.view.set_viewport(1_000..1_020);
    wait_for(&session, "the failed load", |view| {
        view.stats().chunk_failures > 0
    });
    assert!(session.view.rows(1_000..1_020).iter().all(Option::is_none));
    // Back to the first screen: shown from the grid's cache, no request.
    let calls = session.master_calls();
    session.view.set_viewport(0..20);
    wait_for(&session, "the cached first screen", |view| {
        view.rows(0..20).iter().all(Option::is_some)
    });
    assert_eq!(session.master_calls(), calls, "from the cache");
    // The status line as the grid draws it.
    let mut app = App::new(session, 20);
    // Before a frame the grid reads the Dio's events: the failure, with
    // its range and error, is on the message line.
    app.sync_viewport();
    let mut terminal = Terminal::new(TestBackend::new(120, 24)).expect("terminal");
    terminal.draw(|frame| draw(frame, &app)).expect("draw");
    let screen = buffer_text(terminal.backend().buffer());
    assert!(
        screen.contains("failed 1 ·"),
        "the failed load is told: {screen}"
    );
    assert!(
        screen.contains("rows 1001–1050 could not be loaded"),
        "with its range: {screen}"
    );
    let session = app.session;

    // Back on the same address (over the same database, a cache of its
    // own): the range loads when the viewport reaches it again, without
    // reopening the grid.
    let again = tempfile::tempdir().expect("tempdir");
    let serve = Serve::start_at(&addr, || async {
        let (service, _) = open_products_as(
            served.path(),
            ROWS,
            ServiceOptions::default(),
            Some(again.path()),
            None,
            io::sink(),
        )
        .await
        .expect("reopen the service");
        service
    });
    session.view.set_viewport(1_000..1_020);
    wait_for(&session, "the range after the restart", |view| {
        view.rows(1_000..1_020).iter().all(Option::is_some)
    });
    let rows = session.view.rows(1_000..1_020);
    for (offset, row) in rows.iter().enumerate() {
        let row = row.as_ref().expect("loaded");
        assert_eq!(
            (&row.id, &row.record),
            (&product_id(1_000 + offset), &product(1_000 + offset).1)
        );
    }
    smol(session.dio.shutdown()).expect("shutdown");
    serve.stop();
}

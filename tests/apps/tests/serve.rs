//! The `serve` app's service over HTTP: started on a loopback port over
//! a small generated SQLite table (or a `MemoryVista` whose faults and gate
//! the test controls), exercised with a real HTTP client (`ureq`, blocking,
//! on the test thread while the server runs on its own tokio runtime).
//!
//! Expected rows come from the generator itself
//! (`diorama_apps::sample::products::product`), not from the service.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diorama_apps::sample::products::{product, product_id};
use diorama_apps::serve::{Schema, Service, ServiceOptions, open_products};
use diorama_core::vista::VistaOp;
use diorama_core::{MemoryBackend, MemoryVista, Record};
use serde_json::{Value as Json, json};

const ROWS: usize = 5_000;

/// A running service and a client for it.
struct Server {
    runtime: tokio::runtime::Runtime,
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<io::Result<()>>>,
    agent: ureq::Agent,
}

impl Server {
    /// Open a service with `open` on a new runtime and serve it on a free
    /// loopback port.
    fn start<F>(open: impl FnOnce() -> F) -> Server
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
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            (service, listener)
        });
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(service.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Server {
            runtime,
            base: format!("http://{addr}"),
            stop: Some(stop),
            served: Some(served),
            agent,
        }
    }

    fn over_products(dir: &Path, options: ServiceOptions) -> Server {
        Server::start(|| async move {
            let (service, dataset) = open_products(dir, ROWS, options, io::sink())
                .await
                .expect("open the service");
            assert_eq!(dataset.rows, ROWS);
            service
        })
    }

    fn get(&self, path: &str) -> (u16, Json) {
        let response = self.agent.get(format!("{}{path}", self.base)).call();
        read(response)
    }

    fn patch(&self, path: &str, body: &str) -> (u16, Json) {
        let response = self
            .agent
            .patch(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .send(body);
        read(response)
    }

    fn master_calls(&self) -> u64 {
        let (status, stats) = self.get("/stats");
        assert_eq!(status, 200, "{stats}");
        stats["master_calls"].as_u64().expect("master_calls")
    }

    /// Stop serving, drain the queue, flush the cache.
    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            self.runtime
                .block_on(served)
                .expect("server task")
                .expect("served and flushed");
        }
    }
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Json) {
    let mut response = response.expect("HTTP exchange");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, json)
}

/// Row `index` of the generated table as the service should show it.
fn expected_row(index: usize) -> Json {
    let (id, record) = product(index);
    let mut object = record_json(&record);
    object.insert("id".into(), json!(id));
    object.insert("status".into(), json!("fresh"));
    Json::Object(object)
}

fn record_json(record: &Record) -> serde_json::Map<String, Json> {
    record
        .iter()
        .map(|(field, value)| {
            (
                field.to_string(),
                diorama_apps::serve::json::value_to_json(value),
            )
        })
        .collect()
}

fn ids(page: &Json) -> Vec<String> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["id"].as_str().expect("id").to_string())
        .collect()
}

fn price(row: &Json) -> f64 {
    row["price"].as_f64().expect("price")
}

/// The error message of a JSON error body.
fn message(body: &Json) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {body}"))
}

#[test]
fn lists_sorts_searches_reads_and_edits_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::over_products(dir.path(), ServiceOptions::default());

    // First page: the table's first rows, in rowid (id) order.
    let (status, page) = server.get("/products");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["offset"], json!(0));
    assert_eq!(page["limit"], json!(50));
    assert_eq!(page["total"], json!(ROWS));
    let rows = page["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 50);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row, &expected_row(i));
    }

    // The same page again is served from the scenery: no master call.
    let calls = server.master_calls();
    let (status, again) = server.get("/products?offset=0&limit=50");
    assert_eq!(status, 200);
    assert_eq!(again, page);
    assert_eq!(server.master_calls(), calls);

    // A page further on.
    let (status, page) = server.get("/products?offset=1234&limit=7");
    assert_eq!(status, 200, "{page}");
    let expected: Vec<String> = (1234..1241).map(product_id).collect();
    assert_eq!(ids(&page), expected);

    // Sorted by price, descending and ascending, pushed into SQLite.
    let mut by_price: Vec<(f64, String)> = (0..ROWS)
        .map(|i| {
            let (id, record) = product(i);
            (record.get("price").and_then(|v| v.as_f64()).unwrap(), id)
        })
        .collect();
    by_price.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let (status, page) = server.get("/products?sort=-price&limit=20");
    assert_eq!(status, 200, "{page}");
    let prices: Vec<f64> = page["rows"].as_array().unwrap().iter().map(price).collect();
    let highest: Vec<f64> = by_price.iter().rev().take(20).map(|(p, _)| *p).collect();
    assert_eq!(prices, highest);
    let (status, page) = server.get("/products?sort=price:asc&offset=100&limit=10");
    assert_eq!(status, 200, "{page}");
    let expected: Vec<String> = by_price[100..110]
        .iter()
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(ids(&page), expected);
    assert_eq!(page["total"], json!(ROWS));
    for row in page["rows"].as_array().unwrap() {
        let index: usize = row["id"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(row, &expected_row(index - 1));
    }

    // Search: case-insensitive, counted by the master.
    let lamps: Vec<String> = (0..ROWS)
        .filter(|&i| {
            let (_, record) = product(i);
            let name = record.get("name").and_then(|v| v.as_str()).unwrap();
            name.to_lowercase().contains("lamp")
        })
        .map(product_id)
        .collect();
    assert!(lamps.len() > 50, "the generator makes lamps");
    let (status, page) = server.get("/products?q=LAMP&limit=1000");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], json!(lamps.len()));
    assert_eq!(ids(&page), lamps);
    // Search and sort together.
    let (status, page) = server.get("/products?q=lamp&sort=-stock&limit=5");
    assert_eq!(status, 200, "{page}");
    let stocks: Vec<i64> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["stock"].as_i64().unwrap())
        .collect();
    assert_eq!(stocks.len(), 5);
    assert!(stocks.windows(2).all(|w| w[0] >= w[1]), "{stocks:?}");
    assert!(ids(&page).iter().all(|id| lamps.contains(id)));

    // The end of the set.
    let (status, page) = server.get("/products?offset=4990&limit=50");
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), (4990..5000).map(product_id).collect::<Vec<_>>());
    let (status, page) = server.get("/products?offset=9000");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["rows"], json!([]));
    assert_eq!(page["total"], json!(ROWS));
    // Past the end of a query not seen before: its size is learnt from the
    // (empty) window.
    let (status, page) = server.get("/products?sort=stock&offset=7000&limit=10");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["rows"], json!([]));
    assert_eq!(page["total"], json!(ROWS));

    // Concurrent requests for pages of one query take turns on its scenery.
    let mut by_name: Vec<(String, String)> = (0..ROWS)
        .map(|i| {
            let (id, record) = product(i);
            let name = record.get("name").and_then(|v| v.as_str()).unwrap();
            (name.to_string(), id)
        })
        .collect();
    by_name.sort();
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let (server, by_name) = (&server, &by_name);
            scope.spawn(move || {
                for step in 0..5 {
                    let offset = (worker * 5 + step) * 211;
                    let (status, page) =
                        server.get(&format!("/products?sort=name&offset={offset}&limit=25"));
                    assert_eq!(status, 200, "{page}");
                    let expected: Vec<String> = by_name[offset..offset + 25]
                        .iter()
                        .map(|(_, id)| id.clone())
                        .collect();
                    assert_eq!(ids(&page), expected, "offset {offset}");
                }
            });
        }
    });

    // One row; an unknown one.
    let (status, row) = server.get("/products/p0000042");
    assert_eq!(status, 200, "{row}");
    assert_eq!(row, expected_row(41));
    let (status, body) = server.get("/products/p9999999");
    assert_eq!(status, 404, "{body}");
    assert!(message(&body).contains("p9999999"));

    // An edit through the queue, seen by the row and by the list.
    let (status, row) = server.patch("/products/p0000003", r#"{"price": 12.34, "stock": 7}"#);
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["price"], json!(12.34));
    assert_eq!(row["stock"], json!(7));
    assert_eq!(row["name"], expected_row(2)["name"]);
    assert_eq!(row["status"], json!("fresh"));
    let (status, row) = server.get("/products/p0000003");
    assert_eq!(status, 200);
    assert_eq!(
        (row["price"].clone(), row["stock"].clone()),
        (json!(12.34), json!(7))
    );
    let (_, page) = server.get("/products?limit=5");
    assert_eq!(page["rows"][2]["price"], json!(12.34));
    // A row the cache has not seen yet.
    let (status, row) = server.patch("/products/p0004321", r#"{"name": "Renamed Lamp"}"#);
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["name"], json!("Renamed Lamp"));
    assert_eq!(row["price"], expected_row(4320)["price"]);
    let (status, body) = server.patch("/products/p9999999", r#"{"price": 1.0}"#);
    assert_eq!(status, 404, "{body}");

    // Bad requests: 400 with a message saying what is wrong.
    for (path, says) in [
        ("/products?offset=abc", "offset"),
        ("/products?offset=-5", "offset"),
        ("/products?limit=1001", "between 1 and 1000"),
        ("/products?limit=0", "between 1 and 1000"),
        ("/products?sort=colour", "cannot sort by \"colour\""),
        ("/products?sort=price:sideways", "asc or desc"),
        ("/products?page=2", "unknown parameter"),
    ] {
        let (status, body) = server.get(path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(message(&body).contains(says), "{path}: {body}");
    }
    for (body, says) in [
        ("{\"price\": ", "not valid JSON"),
        ("[1, 2]", "object"),
        ("{}", "nothing to patch"),
        ("{\"colour\": \"red\"}", "unknown field"),
        ("{\"stock\": 2.5}", "integer"),
        ("{\"price\": \"cheap\"}", "number"),
    ] {
        let (status, reply) = server.patch("/products/p0000001", body);
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(message(&reply).contains(says), "{body}: {reply}");
    }
    // Refused bodies wrote nothing.
    let (_, row) = server.get("/products/p0000001");
    assert_eq!(row, expected_row(0));

    let (status, body) = server.get("/nowhere");
    assert_eq!(status, 404);
    assert!(message(&body).contains("/nowhere"));
    server.stop();
}

#[test]
fn a_restart_answers_pages_and_rows_it_has_seen_from_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::over_products(dir.path(), ServiceOptions::default());
    let (status, page) = server.get("/products?sort=-updated_at&offset=200&limit=30");
    assert_eq!(status, 200, "{page}");
    let (status, row) = server.get("/products/p0000007");
    assert_eq!(status, 200, "{row}");
    let (status, edited) = server.patch("/products/p0000008", r#"{"category": "attic"}"#);
    assert_eq!(status, 200, "{edited}");
    assert!(server.master_calls() > 0);
    server.stop();

    let server = Server::over_products(dir.path(), ServiceOptions::default());
    let (status, again) = server.get("/products?sort=-updated_at&offset=200&limit=30");
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, page);
    let (status, row_again) = server.get("/products/p0000007");
    assert_eq!(status, 200);
    assert_eq!(row_again, row);
    let (status, edited_again) = server.get("/products/p0000008");
    assert_eq!(status, 200);
    assert_eq!(edited_again["category"], json!("attic"));
    assert_eq!(server.master_calls(), 0, "all of it came from the cache");
    server.stop();
}

/// Products `0..n` in a `MemoryVista` the test can fail and hold.
fn memory_products(n: usize) -> MemoryVista {
    MemoryVista::new("products").with_rows((0..n).map(product))
}

#[test]
fn master_failures_are_502_and_slow_writes_202() {
    let master = memory_products(300);
    let options = ServiceOptions {
        write_timeout: Duration::from_millis(300),
        read_timeout: Duration::from_secs(5),
        ..ServiceOptions::default()
    };
    let shell = master.clone();
    let server = Server::start(move || async move {
        Service::open(
            Arc::new(shell),
            Arc::new(MemoryBackend::new()),
            Schema::products(),
            options,
        )
        .await
        .expect("open")
    });

    // Reads the master fails.
    master.fail_all(VistaOp::FetchWindow, true);
    let (status, body) = server.get("/products?limit=10");
    assert_eq!(status, 502, "{body}");
    assert!(message(&body).contains("fetch_window"), "{body}");
    master.fail_all(VistaOp::FetchWindow, false);
    master.fail_all(VistaOp::Get, true);
    let (status, body) = server.get("/products/p0000005");
    assert_eq!(status, 502, "{body}");
    master.fail_all(VistaOp::Get, false);

    // Working again: the failed page loads when asked for again.
    let (status, page) = server.get("/products?limit=10");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], json!(300));
    assert_eq!(ids(&page), (0..10).map(product_id).collect::<Vec<_>>());

    // A write the master fails.
    master.fail_all(VistaOp::Patch, true);
    let (status, body) = server.patch("/products/p0000005", r#"{"price": 3.5}"#);
    assert_eq!(status, 502, "{body}");
    master.fail_all(VistaOp::Patch, false);
    let (_, row) = server.get("/products/p0000005");
    assert_eq!(row["price"], expected_row(4)["price"]);

    // A write the master is slow to take: 202 with the row as it will be.
    master.hold();
    let (status, row) = server.patch("/products/p0000005", r#"{"price": 3.5}"#);
    assert_eq!(status, 202, "{row}");
    assert_eq!(row["status"], json!("pending"));
    assert_eq!(row["price"], json!(3.5));
    assert_eq!(row["name"], expected_row(4)["name"]);
    let (_, page) = server.get("/products?limit=10");
    assert_eq!(page["rows"][4]["status"], json!("pending"));
    assert_eq!(page["rows"][4]["price"], json!(3.5));
    master.release();
    let started = Instant::now();
    loop {
        let (status, row) = server.get("/products/p0000005");
        assert_eq!(status, 200, "{row}");
        if row["status"] == json!("fresh") {
            assert_eq!(row["price"], json!(3.5));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the write never landed: {row}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let stored = master
        .rows()
        .into_iter()
        .find(|(id, _)| id == "p0000005")
        .map(|(_, record)| record.get("price").and_then(|v| v.as_f64()));
    assert_eq!(stored, Some(Some(3.5)));
    server.stop();
}

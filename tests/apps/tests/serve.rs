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

    /// Wait (up to 20 s) until no chunk load and no write is in flight.
    fn wait_until_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, stats) = self.get("/stats");
            assert_eq!(status, 200, "{stats}");
            if stats["loads_in_flight"] == json!(0) && stats["pending_writes"] == json!(0) {
                return;
            }
            assert!(Instant::now() < deadline, "still busy: {stats}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The `/metrics` page, for a failing assertion to say which calls
    /// reached the master.
    fn master_call_metrics(&self) -> String {
        let mut response = self
            .agent
            .get(format!("{}/metrics", self.base))
            .call()
            .expect("metrics");
        let text = response.body_mut().read_to_string().expect("metrics body");
        text.lines()
            .filter(|line| line.starts_with("diorama_master_calls_total"))
            .collect::<Vec<_>>()
            .join("\n")
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
    // A page's neighbours are prefetched after it answered: stopping
    // first would leave them for the restart to fetch.
    server.wait_until_idle();
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
    assert_eq!(
        server.master_calls(),
        0,
        "all of it came from the cache: {}",
        server.master_call_metrics()
    );
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

/// A service over `master` (in memory, faults and gate in the test's
/// hands) with `options`.
fn over_memory(master: &MemoryVista, options: ServiceOptions) -> Server {
    let shell = master.clone();
    Server::start(move || async move {
        Service::open(
            Arc::new(shell),
            Arc::new(MemoryBackend::new()),
            Schema::products(),
            options,
        )
        .await
        .expect("open")
    })
}

/// Send `bytes` on a connection of its own and read the answer: status,
/// content type and body as JSON.
fn raw(server: &Server, bytes: &[u8]) -> (u16, String, Json) {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{text}"));
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, content_type, json)
}

fn assert_error_shape(status: u16, expected: u16, body: &Json) {
    assert_eq!(status, expected, "{body}");
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "{body}");
    assert!(!message(body).is_empty(), "{body}");
}

#[test]
fn every_error_status_answers_the_json_error_shape() {
    let master = memory_products(50);
    let server = over_memory(&master, ServiceOptions::default());

    let (status, body) = server.get("/nowhere");
    assert_error_shape(status, 404, &body);
    let response = server
        .agent
        .delete(format!("{}/products", server.base))
        .call();
    let (status, body) = read(response);
    assert_error_shape(status, 405, &body);

    // q: at most 1,000 characters.
    let longest = "é".repeat(diorama_apps::serve::MAX_Q_CHARS);
    let (status, body) = server.get(&format!("/products?q={longest}"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.get(&format!("/products?q={longest}x"));
    assert_error_shape(status, 400, &body);
    assert!(message(&body).contains("1000"), "{body}");

    // A 100 kB target, a 1 MB header, a head that is not HTTP: refused
    // before hyper reads them, still JSON.
    let target = format!(
        "GET /products?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100_000)
    );
    let (status, content_type, body) = raw(&server, target.as_bytes());
    assert_error_shape(status, 414, &body);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let header = format!(
        "GET /products HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(1 << 20)
    );
    let (status, _, body) = raw(&server, header.as_bytes());
    assert_error_shape(status, 431, &body);
    let (status, _, body) = raw(&server, b"\x01\x02\x03 garbage\r\n\r\n");
    assert_error_shape(status, 400, &body);
    // A well-formed request after a refused one on another connection.
    let (status, _, _) = raw(
        &server,
        b"GET /products/p0000001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);

    // A 5 MB body: 413.
    let big = format!("{{\"name\": \"{}\"}}", "n".repeat(5 << 20));
    let request = format!(
        "PATCH /products/p0000001 HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{big}",
        big.len()
    );
    let (status, _, body) = raw(&server, request.as_bytes());
    assert_error_shape(status, 413, &body);
    assert!(message(&body).contains("65536"), "{body}");

    // A key given twice, a negative price: refused, nothing written.
    let before = master.get_row("p0000001").unwrap();
    let (status, body) = server.patch("/products/p0000001", r#"{"price": 1, "price": -3}"#);
    assert_error_shape(status, 400, &body);
    assert!(message(&body).contains("more than once"), "{body}");
    let (status, body) = server.patch("/products/p0000001", r#"{"price": -3}"#);
    assert_error_shape(status, 400, &body);
    assert!(message(&body).contains("negative"), "{body}");
    assert_eq!(master.get_row("p0000001").unwrap(), before);
    assert_eq!(master.calls(VistaOp::Patch), 0, "refused before the queue");
    server.stop();
}

#[test]
fn a_request_past_its_deadline_is_504_and_its_master_call_stops() {
    let master = memory_products(500);
    let options = ServiceOptions {
        read_timeout: Duration::from_millis(300),
        ..ServiceOptions::default()
    };
    let server = over_memory(&master, options);
    master.hold();
    let (status, body) = server.get("/products?sort=-price&offset=200&limit=10");
    assert_error_shape(status, 504, &body);
    // The page's chunk load was waiting at the gate; the request gave its
    // scenery up, so the call is dropped though the gate stays shut.
    let started = Instant::now();
    while master.in_flight() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the master call goes on"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    master.release();
    let (status, page) = server.get("/products?sort=-price&offset=200&limit=10");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["rows"].as_array().unwrap().len(), 10);
    server.stop();
}

/// `name{labels} value` lines of a Prometheus text exposition, summed per
/// name and label set as written.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(name, _)| *name == series)
        .map(|(_, v)| v.parse::<f64>().unwrap())
        .sum()
}

#[test]
fn metrics_are_exposed_and_move() {
    let master = memory_products(300);
    let server = over_memory(&master, ServiceOptions::default());
    let scrape = || {
        let mut response = server
            .agent
            .get(format!("{}/metrics", server.base))
            .call()
            .expect("metrics");
        assert_eq!(response.status().as_u16(), 200);
        response.body_mut().read_to_string().unwrap()
    };
    let text = scrape();
    assert_eq!(metric(&text, "diorama_cache_misses_total"), 0.0);
    assert_eq!(
        metric(&text, "diorama_writes_total{outcome=\"applied\"}"),
        0.0
    );
    assert!(
        text.contains("diorama_writes_total{outcome=\"failed\"} 0"),
        "{text}"
    );

    // A row read twice: a miss (fetched), then a hit.
    assert_eq!(server.get("/products/p0000007").0, 200);
    assert_eq!(server.get("/products/p0000007").0, 200);
    // A page read twice: a miss (a chunk load), then a hit.
    assert_eq!(server.get("/products?offset=100&limit=20").0, 200);
    assert_eq!(server.get("/products?offset=100&limit=20").0, 200);
    // A write applied, one the master fails.
    assert_eq!(server.patch("/products/p0000007", r#"{"stock": 3}"#).0, 200);
    master.fail_all(VistaOp::Patch, true);
    assert_eq!(server.patch("/products/p0000008", r#"{"stock": 3}"#).0, 502);
    master.fail_all(VistaOp::Patch, false);
    let text = scrape();
    for name in [
        "diorama_cache_hits_total",
        "diorama_cache_misses_total",
        "diorama_master_calls_total",
        "diorama_master_call_duration_seconds",
        "diorama_write_queue_depth",
        "diorama_writes_total",
        "diorama_open_sceneries",
        "diorama_http_requests_total",
    ] {
        assert!(
            text.contains(&format!("# TYPE {}", name.trim_end_matches("_total"))),
            "{name} missing:\n{text}"
        );
    }
    assert_eq!(metric(&text, "diorama_cache_misses_total"), 2.0, "{text}");
    assert!(metric(&text, "diorama_cache_hits_total") >= 2.0, "{text}");
    assert_eq!(
        metric(&text, "diorama_writes_total{outcome=\"applied\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "diorama_writes_total{outcome=\"failed\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "diorama_master_calls_total{op=\"get\",outcome=\"ok\"}"
        ),
        master.calls(VistaOp::Get) as f64,
        "{text}"
    );
    assert!(
        metric(
            &text,
            "diorama_master_calls_total{op=\"fetch_window\",outcome=\"ok\"}"
        ) >= 1.0,
        "{text}"
    );
    assert!(
        metric(
            &text,
            "diorama_master_call_duration_seconds_count{op=\"patch\"}"
        ) >= 2.0,
        "{text}"
    );
    assert_eq!(metric(&text, "diorama_write_queue_depth"), 0.0);
    assert_eq!(
        metric(&text, "diorama_open_sceneries"),
        1.0,
        "one kept list view: {text}"
    );
    assert!(
        metric(
            &text,
            "diorama_http_requests_total{method=\"GET\",status=\"200\"}"
        ) >= 5.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "diorama_http_requests_total{method=\"PATCH\",status=\"502\"}"
        ),
        1.0,
        "{text}"
    );
    server.stop();
}

/// Issue 11: PATCH the cheapest product's price to 9999 and page through
/// `sort=price`: every page is in price order and the product shows once,
/// on the last page — not still on the first page as well.
#[test]
fn a_patched_sort_key_moves_the_row_and_pages_stay_in_order_without_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::over_products(dir.path(), ServiceOptions::default());
    let page_of = |offset: usize| {
        let (status, page) = server.get(&format!("/products?sort=price&offset={offset}&limit=100"));
        assert_eq!(status, 200, "{page}");
        page
    };
    let first = page_of(0);
    let cheapest = ids(&first)[0].clone();
    // The last page loaded too, so the scenery holds both ends.
    let _ = page_of(ROWS - 100);

    let (status, row) = server.patch(&format!("/products/{cheapest}"), r#"{"price": 9999}"#);
    assert_eq!(status, 200, "{row}");

    let mut seen = std::collections::BTreeMap::new();
    let mut previous = f64::NEG_INFINITY;
    for offset in (0..ROWS).step_by(100) {
        let page = page_of(offset);
        for (i, row) in page["rows"].as_array().unwrap().iter().enumerate() {
            let id = row["id"].as_str().unwrap().to_string();
            let p = price(row);
            assert!(
                p >= previous,
                "row {} ({id}, {p}) after {previous}",
                offset + i
            );
            previous = p;
            if let Some(at) = seen.insert(id.clone(), offset + i) {
                panic!("{id} shown at {at} and at {}", offset + i);
            }
        }
    }
    assert_eq!(seen.len(), ROWS);
    assert_eq!(seen.get(&cheapest), Some(&(ROWS - 1)));
    server.stop();
}

//! `serve --master postgres://…` end to end against the real server: the
//! service generates its product table in a schema of this test's own
//! (dropped after), follows the table's change feed, and answers over HTTP
//! (`ureq` on the test thread; the service on its own tokio runtime).
//!
//! What the service answers is compared with what PostgreSQL holds, read
//! with a second, plain connection (the truth), and with the generator.
//! Skips with one line when no server answers at `DIORAMA_PG_URL`, unless
//! `DIORAMA_REQUIRE_SERVICES=1`.

#[path = "../../../tokio-runtime/tests/pg_support/mod.rs"]
mod pg_support;

use std::io;
use std::time::{Duration, Instant};

use diorama_apps::sample::products::{product, product_id};
use diorama_apps::serve::{Service, ServiceOptions, open_postgres};
use pg_support::Scratch;
use serde_json::{Value as Json, json};

const ROWS: usize = 400;

/// A running service over the test's table.
struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<io::Result<()>>>,
}

impl Server {
    fn start(runtime: &tokio::runtime::Runtime, service: Service) -> Server {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(service.serve(listener, async move {
            let _ = stopped.await;
        }));
        Server {
            base: format!("http://{addr}"),
            stop: Some(stop),
            served: Some(served),
        }
    }

    fn stop(mut self, runtime: &tokio::runtime::Runtime) {
        let _ = self.stop.take().expect("running").send(());
        runtime
            .block_on(self.served.take().expect("running"))
            .expect("server task")
            .expect("served and flushed");
    }

    fn get(&self, path: &str) -> (u16, Json) {
        read(agent().get(format!("{}{path}", self.base)).call())
    }

    fn patch(&self, path: &str, body: &str) -> (u16, Json) {
        read(
            agent()
                .patch(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .send(body),
        )
    }

    /// Poll `path` until `check` holds for its answer (the feed is
    /// asynchronous, but needs no TTL: the default one is ten minutes).
    fn eventually(&self, path: &str, check: impl Fn(u16, &Json) -> bool) -> (u16, Json) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.get(path);
            if check(status, &body) || Instant::now() > deadline {
                return (status, body);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Json) {
    let mut response = response.expect("HTTP exchange");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, json)
}

/// Row `index` of the generator as the service shows a fresh row.
fn expected_row(index: usize) -> Json {
    let (id, record) = product(index);
    let mut row = serde_json::Map::new();
    row.insert("id".into(), json!(id));
    for (field, value) in record.iter() {
        row.insert(
            field.to_string(),
            diorama_apps::serve::json::value_to_json(value),
        );
    }
    row.insert("status".into(), json!("fresh"));
    Json::Object(row)
}

fn ids(page: &Json) -> Vec<String> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["id"].as_str().expect("id").to_string())
        .collect()
}

fn price_in_pg(runtime: &tokio::runtime::Runtime, scratch: &Scratch, id: &str) -> Option<f64> {
    let sql = format!(
        "SELECT price FROM \"{}\".products WHERE id = $1",
        scratch.schema
    );
    runtime
        .block_on(scratch.client().query_opt(&sql, &[&id]))
        .expect("read the price")
        .map(|row| row.get(0))
}

#[test]
fn serve_over_postgres_answers_writes_made_with_sql_and_writes_through() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let Some(scratch) = runtime.block_on(Scratch::new("serve_pg")) else {
        return;
    };
    let url = pg_support::url();
    let table = format!("{}.products", scratch.schema);
    let dir = tempfile::tempdir().expect("tempdir");
    let open = || {
        runtime
            .block_on(open_postgres(
                &url,
                &table,
                ROWS,
                ServiceOptions::default(),
                dir.path(),
                io::sink(),
            ))
            .expect("open the service over PostgreSQL")
    };

    // First run: the table is generated with the generator's rows.
    let (service, made) = open();
    assert!(made.built_in.is_some(), "generated on first run");
    assert_eq!(made.rows, ROWS);
    let in_pg: i64 = runtime
        .block_on(scratch.client().query_one(
            &format!("SELECT count(*) FROM \"{}\".products", scratch.schema),
            &[],
        ))
        .unwrap()
        .get(0);
    assert_eq!(in_pg, ROWS as i64);
    let server = Server::start(&runtime, service);

    // Reads: a row and a page, as the generator made them.
    let (status, row) = server.get("/products/p0000007");
    assert_eq!(status, 200, "{row}");
    assert_eq!(row, expected_row(6));
    let (status, page) = server.get("/products?offset=10&limit=5");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], json!(ROWS));
    assert_eq!(ids(&page), (10..15).map(product_id).collect::<Vec<_>>());
    // Sorted in SQL: the order PostgreSQL itself gives.
    let by_price: Vec<String> = runtime
        .block_on(scratch.client().query(
            &format!(
                "SELECT id FROM \"{}\".products ORDER BY price DESC, id LIMIT 5",
                scratch.schema
            ),
            &[],
        ))
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let (status, page) = server.get("/products?sort=-price&limit=5");
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), by_price);

    // An UPDATE made with SQL on another connection reaches the row read
    // and the page holding the row, without a restart or a TTL.
    runtime.block_on(scratch.exec("UPDATE products SET price = 4321.5 WHERE id = 'p0000007'"));
    let (status, row) =
        server.eventually("/products/p0000007", |_, row| row["price"] == json!(4321.5));
    assert_eq!(status, 200, "{row}");
    assert_eq!(
        row["price"],
        json!(4321.5),
        "the service answers the new value"
    );
    assert_eq!(row["status"], json!("fresh"));
    let (_, page) = server.eventually("/products?offset=0&limit=10", |_, page| {
        page["rows"][6]["price"] == json!(4321.5)
    });
    assert_eq!(page["rows"][6]["id"], json!("p0000007"));
    assert_eq!(page["rows"][6]["price"], json!(4321.5));

    // A DELETE and an INSERT made with SQL: the row is gone, the new one
    // is served.
    runtime.block_on(scratch.exec(
        "DELETE FROM products WHERE id = 'p0000009'; \
         INSERT INTO products VALUES ('p9999999', 'Psql Lamp 1', 'lighting', 12.5, 3, '2026-12-01 12:00')",
    ));
    let (status, gone) = server.eventually("/products/p0000009", |status, _| status == 404);
    assert_eq!(status, 404, "{gone}");
    let (status, added) = server.get("/products/p9999999");
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["name"], json!("Psql Lamp 1"));
    let (_, page) = server.eventually("/products?limit=1", |_, page| page["total"] == json!(ROWS));
    assert_eq!(page["total"], json!(ROWS), "one row out, one in");

    // A PATCH through the service reaches PostgreSQL.
    let (status, patched) = server.patch("/products/p0000008", r#"{"price": 19.99}"#);
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["price"], json!(19.99));
    assert_eq!(price_in_pg(&runtime, &scratch, "p0000008"), Some(19.99));
    // Refused as the SQLite master refuses it: nothing reaches the table.
    let (status, refused) = server.patch("/products/p0000008", r#"{"price": -1}"#);
    assert_eq!(status, 400, "{refused}");
    assert_eq!(price_in_pg(&runtime, &scratch, "p0000008"), Some(19.99));
    server.stop(&runtime);

    // A change made while the service is down is answered after a
    // restart: the table is reused, the feed resumes from the position
    // stored in the cache.
    runtime.block_on(scratch.exec("UPDATE products SET price = 7.25 WHERE id = 'p0000007'"));
    let (service, reused) = open();
    assert_eq!(reused.built_in, None, "reused, not generated again");
    let server = Server::start(&runtime, service);
    let (status, row) =
        server.eventually("/products/p0000007", |_, row| row["price"] == json!(7.25));
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["price"], json!(7.25));
    server.stop(&runtime);

    runtime.block_on(scratch.finish());
}

#[test]
fn a_server_that_does_not_answer_is_a_clear_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    // Port 1 on loopback: nothing listens there.
    let error = runtime
        .block_on(open_postgres(
            "postgres://postgres@127.0.0.1:1/test",
            "products",
            10,
            ServiceOptions::default(),
            dir.path(),
            io::sink(),
        ))
        .expect_err("no server");
    assert_eq!(
        error.kind(),
        diorama_core::ErrorKind::Unavailable,
        "{error}"
    );
    assert!(error.message().contains("127.0.0.1:1"), "{error}");
}

//! `HttpVista` against a server speaking `serve`'s API on a loopback port
//! (`support/serve_like.rs`, over a `MemoryVista` that is the truth), and
//! against servers that misbehave: malformed and oversized bodies, a 500,
//! a slow answer, and none at all. Reads run under smol and under tokio.
//!
//! Expected rows come from the master (`MemoryVista`) itself.

#[path = "support/serve_like.rs"]
mod serve_like;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use diorama_core::vista::{
    Clause, CmpOp, Condition, MemoryVista, Query, Sort, SortDir, TableShell, Vista,
};
use diorama_core::{ErrorKind, Record, Value, record};
use diorama_std::http::{HttpMapping, HttpMethod, HttpVista, Route, SortStyle};
use serve_like::{TestServer, products};

fn smol<T>(future: impl Future<Output = T>) -> T {
    smol::block_on(future)
}

/// The master's own answer to a window of `query`.
fn truth(
    master: &MemoryVista,
    query: &Query,
    offset: usize,
    limit: usize,
) -> Vec<(String, Record)> {
    let rows = master.rows();
    let all = diorama_core::vista::eval::apply_query(rows, query);
    all.into_iter().skip(offset).take(limit).collect()
}

#[test]
fn windows_with_sort_and_search_pushed_down_equal_the_masters() {
    let master = products(300);
    let server = TestServer::products(master.clone());
    let http = HttpVista::serve(&server.base).unwrap();
    let vista = Vista::new(http.clone())
        .with_sort("price", SortDir::Desc)
        .with_search("lamp");
    assert!(vista.residual().is_empty(), "sort and search are sent");
    let query = vista.pushed().clone();
    let page = smol(vista.fetch_window(20, 50)).unwrap();
    assert_eq!(page.rows, truth(&master, &query, 20, 50));
    assert_eq!(page.total, Some(100));
    // The request carried them, and the window's bounds.
    let (asked, offset, limit) = master.windows().last().cloned().unwrap();
    assert_eq!(asked, query);
    assert_eq!((offset, limit), (20, 50));
    // Every field arrives with its type; serve's "status" does not.
    let (id, row) = &page.rows[0];
    assert_eq!(row, &master.get_row(id).unwrap());
    assert_eq!(row.get("status"), None);

    // Counts and lists agree.
    assert_eq!(smol(vista.count()).unwrap(), 100);
    assert_eq!(
        smol(vista.list()).unwrap(),
        truth(&master, &query, 0, 1_000)
    );
    // Unsorted: the master's order.
    let plain = Vista::new(http.clone());
    assert_eq!(
        smol(plain.fetch_window(295, 50)).unwrap().rows,
        truth(&master, &Query::new(), 295, 50)
    );
    assert_eq!(smol(plain.count()).unwrap(), 300);
    // Reads by id.
    assert_eq!(smol(plain.get("p00007")).unwrap(), master.get_row("p00007"));
    assert_eq!(smol(plain.get("nope")).unwrap(), None, "404 is no row");
    assert_eq!(
        smol(plain.get("a/b?c")).unwrap(),
        None,
        "ids are one path segment"
    );
}

#[test]
fn what_the_api_cannot_do_is_not_sent() {
    let server = TestServer::products(products(10));
    let http = HttpVista::serve(&server.base).unwrap();
    // serve sorts by its columns only, never by id, and filters nothing.
    assert!(!http.accepts(Clause::Sort(&Sort::asc("id"))));
    assert!(!http.accepts(Clause::Sort(&Sort::asc("colour"))));
    assert!(http.accepts(Clause::Sort(&Sort::asc("stock"))));
    let condition = Condition::new("price", CmpOp::Gt, 5);
    assert!(!http.accepts(Clause::Condition(&condition)));
    let vista = Vista::new(http.clone()).with_condition(condition.clone());
    assert_eq!(
        smol(vista.fetch_window(0, 5)).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    // Over the complete list the handle evaluates it.
    let cheap = smol(vista.list()).unwrap();
    assert!(
        cheap
            .iter()
            .all(|(_, r)| matches!(r.get("price"), Some(Value::Float(p)) if *p > 5.0))
    );
    // Called directly with a clause it refused, the shell says so, sends nothing.
    let before = server.request_count();
    let sorted_by_id = Query::new().with_sort(Sort::asc("id"));
    let err = smol(http.fetch_window(&sorted_by_id, 0, 5)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(server.request_count(), before);
    // No insert or delete in serve's API.
    let err = smol(http.insert(None, record! { "name" => "x" })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(
        smol(http.delete("p00001")).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

#[test]
fn writes_reach_the_master_and_its_refusals_are_the_requests_fault() {
    let master = products(10);
    let server = TestServer::products(master.clone());
    let http = HttpVista::serve(&server.base).unwrap();
    smol(http.patch("p00002", record! { "price" => 12.0, "stock" => 4 })).unwrap();
    let row = master.get_row("p00002").unwrap();
    assert_eq!(row.get("price"), Some(&Value::Float(12.0)));
    assert_eq!(row.get("stock"), Some(&Value::from(4i64)));
    assert_eq!(row.get("name"), Some(&Value::from("Product 2")));

    // A replace writes every column, absent ones as null.
    smol(http.replace("p00003", record! { "name" => "Renamed", "stock" => 1 })).unwrap();
    assert_eq!(
        master.get_row("p00003"),
        Some(record! {
            "name" => "Renamed",
            "category" => Value::Null,
            "price" => Value::Null,
            "stock" => 1,
            "updated_at" => Value::Null,
        })
    );

    let err = smol(http.patch("nope", record! { "stock" => 1 })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = smol(http.patch("p00001", record! { "colour" => "red" })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        err.message().contains("PATCH") && err.message().contains("unknown field \"colour\""),
        "{err}"
    );
    // A value JSON cannot carry is refused before sending.
    let before = server.request_count();
    let err = smol(http.patch("p00001", record! { "price" => f64::INFINITY })).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(server.request_count(), before);
    assert_eq!(master.get_row("p00001"), Some(serve_like::product(1).1));
}

#[test]
fn a_window_longer_than_the_api_pages_is_read_whole_or_not_at_all() {
    let master = products(100);
    let server = TestServer::products(master.clone());
    let mapping = HttpMapping::serve(&server.base).paging("offset", "limit", 7);
    let http = HttpVista::new(mapping).unwrap();
    let query = Query::new().with_sort(Sort::asc("name"));
    let before = server.request_count();
    let page = smol(http.fetch_window(&query, 10, 20)).unwrap();
    assert_eq!(page.rows, truth(&master, &query, 10, 20));
    assert_eq!(page.total, Some(100));
    assert_eq!(server.request_count() - before, 3, "7 + 7 + 6 rows");
    // The end of the table ends it early.
    let page = smol(http.fetch_window(&query, 95, 20)).unwrap();
    assert_eq!(page.rows.len(), 5);
    // The second of three requests fails: an error, no rows.
    let failing = TestServer::start(
        serve_like::products_router(master.clone())
            .layer(axum::middleware::from_fn(fail_second_page)),
    );
    let http_failing =
        HttpVista::new(HttpMapping::serve(&failing.base).paging("offset", "limit", 7)).unwrap();
    let err = smol(http_failing.fetch_window(&query, 0, 20)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed, "{err}");
    assert!(err.message().contains("HTTP 502"), "{err}");
    // A list pages through everything.
    assert_eq!(
        smol(http.list(&query)).unwrap(),
        truth(&master, &query, 0, 1_000)
    );
    // A zero-row window still states the total.
    let page = smol(http.fetch_window(&query, 0, 0)).unwrap();
    assert_eq!((page.rows.len(), page.total), (0, Some(100)));
}

/// Answers 502 for the list request at offset 7 (the second page of 7).
async fn fail_second_page(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let second = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair == "offset=7"));
    if second {
        return (StatusCode::BAD_GATEWAY, r#"{"error": "master failed"}"#).into_response();
    }
    next.run(request).await
}

#[test]
fn the_same_vista_works_under_tokio() {
    let master = products(120);
    let server = TestServer::products(master.clone());
    let http = HttpVista::serve(&server.base).unwrap();
    let query = Query::new().with_sort(Sort::desc("stock"));
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let page = multi.block_on(http.fetch_window(&query, 40, 30)).unwrap();
    assert_eq!(page.rows, truth(&master, &query, 40, 30));
    // Concurrent requests from tasks.
    let tasks: Vec<_> = (0..4)
        .map(|k| {
            let http = http.clone();
            let query = query.clone();
            multi.spawn(async move { http.fetch_window(&query, k * 30, 30).await })
        })
        .collect();
    for (k, task) in tasks.into_iter().enumerate() {
        let page = multi.block_on(task).unwrap().unwrap();
        assert_eq!(page.rows, truth(&master, &query, k * 30, 30));
    }
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(
        current.block_on(http.get("p00005")).unwrap(),
        master.get_row("p00005")
    );
}

/// A server answering every list and read with `status` and `body`.
fn canned(status: StatusCode, body: &'static str) -> TestServer {
    let answer = move || async move { (status, [("content-type", "application/json")], body) };
    TestServer::start(
        Router::new()
            .route("/products", get(answer))
            .route("/products/{id}", get(answer)),
    )
}

#[test]
fn malformed_responses_are_clear_errors() {
    let cases = [
        (r#"{"rows": [{"id": "p1"}"#, "not JSON"),
        (r#"{"rows": {"id": "p1"}}"#, "not an array"),
        (r#"{"items": []}"#, "no rows at \"/rows\""),
        (r#"{"rows": [{"name": "x"}]}"#, "no \"id\" field"),
        (r#"{"rows": [{"id": [1]}]}"#, "not a string or an integer"),
        (r#"{"rows": [], "total": "many"}"#, "not a count"),
        (r#"{"rows": [1, 2]}"#, "not a JSON object"),
    ];
    for (body, says) in cases {
        let server = canned(StatusCode::OK, body);
        let http = HttpVista::serve(&server.base).unwrap();
        let err = smol(http.fetch_window(&Query::new(), 0, 10)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Failed, "{body}");
        assert!(err.message().contains("malformed response"), "{err}");
        assert!(err.message().contains(says), "{body}: {err}");
        assert!(err.message().contains("GET http://"), "{err}");
    }
    // More rows than asked: the API does not page as mapped.
    let server = canned(
        StatusCode::OK,
        r#"{"rows": [{"id": "a"}, {"id": "b"}], "total": 2}"#,
    );
    let http = HttpVista::serve(&server.base).unwrap();
    let err = smol(http.fetch_window(&Query::new(), 0, 1)).unwrap_err();
    assert!(err.message().contains("2 rows for a limit of 1"), "{err}");
    // An API ignoring the offset is not listed forever.
    let server = canned(StatusCode::OK, r#"{"rows": [{"id": "a"}, {"id": "b"}]}"#);
    let ignoring =
        HttpVista::new(HttpMapping::serve(&server.base).paging("offset", "limit", 2)).unwrap();
    let err = smol(ignoring.list(&Query::new())).unwrap_err();
    assert!(err.message().contains("came twice"), "{err}");
    // A read by id that is not JSON.
    let server = canned(StatusCode::OK, "<html>");
    let http = HttpVista::serve(&server.base).unwrap();
    let err = smol(http.get("p1")).unwrap_err();
    assert!(err.message().contains("malformed response"), "{err}");
}

#[test]
fn statuses_become_error_kinds_with_the_servers_message() {
    let server = canned(
        StatusCode::INTERNAL_SERVER_ERROR,
        r#"{"error": "database is locked"}"#,
    );
    let http = HttpVista::serve(&server.base).unwrap();
    let err = smol(http.fetch_window(&Query::new(), 0, 10)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(
        err.message().contains("HTTP 500: database is locked"),
        "{err}"
    );
    assert_eq!(smol(http.get("p1")).unwrap_err().kind(), ErrorKind::Failed);
    let server = canned(
        StatusCode::BAD_REQUEST,
        r#"{"error": "limit must be between 1 and 1000"}"#,
    );
    let http = HttpVista::serve(&server.base).unwrap();
    let err = smol(http.count(&Query::new())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // A list at a path the API does not have.
    let server = TestServer::products(products(3));
    let wrong = HttpVista::new(HttpMapping::serve(&server.base).list_path("/nope")).unwrap();
    let err = smol(wrong.list(&Query::new())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn an_oversized_response_is_refused_at_the_cap() {
    // 1,000 rows of about 220 bytes: some 220 KB.
    let rows: Vec<String> = (0..1_000)
        .map(|i| format!(r#"{{"id": "p{i}", "name": "{}"}}"#, "x".repeat(200)))
        .collect();
    let body: &'static str =
        Box::leak(format!(r#"{{"rows": [{}]}}"#, rows.join(",")).into_boxed_str());
    let server = canned(StatusCode::OK, body);
    let capped = HttpVista::serve(&server.base)
        .unwrap()
        .with_max_response_bytes(64 * 1024);
    let err = smol(capped.fetch_window(&Query::new(), 0, 1000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(
        err.message().contains("larger than the cap of 65536 bytes"),
        "{err}"
    );
    // Under the default cap (16 MiB) the same body is read.
    let http = HttpVista::serve(&server.base).unwrap();
    assert_eq!(
        smol(http.fetch_window(&Query::new(), 0, 1000))
            .unwrap()
            .rows
            .len(),
        1000
    );
}

#[test]
fn a_slow_server_times_out() {
    let slow = || async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "{}"
    };
    let server = TestServer::start(Router::new().route("/products", get(slow)));
    let http = HttpVista::serve(&server.base)
        .unwrap()
        .with_timeout(Duration::from_millis(200));
    let err = smol(http.fetch_window(&Query::new(), 0, 10)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed);
    assert!(err.message().contains("timed out"), "{err}");
}

#[test]
fn a_stopped_server_is_the_sources_failure() {
    // A port that was just free: nothing listens there now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let http = HttpVista::serve(&base).unwrap();
    let err = smol(http.fetch_window(&Query::new(), 0, 10)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed, "{err}");
    assert!(err.message().contains(&base), "{err}");
    assert_eq!(smol(http.get("p1")).unwrap_err().kind(), ErrorKind::Failed);
    assert_eq!(
        smol(http.patch("p1", record! { "stock" => 1 }))
            .unwrap_err()
            .kind(),
        ErrorKind::Failed
    );

    // A server that stops between requests, then comes back elsewhere.
    let master = products(5);
    let server = TestServer::products(master.clone());
    let http = HttpVista::serve(&server.base).unwrap();
    assert!(smol(http.get("p00001")).unwrap().is_some());
    let base = server.base.clone();
    drop(server);
    let err = smol(http.get("p00001")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failed, "{err}");
    assert!(err.message().contains(&base));
}

#[test]
fn other_api_shapes_map_too() {
    // A bare array of rows, numeric ids, `sort=col&order=desc`, inserts,
    // puts and deletes, all on routes of the test's own.
    use std::sync::{Arc, Mutex};
    let rows: Arc<Mutex<Vec<(u64, String)>>> =
        Arc::new(Mutex::new(vec![(1, "a".into()), (2, "b".into())]));
    let listed = rows.clone();
    let inserted = rows.clone();
    let deleted = rows.clone();
    let router = Router::new()
        .route(
            "/items",
            get(
                move |axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>| {
                    let rows = listed.clone();
                    async move {
                        let param = |name: &str| {
                            q.iter()
                                .find(|(k, _)| k == name)
                                .and_then(|(_, v)| v.parse::<usize>().ok())
                        };
                        let (offset, limit) =
                            (param("offset").unwrap_or(0), param("limit").unwrap_or(100));
                        let desc = q.iter().any(|(k, v)| k == "order" && v == "desc");
                        let mut rows: Vec<_> = rows.lock().unwrap().clone();
                        if desc {
                            rows.reverse();
                        }
                        let rows: Vec<_> = rows.into_iter().skip(offset).take(limit).collect();
                        let json: Vec<_> = rows
                            .iter()
                            .map(|(id, name)| serde_json::json!({ "id": id, "label": name }))
                            .collect();
                        axum::Json(serde_json::Value::Array(json))
                    }
                },
            )
            .post(move |body: axum::body::Bytes| {
                let rows = inserted.clone();
                async move {
                    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let mut rows = rows.lock().unwrap();
                    let id = rows.len() as u64 + 1;
                    rows.push((id, json["label"].as_str().unwrap_or("").to_string()));
                    (
                        StatusCode::CREATED,
                        axum::Json(serde_json::json!({ "id": id })),
                    )
                }
            }),
        )
        .route(
            "/items/{id}",
            axum::routing::delete(move |axum::extract::Path(id): axum::extract::Path<u64>| {
                let rows = deleted.clone();
                async move {
                    let mut rows = rows.lock().unwrap();
                    let before = rows.len();
                    rows.retain(|(i, _)| *i != id);
                    if rows.len() == before {
                        StatusCode::NOT_FOUND
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
    let server = TestServer::start(router);
    let mapping = HttpMapping::new("items", &server.base)
        .sort_param("sort", SortStyle::OrderParam("order".into()))
        .sortable(["id_order"])
        .insert(Route::new(HttpMethod::Post, "/items"))
        .delete(Route::new(HttpMethod::Delete, "/items/{id}"));
    let http = HttpVista::new(mapping).unwrap();
    let caps = http.capabilities();
    assert!(caps.can_insert && caps.can_delete && !caps.can_update && caps.can_order);
    let id = smol(http.insert(None, record! { "label" => "c" })).unwrap();
    assert_eq!(id, "3");
    let listed = smol(http.list(&Query::new())).unwrap();
    assert_eq!(
        listed,
        vec![
            ("1".to_string(), record! { "label" => "a" }),
            ("2".to_string(), record! { "label" => "b" }),
            ("3".to_string(), record! { "label" => "c" }),
        ]
    );
    // No total in a bare array: counted over the list.
    assert_eq!(smol(http.count(&Query::new())).unwrap(), 3);
    let desc = Query::new().with_sort(Sort::desc("id_order"));
    assert_eq!(smol(http.fetch_window(&desc, 0, 1)).unwrap().rows[0].0, "3");
    smol(http.delete("2")).unwrap();
    smol(http.delete("2")).unwrap();
    assert_eq!(rows.lock().unwrap().len(), 2);
    // Updates need both routes.
    assert_eq!(
        smol(http.patch("1", record! {})).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

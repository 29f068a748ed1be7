//! A tiny HTTP server that speaks the API of Diorama's `serve` example
//! (`tokio-runtime/src/serve`: `GET /products?offset&limit&sort=[-]col&q`,
//! `GET /products/{id}`, `PATCH /products/{id}`, JSON errors) over a
//! `MemoryVista`, for tests and benches of `HttpVista` while `serve` moves
//! to its app crate. Like serve it refuses unknown or repeated parameters,
//! limits outside 1..=1000 and sorts by unknown columns with a 400, and
//! answers rows as `{ "id", ...fields, "status": "fresh" }`.
//!
//! Also: [`TestServer::start`] serves any router on a loopback port on its
//! own thread and stops when dropped (in-flight requests are dropped too).
//! The row JSON is written here by hand, not with the code under test.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use diorama_core::vista::{MemoryVista, Query, Sort, SortDir, TableShell};
use diorama_core::{ErrorKind, Record, Value, record};
use serde_json::{Map, Value as Json, json};

/// The columns of the product table, as serve's schema has them.
pub const COLUMNS: [&str; 5] = ["name", "category", "price", "stock", "updated_at"];

/// A server on a loopback port, stopped when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Requests answered (or being answered) so far.
    pub requests: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Serve `router` on a free loopback port.
    pub fn start(router: Router) -> TestServer {
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let router = router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                counted.fetch_add(1, Ordering::SeqCst);
                next.run(request)
            },
        ));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                tokio::select! {
                    _ = axum::serve(listener, router) => {}
                    _ = stopped => {}
                }
            });
        });
        TestServer {
            base,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The serve API over `master`.
    pub fn products(master: MemoryVista) -> TestServer {
        TestServer::start(products_router(master))
    }

    /// Requests so far.
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Product `i`: every tenth has no price, categories cycle.
pub fn product(i: usize) -> (String, Record) {
    let price = if i % 10 == 3 {
        Value::Null
    } else {
        Value::Float(((i * 37) % 500) as f64 / 4.0 + 0.5)
    };
    (
        format!("p{i:05}"),
        record! {
            "name" => format!("Product {i}"),
            "category" => ["lamp", "desk", "chair"][i % 3],
            "price" => price,
            "stock" => (i % 13) as i64,
            "updated_at" => format!("2026-01-{:02}", 1 + i % 28),
        },
    )
}

/// `n` products.
pub fn products(n: usize) -> MemoryVista {
    MemoryVista::generate("products", n, product)
}

/// The routes of serve over `master`. A master failure answers 502, as
/// serve does.
pub fn products_router(master: MemoryVista) -> Router {
    Router::new()
        .route("/products", get(list))
        .route("/products/{id}", get(get_one).patch(patch))
        .with_state(master)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

fn master_error(error: diorama_core::Error) -> Response {
    let status = match error.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        _ => StatusCode::BAD_GATEWAY,
    };
    error_response(status, error)
}

fn error_response(status: StatusCode, error: diorama_core::Error) -> Response {
    self::error(status, error.to_string())
}

/// A value as JSON, for the scalars the product table holds.
pub fn scalar_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(i.as_i64().expect("small integers")),
        Value::Float(f) => json!(*f),
        Value::Text(t) => Json::String(t.clone()),
        other => panic!("the product table holds no {other:?}"),
    }
}

/// `{ "id", ...fields, "status": "fresh" }`.
pub fn row_json(id: &str, record: &Record) -> Json {
    let mut object = Map::new();
    for (field, value) in record.iter() {
        object.insert(field.to_string(), scalar_json(value));
    }
    object.insert("id".into(), Json::String(id.to_string()));
    object.insert("status".into(), Json::String("fresh".into()));
    Json::Object(object)
}

async fn list(
    State(master): State<MemoryVista>,
    UrlQuery(pairs): UrlQuery<Vec<(String, String)>>,
) -> Response {
    let mut offset = 0usize;
    let mut limit = 50usize;
    let mut query = Query::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in pairs {
        if seen.contains(&name) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("parameter {name:?} is given more than once"),
            );
        }
        seen.push(name.clone());
        match name.as_str() {
            "offset" => match value.parse() {
                Ok(n) => offset = n,
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "offset must be a non-negative integer",
                    );
                }
            },
            "limit" => match value.parse() {
                Ok(n) if (1..=1000).contains(&n) => limit = n,
                _ => return error(StatusCode::BAD_REQUEST, "limit must be between 1 and 1000"),
            },
            "sort" => {
                let (column, dir) = match value.strip_prefix('-') {
                    Some(column) => (column.to_string(), SortDir::Desc),
                    None => (value.clone(), SortDir::Asc),
                };
                if !COLUMNS.contains(&column.as_str()) {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("cannot sort by {column:?}"),
                    );
                }
                query = query.with_sort(Sort::new(column, dir));
            }
            "q" => query = query.with_search(value.trim()),
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter {other:?}"),
                );
            }
        }
    }
    match master.fetch_window(&query, offset, limit).await {
        Ok(page) => {
            let rows: Vec<Json> = page.rows.iter().map(|(id, r)| row_json(id, r)).collect();
            axum::Json(
                json!({ "offset": offset, "limit": limit, "total": page.total, "rows": rows }),
            )
            .into_response()
        }
        Err(e) => master_error(e),
    }
}

async fn get_one(State(master): State<MemoryVista>, Path(id): Path<String>) -> Response {
    match master.get(&id).await {
        Ok(Some(record)) => axum::Json(row_json(&id, &record)).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no product {id:?}")),
        Err(e) => master_error(e),
    }
}

async fn patch(State(master): State<MemoryVista>, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(Json::Object(object)) = serde_json::from_slice::<Json>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object of fields",
        );
    };
    if object.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "nothing to patch: the object has no fields",
        );
    }
    let mut fields = Record::new();
    for (field, json) in object {
        let value = match (field.as_str(), &json) {
            (_, Json::Null) => Value::Null,
            ("name" | "category" | "updated_at", Json::String(s)) => Value::from(s.as_str()),
            // serve stores prices as reals and stock as integers.
            ("price", Json::Number(n)) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            ("stock", Json::Number(n)) if n.is_i64() => Value::from(n.as_i64().unwrap_or(0)),
            (name, _) if COLUMNS.contains(&name) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("field {name:?} has the wrong type"),
                );
            }
            (name, _) => return error(StatusCode::BAD_REQUEST, format!("unknown field {name:?}")),
        };
        fields.insert(field, value);
    }
    match master.patch(&id, fields).await {
        Ok(()) => match master.get_row(&id) {
            Some(record) => axum::Json(row_json(&id, &record)).into_response(),
            None => error(StatusCode::NOT_FOUND, format!("no product {id:?}")),
        },
        Err(e) => master_error(e),
    }
}

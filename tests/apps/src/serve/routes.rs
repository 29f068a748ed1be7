//! The HTTP routes over a [`Service`]; every rejection is a JSON error.
//!
//! Every request goes through [`observe`]: it gets an id (sent back as
//! `x-request-id`), a deadline (the longer of the read and write timeouts
//! and two seconds more: past it the request is dropped, and with it the
//! master call it waited for, and the answer is a JSON 504), a JSON 500 if
//! a handler panics, a count and a latency in the metrics, and one log
//! line.

use std::future::Future;
use std::io;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_lite::FutureExt;
use serde_json::Value as JsonValue;
use tokio::net::TcpListener;
use tracing::Instrument;

use super::app::Service;
use super::error::ApiError;
use super::guard::GuardedListener;
use super::params::ListParams;
use super::strict_json;

/// The largest request body accepted (a PATCH is a few fields): larger is
/// a JSON 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How much longer than its read or write timeout a request may take
/// before it is dropped.
const REQUEST_SLACK: Duration = Duration::from_secs(2);

impl Service {
    /// The routes: `GET /products`, `GET /products/{id}`,
    /// `PATCH /products/{id}`, `GET /stats`; anything else is a JSON 404
    /// (or 405 for another method on a known path).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/products", get(list))
            .route("/products/{id}", get(get_one).patch(patch))
            .route("/stats", get(stats))
            .route("/metrics", get(metrics))
            .fallback(no_route)
            .method_not_allowed_fallback(wrong_method)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(middleware::from_fn_with_state(self.clone(), observe))
            .with_state(self.clone())
    }

    /// Serve the routes on `listener` until `shutdown` completes, then let
    /// the requests in progress finish, drain the write queue and flush
    /// the cache.
    ///
    /// Errors: the listener's I/O error; a failed cache flush as
    /// [`io::ErrorKind::Other`].
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let served = axum::serve(GuardedListener::new(listener), self.router())
            .with_graceful_shutdown(shutdown)
            .await;
        let flushed = self.shutdown().await.map_err(io::Error::other);
        served.and(flushed)
    }
}

async fn list(
    State(service): State<Service>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let params = ListParams::parse(&pairs, service.schema()).map_err(ApiError::bad_request)?;
    Ok(Json(service.list(&params).await?))
}

async fn get_one(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(service.get(&id).await?))
}

async fn patch(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let body = body.map_err(|e| ApiError {
        status: e.status(),
        message: if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            format!("the body is larger than {MAX_BODY_BYTES} bytes")
        } else {
            e.body_text()
        },
    })?;
    // Parsed here rather than by `Json<_>`, so every malformed body is a
    // 400 with the parser's message, whatever the content type says, and
    // a key given twice is refused rather than the last one kept.
    let json: JsonValue = strict_json::parse(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let fields = service
        .schema()
        .patch_fields(&json)
        .map_err(ApiError::bad_request)?;
    let (status, row) = service.patch(&id, fields).await?;
    Ok((status, Json(row)).into_response())
}

async fn stats(State(service): State<Service>) -> Json<JsonValue> {
    Json(service.stats())
}

async fn metrics(State(service): State<Service>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        service.metrics_text(),
    )
        .into_response()
}

/// Every request: an id, a deadline, a JSON 500 for a panic, metrics and
/// one log line (see the module docs).
async fn observe(State(service): State<Service>, request: Request, next: Next) -> Response {
    let id = service.next_request_id();
    let method = request.method().clone();
    let target = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_string(),
        |p| p.as_str().to_string(),
    );
    let options = service.options();
    let deadline = options.read_timeout.max(options.write_timeout) + REQUEST_SLACK;
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = id);
    let answered = AssertUnwindSafe(tokio::time::timeout(deadline, next.run(request)))
        .catch_unwind()
        .instrument(span)
        .await;
    let mut response = match answered {
        Ok(Ok(response)) => response,
        Ok(Err(_)) => ApiError::timeout(format!(
            "no answer within {} ms; the request was dropped",
            deadline.as_millis()
        ))
        .into_response(),
        Err(_) => ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "the request failed inside the service; see its log".into(),
        }
        .into_response(),
    };
    let took = started.elapsed();
    let status = response.status().as_u16();
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    service.metrics().request(method.as_str(), status, took);
    tracing::info!(
        request_id = id,
        method = %method,
        target = %truncate(&target, 200),
        status,
        latency_ms = format_args!("{:.3}", took.as_secs_f64() * 1e3),
        "request"
    );
    response
}

/// `text` cut to at most `max` bytes at a character boundary, for a log.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route {method} {}: try GET /products, GET or PATCH /products/{{id}}, GET /stats, GET /metrics",
        uri.path()
    ))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("{method} is not allowed on {}", uri.path()),
    }
}

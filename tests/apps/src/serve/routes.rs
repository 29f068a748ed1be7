//! The HTTP routes over a [`Service`]; every rejection is a JSON error.

use std::future::Future;
use std::io;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value as JsonValue;
use tokio::net::TcpListener;

use super::app::Service;
use super::error::ApiError;
use super::params::ListParams;

impl Service {
    /// The routes: `GET /products`, `GET /products/{id}`,
    /// `PATCH /products/{id}`, `GET /stats`; anything else is a JSON 404
    /// (or 405 for another method on a known path).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/products", get(list))
            .route("/products/{id}", get(get_one).patch(patch))
            .route("/stats", get(stats))
            .fallback(no_route)
            .method_not_allowed_fallback(wrong_method)
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
        let served = axum::serve(listener, self.router())
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
    body: Bytes,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    // Parsed here rather than by `Json<_>`, so every malformed body is a
    // 400 with the parser's message, whatever the content type says.
    let json: JsonValue = serde_json::from_slice(&body)
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

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route {method} {}: try GET /products, GET or PATCH /products/{{id}}, GET /stats",
        uri.path()
    ))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("{method} is not allowed on {}", uri.path()),
    }
}

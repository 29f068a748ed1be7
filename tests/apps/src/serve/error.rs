//! The service's error responses: a status and `{ "error": "..." }`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use diorama_core::{Error, ErrorKind};

/// An HTTP error: the status and the message sent as `{ "error": message }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// `400 Bad Request`: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// `404 Not Found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// `504 Gateway Timeout`: the master did not answer in time.
    pub fn timeout(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::GATEWAY_TIMEOUT,
            message: message.into(),
        }
    }

    /// The response for a Diorama error, by kind:
    ///
    /// | kind | status |
    /// | --- | --- |
    /// | `InvalidInput` | 400 (the master refused the input) |
    /// | `NotFound` | 404 |
    /// | `Unsupported` | 501 (the master does not offer it) |
    /// | `WriteQueueFull`, `ShuttingDown` | 503 |
    /// | anything else (`Failed`, `Corrupt`, `Closed`, `Cancelled`) | 502: the master (or the cache in front of it) failed |
    pub fn from_diorama(error: &Error) -> Self {
        let status = match error.kind() {
            ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
            ErrorKind::WriteQueueFull | ErrorKind::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_GATEWAY,
        };
        ApiError {
            status,
            message: error.to_string(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError::from_diorama(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_statuses() {
        let status = |error: Error| ApiError::from(error).status;
        assert_eq!(status(Error::invalid_input("x")), StatusCode::BAD_REQUEST);
        assert_eq!(status(Error::not_found("x")), StatusCode::NOT_FOUND);
        assert_eq!(status(Error::failed("x")), StatusCode::BAD_GATEWAY);
        assert_eq!(status(Error::corrupt("x")), StatusCode::BAD_GATEWAY);
        assert_eq!(
            status(Error::new(ErrorKind::ShuttingDown, "x")),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ApiError::from(Error::failed("down")).message,
            Error::failed("down").to_string()
        );
    }
}

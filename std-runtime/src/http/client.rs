//! The HTTP transport: `ureq` requests on the `blocking` thread pool.
//!
//! Why this client: `ureq` is a maintained, small HTTP/1.1 client with
//! connection pooling, per-request timeouts and a body size limit, and it
//! is blocking, so it depends on no executor. Run on `blocking`'s thread
//! pool (which smol itself uses for files and DNS), the same future works
//! under smol, tokio or any other executor, and no reactor has to be
//! running; the async clients are either tied to tokio (`reqwest`, hyper's
//! client) or unmaintained (`surf`, `isahc`). The price is a thread hop per
//! request, measured against the request itself in the `http_window`
//! bench (see the README). Dropping a request's future does not stop its
//! thread: the request finishes in the background, bounded by the timeout,
//! and its answer is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diorama_core::{Error, Result};
use serde_json::Value as Json;

use super::mapping::HttpMethod;

/// One request to send.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) method: HttpMethod,
    pub(crate) url: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
}

/// A complete response: its status and whole body.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// An agent (connection pool) with the timeout and body cap it was built
/// with, and a count of the requests sent.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    agent: ureq::Agent,
    pub(crate) timeout: Duration,
    pub(crate) max_body: u64,
    headers: Arc<[(String, String)]>,
    sent: Arc<AtomicU64>,
}

impl Client {
    pub(crate) fn new(timeout: Duration, max_body: u64, headers: &[(String, String)]) -> Self {
        let agent = ureq::Agent::config_builder()
            // Statuses are mapped to errors here, with the body's message.
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("diorama-std/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            timeout,
            max_body,
            headers: headers.into(),
            sent: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Requests sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Send `request` and read the whole response, off the calling thread.
    ///
    /// Errors (`Failed`): no connection, the timeout, a body over the cap,
    /// a broken response. A status is not an error here.
    pub(crate) async fn send(&self, request: Request) -> Result<Reply> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let client = self.clone();
        blocking::unblock(move || client.send_now(request)).await
    }

    fn send_now(&self, request: Request) -> Result<Reply> {
        let Request {
            method,
            url,
            query,
            body,
        } = request;
        let what = || format!("{method} {url}");
        let mut builder = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(with_query(&url, &query));
        for (name, value) in self.headers.iter() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder = builder.header("accept", "application/json");
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let bad =
            |e: ureq::http::Error| Error::invalid_input(format!("{}: bad request: {e}", what()));
        // `()` sends no body at all (not an empty one) for reads and deletes.
        let sent = match body {
            Some(body) => self.agent.run(builder.body(body).map_err(bad)?),
            None => self.agent.run(builder.body(()).map_err(bad)?),
        };
        let mut response = sent.map_err(|e| self.transport_error(&what(), e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| self.transport_error(&what(), e))?;
        Ok(Reply { status, body })
    }

    fn transport_error(&self, what: &str, error: ureq::Error) -> Error {
        match error {
            ureq::Error::Timeout(_) => Error::failed(format!(
                "{what}: no complete answer within {} ms (timed out)",
                self.timeout.as_millis()
            )),
            ureq::Error::BodyExceedsLimit(_) => Error::failed(format!(
                "{what}: the response is larger than the cap of {} bytes",
                self.max_body
            )),
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                Error::failed(format!("{what}: cannot connect ({error})"))
            }
            ureq::Error::Io(io) => Error::failed(format!("{what}: connection failed: {io}")),
            ureq::Error::BadUri(uri) => {
                Error::invalid_input(format!("{what}: not a usable URL: {uri}"))
            }
            other => Error::failed(format!("{what}: {other}")),
        }
    }
}

/// `url` with `query` percent-encoded after a `?`.
fn with_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_string();
    }
    let mut out = String::from(url);
    out.push('?');
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    out.push_str(&encoded);
    out
}

/// The error for a response of `status` (not 2xx) to `what`, with the
/// message the body carries (`{"error": "..."}`, or the start of its text).
///
/// | status | kind |
/// | --- | --- |
/// | 404 | `NotFound` |
/// | 405, 501 | `Unsupported` (the API does not offer it) |
/// | 408, 429 | `Failed` (busy or slow: the source's state, worth retrying) |
/// | other 4xx | `InvalidInput` (the request's fault) |
/// | 5xx, others | `Failed` (the source's fault) |
pub(crate) fn status_error(what: &str, status: u16, body: &[u8]) -> Error {
    let detail = error_detail(body);
    let message = if detail.is_empty() {
        format!("{what}: HTTP {status}")
    } else {
        format!("{what}: HTTP {status}: {detail}")
    };
    match status {
        404 => Error::not_found(message),
        405 | 501 => Error::unsupported(message),
        408 | 429 => Error::failed(message),
        400..=499 => Error::invalid_input(message),
        _ => Error::failed(message),
    }
}

/// The longest error detail quoted from a body.
const DETAIL_CHARS: usize = 300;

fn error_detail(body: &[u8]) -> String {
    if let Ok(Json::Object(object)) = serde_json::from_slice::<Json>(body)
        && let Some(Json::String(message)) = object.get("error").or_else(|| object.get("message"))
    {
        return message.chars().take(DETAIL_CHARS).collect();
    }
    String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(DETAIL_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use diorama_core::ErrorKind;

    #[test]
    fn statuses_map_to_kinds_with_the_servers_message() {
        let kind = |status| status_error("GET /x", status, b"").kind();
        assert_eq!(kind(404), ErrorKind::NotFound);
        assert_eq!(kind(400), ErrorKind::InvalidInput);
        assert_eq!(kind(422), ErrorKind::InvalidInput);
        assert_eq!(kind(405), ErrorKind::Unsupported);
        assert_eq!(kind(501), ErrorKind::Unsupported);
        assert_eq!(kind(429), ErrorKind::Failed);
        assert_eq!(kind(502), ErrorKind::Failed);
        assert_eq!(kind(500), ErrorKind::Failed);
        let error = status_error("PATCH /p/1", 400, br#"{"error":"unknown field \"x\""}"#);
        assert_eq!(error.message(), "PATCH /p/1: HTTP 400: unknown field \"x\"");
        let long = "x".repeat(5000);
        let error = status_error("GET /", 500, long.as_bytes());
        assert!(error.message().len() < 400);
    }

    #[test]
    fn query_parameters_are_encoded() {
        let query = vec![
            ("q".to_string(), "a&b c/ü".to_string()),
            ("sort".to_string(), "-price".to_string()),
        ];
        assert_eq!(
            with_query("http://h/p", &query),
            "http://h/p?q=a%26b+c%2F%C3%BC&sort=-price"
        );
        assert_eq!(with_query("http://h/p", &[]), "http://h/p");
    }
}

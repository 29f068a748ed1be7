//! [`HttpVista`]: a master table behind an HTTP JSON API (feature `http`).
//!
//! An [`HttpMapping`] says where the table's rows are and how to ask for
//! them; [`HttpMapping::serve`] is the ready mapping for Diorama's own
//! `serve` service, so a desktop app can cache a service that caches a
//! database:
//!
//! ```no_run
//! use diorama_core::vista::{SortDir, Vista};
//! use diorama_std::http::HttpVista;
//! # smol::block_on(async {
//! let products = Vista::new(HttpVista::serve("http://127.0.0.1:8080")?)
//!     .with_sort("price", SortDir::Desc) // sent as sort=-price
//!     .with_search("lamp"); // sent as q=lamp
//! let page = products.fetch_window(0, 50).await?;
//! println!("{} of {:?} rows", page.rows.len(), page.total);
//! # Ok::<(), diorama_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Errors
//!
//! Every failure is an error of the call, never a partial answer: a window
//! read in several requests returns all its rows or an error, so a Dio in
//! front caches nothing from a failed or partial response.
//!
//! | what happened | kind |
//! | --- | --- |
//! | `404` (a read by id: `Ok(None)`; a delete: `Ok(())`) | `NotFound` |
//! | `400` and other 4xx: the request's fault (a bad field, a bad value) | `InvalidInput` |
//! | `405`, `501`: the API does not offer it | `Unsupported` |
//! | 5xx, `408`, `429`, no connection, the timeout (default 10 s) | `Failed` |
//! | a body over the cap (default 16 MiB), not JSON, or not shaped as the mapping says | `Failed` (`malformed response: …`) |
//!
//! Messages name the method, the URL and the server's own message
//! (`{"error": "..."}`). JSON ↔ `Value` conversion is described in
//! [`json`].
//!
//! # What is pushed down
//!
//! Sorts (on [sortable](HttpMapping::sortable) columns) and searches are
//! sent as parameters when the mapping has them; conditions are never
//! accepted, so they stay with the `Vista` handle as a residual (evaluated
//! over complete lists, refused for windows). Windows are random access
//! (`offset`/`limit`); `count` reads the total of a one-row window, and
//! lists every row when the API states no total.

mod client;
pub mod json;
mod mapping;
mod read;
mod write;

pub use mapping::{HttpMapping, HttpMethod, Route, SortStyle};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use diorama_core::runtime::BoxFuture;
use diorama_core::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use diorama_core::{Error, Record, Result};

use self::client::Client;

/// The default timeout of one request (connect, send, answer, body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on one response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// A [`TableShell`] over an HTTP JSON API described by an [`HttpMapping`].
///
/// Works under any executor (smol, tokio, …): requests run on the
/// `blocking` thread pool (see the module notes of the transport in the
/// source for why). Cheap to clone: clones share the connection pool and
/// the request counter.
///
/// Capabilities follow the mapping: `can_order` with a sort parameter,
/// `can_search` with a search parameter, `can_insert` / `can_delete` with
/// their routes, `can_update` with both a replace and a patch route (with
/// only one, both are refused), random-access windows and counts always,
/// and never `can_subscribe` (plain HTTP pushes nothing).
#[derive(Clone)]
pub struct HttpVista {
    mapping: Arc<HttpMapping>,
    client: Client,
}

impl HttpVista {
    /// A table over `mapping`, with the default timeout and body cap.
    ///
    /// Errors: `InvalidInput` for a mapping no request could succeed with
    /// (a base URL that is not `http://`, a path without a leading `/`, a
    /// JSON pointer without one). Nothing is sent yet.
    pub fn new(mapping: HttpMapping) -> Result<Self> {
        mapping
            .check()
            .map_err(|problem| Error::invalid_input(format!("HttpMapping: {problem}")))?;
        let client = Client::new(
            DEFAULT_TIMEOUT,
            DEFAULT_MAX_RESPONSE_BYTES,
            &mapping.headers,
        );
        Ok(HttpVista {
            mapping: Arc::new(mapping),
            client,
        })
    }

    /// Diorama's `serve` API at `base_url` ([`HttpMapping::serve`]).
    pub fn serve(base_url: impl Into<String>) -> Result<Self> {
        HttpVista::new(HttpMapping::serve(base_url))
    }

    /// This table giving up on a request after `timeout` (the whole
    /// exchange: connecting, sending, the answer and its body).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        let client = Client::new(timeout, self.client.max_body, &self.mapping.headers);
        HttpVista { client, ..self }
    }

    /// This table refusing response bodies over `bytes` (`Failed`).
    pub fn with_max_response_bytes(self, bytes: u64) -> Self {
        let client = Client::new(self.client.timeout, bytes, &self.mapping.headers);
        HttpVista { client, ..self }
    }

    /// The mapping.
    pub fn mapping(&self) -> &HttpMapping {
        &self.mapping
    }

    /// HTTP requests sent so far by this table and its clones.
    pub fn requests(&self) -> u64 {
        self.client.sent()
    }

    /// A URL of the API: the base and `path` with `{id}` replaced by `id`.
    fn url(&self, path: &str, id: Option<&str>) -> String {
        let path = match id {
            Some(id) => path.replace("{id}", &encode_segment(id)),
            None => path.to_string(),
        };
        format!("{}{path}", self.mapping.base_url)
    }
}

/// `id` percent-encoded as one path segment: everything but the RFC 3986
/// unreserved characters is escaped, so `/`, `?` or `#` in an id cannot
/// change the route.
fn encode_segment(id: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

impl fmt::Debug for HttpVista {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpVista")
            .field("name", &self.mapping.name)
            .field("base_url", &self.mapping.base_url)
            .field("timeout", &self.client.timeout)
            .field("max_response_bytes", &self.client.max_body)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl TableShell for HttpVista {
    fn name(&self) -> &str {
        &self.mapping.name
    }

    fn capabilities(&self) -> VistaCapabilities {
        let m = &self.mapping;
        VistaCapabilities {
            can_insert: m.insert.is_some(),
            can_update: m.replace.is_some() && m.patch.is_some(),
            can_delete: m.delete.is_some(),
            can_subscribe: false,
            can_order: m.sort.is_some(),
            can_search: m.search_param.is_some(),
            can_fetch_page: true,
            can_fetch_next: true,
            can_count: true,
        }
    }

    fn accepts(&self, clause: Clause<'_>) -> bool {
        match clause {
            Clause::Condition(_) => false,
            Clause::Sort(sort) => self.mapping.can_sort_by(&sort.field),
            Clause::Search(_) => self.mapping.search_param.is_some(),
        }
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        Box::pin(self.read_list(query))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(self.read_one(id))
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        Box::pin(self.read_count(query))
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        Box::pin(self.read_window(query, offset, limit))
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        Box::pin(self.write_insert(id, record))
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write_replace(id, record))
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write_patch(id, fields))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write_delete(id))
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.write_delete_all())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(encode_segment("p-1_a.b~"), "p-1_a.b~");
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(encode_segment("ü"), "%C3%BC");
    }

    #[test]
    fn unusable_mappings_are_refused_before_any_request() {
        let refused = |mapping: HttpMapping| HttpVista::new(mapping).unwrap_err();
        assert!(
            refused(HttpMapping::new("t", "ftp://h"))
                .message()
                .contains("http://")
        );
        assert!(
            refused(HttpMapping::new("t", "https://h"))
                .message()
                .contains("plain HTTP")
        );
        assert!(
            refused(HttpMapping::new("t", "http://h").list_path("rows"))
                .message()
                .contains("must start with /")
        );
        assert!(
            refused(HttpMapping::new("t", "http://h").rows_at("rows"))
                .message()
                .contains("JSON pointer")
        );
        let secret = HttpMapping::new("t", "http://h").header("authorization", "Bearer s3cret");
        let shown = format!("{secret:?}");
        assert!(
            shown.contains("authorization") && !shown.contains("s3cret"),
            "{shown}"
        );
        let serve = HttpVista::serve("http://127.0.0.1:1/").unwrap();
        assert_eq!(serve.mapping().base_url(), "http://127.0.0.1:1");
        assert_eq!(
            serve.url("/products/{id}", Some("a/b")),
            "http://127.0.0.1:1/products/a%2Fb"
        );
        let caps = serve.capabilities();
        assert!(caps.can_update && caps.can_order && caps.can_search && caps.can_count);
        assert!(!caps.can_insert && !caps.can_delete && !caps.can_subscribe);
    }
}

//! The declarative mapping of a table onto an HTTP JSON API.

use std::fmt;

/// An HTTP method of a [`Route`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method as sent: `"GET"`, `"POST"`, ….
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method and a path template: `{id}` in the path is replaced by the
/// row's id, percent-encoded as one path segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// The method.
    pub method: HttpMethod,
    /// The path after the base URL, starting with `/` (`"/products/{id}"`).
    pub path: String,
}

impl Route {
    /// `method path`.
    pub fn new(method: HttpMethod, path: impl Into<String>) -> Self {
        Route {
            method,
            path: path.into(),
        }
    }
}

/// How the sort parameter spells a column and a direction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SortStyle {
    /// `sort=price` ascending, `sort=-price` descending (Diorama's `serve`,
    /// JSON:API, Django REST framework).
    MinusPrefix,
    /// `sort=price:asc` / `sort=price:desc`.
    ColonSuffix,
    /// The column in the sort parameter and the direction (`asc` / `desc`)
    /// in this second parameter: `sort=price&order=desc`.
    OrderParam(String),
}

/// Where a table lives in an HTTP JSON API, and how to ask for its rows.
///
/// Built from [`HttpMapping::new`] and the builder methods below, or ready
/// made for Diorama's own `serve` by [`HttpMapping::serve`]. What each part
/// means for the requests sent:
///
/// - **Lists and windows**: `GET {base}{list_path}?{offset}=…&{limit}=…`
///   plus the sort and search parameters when the query has them; at most
///   `max_limit` rows per request (a longer window is read in several
///   requests and returned whole or not at all). The rows are the JSON
///   array at the [`rows_at`](HttpMapping::rows_at) pointer (RFC 6901;
///   `""` for the whole body), each an object with the id in
///   [`id_field`](HttpMapping::id_field); the total is the number at
///   [`total_at`](HttpMapping::total_at), when set and not `null`.
/// - **Reads by id**: `GET {base}{get_path}`; `404` means no such row.
/// - **Writes**: the routes set with [`insert`](HttpMapping::insert),
///   [`replace`](HttpMapping::replace), [`patch`](HttpMapping::patch) and
///   [`delete`](HttpMapping::delete), with the record as a JSON object body.
///
/// Fields named in [`ignore_fields`](HttpMapping::ignore_fields) (metadata
/// the API adds to rows, like `serve`'s `status`) and the id field are not
/// part of the record. `Debug` shows header names only, never their values
/// (they often hold credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpMapping {
    pub(crate) name: String,
    pub(crate) base_url: String,
    pub(crate) list_path: String,
    pub(crate) offset_param: String,
    pub(crate) limit_param: String,
    pub(crate) max_limit: usize,
    pub(crate) sort: Option<(String, SortStyle)>,
    pub(crate) sortable: Option<Vec<String>>,
    pub(crate) search_param: Option<String>,
    pub(crate) rows_at: String,
    pub(crate) total_at: Option<String>,
    pub(crate) id_field: String,
    pub(crate) ignored: Vec<String>,
    pub(crate) get_path: Option<String>,
    pub(crate) insert: Option<Route>,
    pub(crate) replace: Option<Route>,
    pub(crate) patch: Option<Route>,
    pub(crate) delete: Option<Route>,
    pub(crate) columns: Option<Vec<String>>,
    pub(crate) headers: Vec<(String, String)>,
}

impl fmt::Debug for HttpMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpMapping")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("list_path", &self.list_path)
            .field(
                "paging",
                &(&self.offset_param, &self.limit_param, self.max_limit),
            )
            .field("sort", &self.sort)
            .field("sortable", &self.sortable)
            .field("search_param", &self.search_param)
            .field("rows_at", &self.rows_at)
            .field("total_at", &self.total_at)
            .field("id_field", &self.id_field)
            .field("ignored", &self.ignored)
            .field("get_path", &self.get_path)
            .field("insert", &self.insert)
            .field("replace", &self.replace)
            .field("patch", &self.patch)
            .field("delete", &self.delete)
            .field("columns", &self.columns)
            .field("headers", &header_names)
            .finish()
    }
}

impl HttpMapping {
    /// The table `name` at `base_url` (`"http://127.0.0.1:8080"`, no
    /// trailing path), with the common defaults: rows listed at
    /// `GET /{name}?offset=&limit=` (at most 100 per request) as a bare JSON
    /// array of objects with an `"id"`, no total, no sort or search, read by
    /// id at `GET /{name}/{id}`, and no writes.
    pub fn new(name: impl Into<String>, base_url: impl Into<String>) -> Self {
        let name = name.into();
        let base_url = base_url.into().trim_end_matches('/').to_string();
        HttpMapping {
            list_path: format!("/{name}"),
            get_path: Some(format!("/{name}/{{id}}")),
            name,
            base_url,
            offset_param: "offset".into(),
            limit_param: "limit".into(),
            max_limit: 100,
            sort: None,
            sortable: None,
            search_param: None,
            rows_at: String::new(),
            total_at: None,
            id_field: "id".into(),
            ignored: Vec::new(),
            insert: None,
            replace: None,
            patch: None,
            delete: None,
            columns: None,
            headers: Vec::new(),
        }
    }

    /// Diorama's own `serve` API at `base_url`:
    ///
    /// | read / write | request | response |
    /// | --- | --- | --- |
    /// | window | `GET /products?offset=&limit=&sort=[-]column&q=` (limit ≤ 1000) | `{ "offset", "limit", "total", "rows": [{ "id", …fields, "status" }] }` |
    /// | get | `GET /products/{id}` | `{ "id", …fields, "status" }`, `404` when absent |
    /// | patch | `PATCH /products/{id}` with the fields | `200`/`202` and the row |
    /// | replace | `PATCH /products/{id}` with every column, `null` where the record has none | as patch |
    ///
    /// Sortable columns are the product table's `name`, `category`,
    /// `price`, `stock`, `updated_at` (serve refuses others, and the id);
    /// `status` and `error` are serve's row metadata, not fields. The API
    /// has no insert or delete, so neither is offered.
    pub fn serve(base_url: impl Into<String>) -> Self {
        const COLUMNS: [&str; 5] = ["name", "category", "price", "stock", "updated_at"];
        HttpMapping::new("products", base_url)
            .paging("offset", "limit", 1000)
            .sort_param("sort", SortStyle::MinusPrefix)
            .sortable(COLUMNS)
            .search_param("q")
            .rows_at("/rows")
            .total_at("/total")
            .ignore_fields(["status", "error"])
            .patch(Route::new(HttpMethod::Patch, "/products/{id}"))
            .replace(Route::new(HttpMethod::Patch, "/products/{id}"))
            .columns(COLUMNS)
    }

    /// The table's name (a Dio names its cache table after it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Rows listed at `path` (default `/{name}`).
    pub fn list_path(mut self, path: impl Into<String>) -> Self {
        self.list_path = path.into();
        self
    }

    /// The offset and limit parameter names and the largest limit the API
    /// accepts per request (at least 1).
    pub fn paging(
        mut self,
        offset_param: impl Into<String>,
        limit_param: impl Into<String>,
        max_limit: usize,
    ) -> Self {
        self.offset_param = offset_param.into();
        self.limit_param = limit_param.into();
        self.max_limit = max_limit.max(1);
        self
    }

    /// The API sorts by the parameter `param`, spelled as `style`: sorts
    /// are pushed down (to the [`sortable`](HttpMapping::sortable) columns).
    pub fn sort_param(mut self, param: impl Into<String>, style: SortStyle) -> Self {
        self.sort = Some((param.into(), style));
        self
    }

    /// Only these columns can be sorted by (default: any the caller asks).
    pub fn sortable<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.sortable = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// The API searches rows for the text in the parameter `param`: a
    /// search is pushed down. It should mean what Diorama's search means
    /// (case-insensitive substring of any scalar field).
    pub fn search_param(mut self, param: impl Into<String>) -> Self {
        self.search_param = Some(param.into());
        self
    }

    /// The rows are the array at this JSON pointer of a list response
    /// (default `""`: the body itself).
    pub fn rows_at(mut self, pointer: impl Into<String>) -> Self {
        self.rows_at = pointer.into();
        self
    }

    /// The query's total row count is the number at this JSON pointer of a
    /// list response (`null` or missing: unknown).
    pub fn total_at(mut self, pointer: impl Into<String>) -> Self {
        self.total_at = Some(pointer.into());
        self
    }

    /// The field of a row object holding its id (default `"id"`; a string,
    /// or an integer, which is written in decimal).
    pub fn id_field(mut self, field: impl Into<String>) -> Self {
        self.id_field = field.into();
        self
    }

    /// Fields of row objects that are the API's metadata, not the row's.
    pub fn ignore_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.ignored = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Rows are read by id at `GET path` (`{id}` in it), or, with `None`,
    /// cannot be read by id.
    pub fn get_path(mut self, path: Option<String>) -> Self {
        self.get_path = path;
        self
    }

    /// Inserts: the record (with the id field when an id is given) as the
    /// body of `route`; the new row's id is read from the response's id
    /// field, else it is the id given.
    pub fn insert(mut self, route: Route) -> Self {
        self.insert = Some(route);
        self
    }

    /// Replaces: the whole record as the body of `route`. With
    /// [`columns`](HttpMapping::columns) set, every column the record lacks
    /// is sent as `null`, so a `PATCH` route replaces the whole row too.
    pub fn replace(mut self, route: Route) -> Self {
        self.replace = Some(route);
        self
    }

    /// Patches: the changed fields as the body of `route`.
    pub fn patch(mut self, route: Route) -> Self {
        self.patch = Some(route);
        self
    }

    /// Deletes: `route` with no body; `404` counts as already deleted.
    pub fn delete(mut self, route: Route) -> Self {
        self.delete = Some(route);
        self
    }

    /// The table's field columns (not the id), for replaces (see
    /// [`replace`](HttpMapping::replace)).
    pub fn columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// A header sent with every request (an API key, an `Authorization`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether a sort by `column` is pushed down.
    pub(crate) fn can_sort_by(&self, column: &str) -> bool {
        self.sort.is_some()
            && self
                .sortable
                .as_ref()
                .is_none_or(|columns| columns.iter().any(|c| c == column))
    }

    /// Problems that would make every request fail, found before any is sent.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.base_url.starts_with("http://") && !self.base_url.starts_with("https://") {
            return Err(format!(
                "the base URL {:?} must start with http:// or https://",
                self.base_url
            ));
        }
        if self.base_url.starts_with("https://") {
            return Err(format!(
                "the base URL {:?} is https: this build speaks plain HTTP only \
                 (no TLS stack is compiled in)",
                self.base_url
            ));
        }
        let paths = [Some(&self.list_path), self.get_path.as_ref()]
            .into_iter()
            .flatten()
            .chain(
                [&self.insert, &self.replace, &self.patch, &self.delete]
                    .into_iter()
                    .flatten()
                    .map(|route| &route.path),
            );
        for path in paths {
            if !path.starts_with('/') {
                return Err(format!("the path {path:?} must start with /"));
            }
        }
        for pointer in [Some(&self.rows_at), self.total_at.as_ref()]
            .into_iter()
            .flatten()
        {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(format!(
                    "the JSON pointer {pointer:?} must be empty or start with /"
                ));
            }
        }
        Ok(())
    }
}

//! The reads of an [`HttpVista`]: windows, lists, counts and reads by id,
//! each answered whole or not at all.

use std::collections::BTreeSet;

use diorama_core::vista::{Clause, Id, Page, Query, SortDir, TableShell};
use diorama_core::{Error, Record, Result};
use serde_json::Value as Json;

use super::HttpVista;
use super::client::{Reply, Request, status_error};
use super::json::{kind, malformed, row_from_json};
use super::mapping::{HttpMethod, SortStyle};

/// The rows of one list response and the total it states.
type Chunk = (Vec<(Id, Record)>, Option<usize>);

impl HttpVista {
    /// Refuse a query with a clause this API does not apply, rather than
    /// answer as if it had.
    fn check_query(&self, op: &str, query: &Query) -> Result<()> {
        if let Some(condition) = query.conditions.first() {
            return Err(Error::unsupported(format!(
                "{op} of \"{}\": conditions are not sent to the API (condition {condition})",
                self.mapping.name
            )));
        }
        if let Some(sort) = &query.sort
            && !self.accepts(Clause::Sort(sort))
        {
            return Err(Error::unsupported(format!(
                "{op} of \"{}\": the API does not sort by {sort}",
                self.mapping.name
            )));
        }
        if query.search.is_some() && self.mapping.search_param.is_none() {
            return Err(Error::unsupported(format!(
                "{op} of \"{}\": the API has no search parameter",
                self.mapping.name
            )));
        }
        Ok(())
    }

    /// The list request for rows `offset..offset + limit` of `query`.
    fn list_request(&self, query: &Query, offset: usize, limit: usize) -> Request {
        let m = &self.mapping;
        let mut params = vec![
            (m.offset_param.clone(), offset.to_string()),
            (m.limit_param.clone(), limit.to_string()),
        ];
        if let (Some(sort), Some((param, style))) = (&query.sort, &m.sort) {
            let desc = sort.dir == SortDir::Desc;
            let word = if desc { "desc" } else { "asc" };
            match style {
                SortStyle::MinusPrefix => {
                    let sign = if desc { "-" } else { "" };
                    params.push((param.clone(), format!("{sign}{}", sort.field)));
                }
                SortStyle::ColonSuffix => {
                    params.push((param.clone(), format!("{}:{word}", sort.field)));
                }
                SortStyle::OrderParam(order) => {
                    params.push((param.clone(), sort.field.clone()));
                    params.push((order.clone(), word.to_string()));
                }
            }
        }
        if let (Some(search), Some(param)) = (&query.search, &m.search_param) {
            params.push((param.clone(), search.clone()));
        }
        Request {
            method: HttpMethod::Get,
            url: self.url(&m.list_path, None),
            query: params,
            body: None,
        }
    }

    /// One list request: its rows (at most `limit`) and the stated total.
    async fn window_once(&self, query: &Query, offset: usize, limit: usize) -> Result<Chunk> {
        let request = self.list_request(query, offset, limit);
        let what = format!("GET {}", request.url);
        let reply = self.client.send(request).await?;
        let (rows, total) = self
            .parse_list(reply, &what)
            .map_err(|e| e.context(&what))?;
        if rows.len() > limit {
            return Err(malformed(format!(
                "{} rows for a limit of {limit}: the API does not page as the mapping says",
                rows.len()
            ))
            .context(&what));
        }
        Ok((rows, total))
    }

    fn parse_list(&self, reply: Reply, what: &str) -> Result<Chunk> {
        if !(200..300).contains(&reply.status) {
            return Err(status_error(what, reply.status, &reply.body));
        }
        let m = &self.mapping;
        let mut body: Json = serde_json::from_slice(&reply.body)
            .map_err(|e| malformed(format!("not JSON ({e})")))?;
        let total = match &m.total_at {
            None => None,
            Some(pointer) => match body.pointer(pointer) {
                None | Some(Json::Null) => None,
                Some(Json::Number(n)) if n.as_u64().is_some() => {
                    n.as_u64().and_then(|n| usize::try_from(n).ok())
                }
                Some(other) => {
                    return Err(malformed(format!(
                        "the total at {pointer:?} is {}, not a count",
                        kind(other)
                    )));
                }
            },
        };
        let rows = match body.pointer_mut(&m.rows_at).map(Json::take) {
            Some(Json::Array(rows)) => rows,
            Some(other) => {
                return Err(malformed(format!(
                    "the rows at {:?} are {}, not an array",
                    m.rows_at,
                    kind(&other)
                )));
            }
            None => return Err(malformed(format!("no rows at {:?}", m.rows_at))),
        };
        let rows = rows
            .into_iter()
            .map(|row| row_from_json(row, &m.id_field, &m.ignored))
            .collect::<Result<Vec<_>>>()?;
        Ok((rows, total))
    }

    pub(super) async fn read_window(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> Result<Page> {
        self.check_query("fetch_window", query)?;
        if limit == 0 {
            // APIs refuse a zero limit; one row says the total.
            let (_, total) = self.window_once(query, offset, 1).await?;
            return Ok(Page {
                rows: Vec::new(),
                total,
            });
        }
        let mut rows: Vec<(Id, Record)> = Vec::new();
        let mut total = None;
        let mut requests = 0;
        while rows.len() < limit {
            let ask = (limit - rows.len()).min(self.mapping.max_limit);
            let (chunk, stated) = self
                .window_once(query, offset.saturating_add(rows.len()), ask)
                .await?;
            if requests == 0 {
                total = stated;
            }
            requests += 1;
            let short = chunk.len() < ask;
            rows.extend(chunk);
            if short {
                break;
            }
        }
        if requests > 1 {
            distinct(&rows, &self.mapping.name, "fetch_window")?;
        }
        Ok(Page { rows, total })
    }

    pub(super) async fn read_list(&self, query: &Query) -> Result<Vec<(Id, Record)>> {
        self.check_query("list", query)?;
        let page = self.mapping.max_limit;
        let mut rows: Vec<(Id, Record)> = Vec::new();
        let mut seen: BTreeSet<Id> = BTreeSet::new();
        loop {
            let (chunk, total) = self.window_once(query, rows.len(), page).await?;
            let short = chunk.len() < page;
            for (id, record) in chunk {
                // Checked per request: an API ignoring the offset would
                // otherwise be listed forever.
                if !seen.insert(id.clone()) {
                    return Err(twice(&self.mapping.name, "list", &id));
                }
                rows.push((id, record));
            }
            if short || total.is_some_and(|total| rows.len() >= total) {
                break;
            }
        }
        Ok(rows)
    }

    pub(super) async fn read_count(&self, query: &Query) -> Result<usize> {
        // A sort changes no count, and need not be one the API offers.
        let query = Query {
            sort: None,
            ..query.clone()
        };
        self.check_query("count", &query)?;
        match self.window_once(&query, 0, 1).await? {
            (_, Some(total)) => Ok(total),
            // No total stated: counted over the complete list.
            (_, None) => Ok(self.read_list(&query).await?.len()),
        }
    }

    pub(super) async fn read_one(&self, id: &str) -> Result<Option<Record>> {
        let m = &self.mapping;
        let Some(path) = &m.get_path else {
            return Err(Error::unsupported(format!(
                "get of \"{}\": the mapping has no get path",
                m.name
            )));
        };
        let url = self.url(path, Some(id));
        let what = format!("GET {url}");
        let reply = self
            .client
            .send(Request {
                method: HttpMethod::Get,
                url,
                query: Vec::new(),
                body: None,
            })
            .await?;
        match reply.status {
            200..=299 => {}
            404 => return Ok(None),
            status => return Err(status_error(&what, status, &reply.body)),
        }
        let mut row: Json = serde_json::from_slice(&reply.body)
            .map_err(|e| malformed(format!("not JSON ({e})")).context(&what))?;
        // A row read by id may leave its id out.
        if let Json::Object(object) = &mut row {
            object
                .entry(m.id_field.clone())
                .or_insert_with(|| Json::String(id.to_string()));
        }
        let (_, record) =
            row_from_json(row, &m.id_field, &m.ignored).map_err(|e| e.context(&what))?;
        Ok(Some(record))
    }
}

/// A listing read in several requests holds each id once, else the table
/// changed between them (or the API ignores the offset) and the answer
/// would show a row twice and miss another.
fn distinct(rows: &[(Id, Record)], name: &str, op: &str) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (id, _) in rows {
        if !seen.insert(id.as_str()) {
            return Err(twice(name, op, id));
        }
    }
    Ok(())
}

fn twice(name: &str, op: &str, id: &str) -> Error {
    Error::failed(format!(
        "{op} of \"{name}\": the row \"{id}\" came twice across requests (the table \
         changed while being read, or the API ignores the offset); try again"
    ))
}

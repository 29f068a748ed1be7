//! The reads of a composition: thin async drivers around [`place`](super::place).

use alloc::format;
use alloc::vec::Vec;

use futures_util::{StreamExt, TryStreamExt, stream};

use super::Composed;
use super::place::{self, Inconsistent, Sides};
use super::top::Top;
use crate::error::{Error, Result};
use crate::value::Record;
use crate::vista::eval::{Filter, apply_query, sort_rows};
use crate::vista::{Clause, Id, Page, Query, TableShell};

/// Reads a window tries before reporting that its parts keep changing.
const WINDOW_ATTEMPTS: usize = 2;

impl Composed {
    /// The top part, listed whole.
    async fn read_top(&self) -> Result<Top> {
        let rows = self
            .top
            .list(&Query::new())
            .await
            .map_err(|e| self.top_error(e))?;
        Ok(Top::new(rows, self.layering))
    }

    /// The bottom rows of the claimed ids that match `query`, sorted by its
    /// sort: one read by id per claimed id, `lookups` at a time.
    async fn hidden(&self, top: &Top, query: &Query) -> Result<Vec<(Id, Record)>> {
        // Owned ids and an owned shell per lookup: futures that borrow from
        // the stream's items trip the compiler's `Send` check of the
        // boxed future (higher-ranked lifetimes).
        let ids: Vec<Id> = top.claimed_ids().cloned().collect();
        let found: Vec<(Id, Option<Record>)> = stream::iter(ids)
            .map(|id| {
                let bottom = self.bottom.clone();
                async move { bottom.get(&id).await.map(|row| (id, row)) }
            })
            .buffered(self.lookups)
            .try_collect()
            .await
            .map_err(|e| self.bottom_error(e))?;
        let mut filter = Filter::new(query);
        let mut hidden: Vec<(Id, Record)> = found
            .into_iter()
            .filter_map(|(id, row)| row.map(|record| (id, record)))
            .filter(|(_, record)| filter.matches(record))
            .collect();
        if let Some(sort) = &query.sort {
            sort_rows(&mut hidden, sort);
        }
        Ok(hidden)
    }

    /// `query` split into what the bottom part accepts and the rest.
    fn split(&self, query: &Query) -> (Query, Query) {
        split_query(self.bottom.as_ref(), query)
    }

    pub(super) async fn read_list(&self, query: &Query) -> Result<Vec<(Id, Record)>> {
        let (pushed, residual) = self.split(query);
        let top = self.read_top().await?;
        let mut bottom = self
            .bottom
            .list(&pushed)
            .await
            .map_err(|e| self.bottom_error(e))?;
        if residual.filters() {
            // The bottom's own order stays; the composition sorts below.
            let filters = Query {
                sort: None,
                ..residual
            };
            bottom = apply_query(bottom, &filters);
        }
        let shown = top.matching(query);
        let sides = Sides {
            query,
            top: &top,
            shown: &shown,
            // A complete listing sees every claimed bottom row itself.
            hidden: &[],
        };
        Ok(place::combine_list(sides, bottom))
    }

    pub(super) async fn read_count(&self, query: &Query) -> Result<usize> {
        if !self.bottom.capabilities().can_count {
            return Err(Error::unsupported(format!(
                "count of \"{}\": its bottom part \"{}\" does not count (can_count is off)",
                self.name,
                self.bottom.name()
            )));
        }
        let (pushed, residual) = self.split(query);
        if residual.filters() {
            return Err(self.refused("count", &residual));
        }
        let count_query = Query {
            sort: None,
            ..pushed
        };
        let top = self.read_top().await?;
        let hidden = self.hidden(&top, query).await?;
        let bottom = self
            .bottom
            .count(&count_query)
            .await
            .map_err(|e| self.bottom_error(e))?;
        let shown = top.matching(query);
        let sides = Sides {
            query,
            top: &top,
            shown: &shown,
            hidden: &hidden,
        };
        place::combine_count(sides, bottom).map_err(|Inconsistent| self.inconsistent("count"))
    }

    pub(super) async fn read_window(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> Result<Page> {
        if !self.bottom.capabilities().can_fetch_page {
            return Err(Error::unsupported(format!(
                "fetch_window of \"{}\": its bottom part \"{}\" has no random access \
                 (can_fetch_page is off)",
                self.name,
                self.bottom.name()
            )));
        }
        let (_, residual) = self.split(query);
        if !residual.is_empty() {
            return Err(self.refused("fetch_window", &residual));
        }
        for _ in 0..WINDOW_ATTEMPTS {
            let top = self.read_top().await?;
            let hidden = self.hidden(&top, query).await?;
            let shown = top.matching(query);
            let sides = Sides {
                query,
                top: &top,
                shown: &shown,
                hidden: &hidden,
            };
            let (start, asked) = place::bottom_range(sides, offset, limit);
            let page = self
                .bottom
                .fetch_window(query, start, asked)
                .await
                .map_err(|e| self.bottom_error(e))?;
            if let Ok(page) = place::place_window(sides, offset, limit, (start, asked), page) {
                return Ok(page);
            }
        }
        Err(self.inconsistent("fetch_window"))
    }

    pub(super) async fn read_one(&self, id: &str) -> Result<Option<Record>> {
        let top = self.top.get(id).await.map_err(|e| self.top_error(e))?;
        match top {
            Some(record) if self.hides_as_tombstone(&record) => Ok(None),
            Some(record) => Ok(Some(record)),
            None => self.bottom.get(id).await.map_err(|e| self.bottom_error(e)),
        }
    }

    fn refused(&self, op: &str, residual: &Query) -> Error {
        let mut clauses = Vec::new();
        for condition in &residual.conditions {
            clauses.push(format!("condition {condition}"));
        }
        if let Some(sort) = &residual.sort {
            clauses.push(format!("sort {sort}"));
        }
        if let Some(search) = &residual.search {
            clauses.push(format!("search \"{search}\""));
        }
        Error::unsupported(format!(
            "{op} of \"{}\": its bottom part \"{}\" does not apply {}, and the composition \
             cannot apply it to a window or count of the combined rows without reading \
             the bottom whole; use list()",
            self.name,
            self.bottom.name(),
            clauses.join(", ")
        ))
    }

    fn inconsistent(&self, op: &str) -> Error {
        Error::failed(format!(
            "{op} of \"{}\": the reads of its parts did not fit together (they changed while \
             being read, or \"{}\" orders or filters rows unlike diorama's local evaluation); \
             try again",
            self.name,
            self.bottom.name()
        ))
    }

    /// `error` of the top part, saying which part of which composition.
    pub(super) fn top_error(&self, error: Error) -> Error {
        let (top, _) = self.layering.roles();
        error.context(&format!(
            "{top} \"{}\" of \"{}\"",
            self.top.name(),
            self.name
        ))
    }

    /// `error` of the bottom part, saying which part of which composition.
    pub(super) fn bottom_error(&self, error: Error) -> Error {
        let (_, bottom) = self.layering.roles();
        error.context(&format!(
            "{bottom} \"{}\" of \"{}\"",
            self.bottom.name(),
            self.name
        ))
    }
}

/// `query` split into the clauses `shell` accepts and the rest.
pub(super) fn split_query(shell: &dyn TableShell, query: &Query) -> (Query, Query) {
    let mut pushed = Query::new();
    let mut residual = Query::new();
    for condition in &query.conditions {
        if shell.accepts(Clause::Condition(condition)) {
            pushed.conditions.push(condition.clone());
        } else {
            residual.conditions.push(condition.clone());
        }
    }
    if let Some(sort) = &query.sort {
        if shell.accepts(Clause::Sort(sort)) {
            pushed.sort = Some(sort.clone());
        } else {
            residual.sort = Some(sort.clone());
        }
    }
    if let Some(search) = &query.search {
        if shell.accepts(Clause::Search(search)) {
            pushed.search = Some(search.clone());
        } else {
            residual.search = Some(search.clone());
        }
    }
    (pushed, residual)
}

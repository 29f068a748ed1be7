//! `MemoryVista` as a `TableShell`: every operation through the call path.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use super::MemoryVista;
use super::op::VistaOp;
use crate::error::{Error, Result};
use crate::runtime::BoxFuture;
use crate::value::Record;
use crate::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};

impl TableShell for MemoryVista {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn capabilities(&self) -> VistaCapabilities {
        self.inner.state.lock().capabilities
    }

    fn accepts(&self, clause: Clause<'_>) -> bool {
        let state = self.inner.state.lock();
        match clause {
            Clause::Condition(_) => state.accepts_conditions,
            Clause::Sort(_) => state.capabilities.can_order,
            Clause::Search(_) => state.capabilities.can_search,
        }
    }

    fn list<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        Box::pin(self.read(VistaOp::List, query, None, |state| {
            Ok(state.rows.select(query).into_iter().cloned().collect())
        }))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        Box::pin(self.call(VistaOp::Get, None, |state| Ok(state.rows.get(id).cloned())))
    }

    fn count<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        Box::pin(self.read(VistaOp::Count, query, None, |state| {
            Ok(state.rows.count(query))
        }))
    }

    fn fetch_window<'a>(
        &'a self,
        query: &'a Query,
        offset: usize,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        Box::pin(self.read(
            VistaOp::FetchWindow,
            query,
            Some((offset, limit)),
            move |state| {
                let cursor = state.check_window(query, offset)?;
                let (rows, total) = state.rows.window(query, offset, limit);
                if let Some(key) = cursor {
                    state.cursors.insert(key, offset + rows.len());
                }
                let total = state.capabilities.can_count.then_some(total);
                Ok(Page { rows, total })
            },
        ))
    }

    fn insert<'a>(&'a self, id: Option<Id>, record: Record) -> BoxFuture<'a, Result<Id>> {
        Box::pin(self.call(VistaOp::Insert, None, move |state| {
            let id = match id {
                Some(id) if state.rows.contains(&id) => {
                    return Err(Error::failed(format!(
                        "insert: a row with id \"{id}\" already exists"
                    )));
                }
                Some(id) => id,
                None => state.fresh_id(),
            };
            state.rows.put(id.clone(), record);
            Ok(id)
        }))
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.call(VistaOp::Replace, None, move |state| {
            match state.rows.get_mut(id) {
                Some(row) => *row = record,
                None => return Err(not_found("replace", id)),
            }
            Ok(())
        }))
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.call(VistaOp::Patch, None, move |state| {
            match state.rows.get_mut(id) {
                Some(row) => row.merge(&fields),
                None => return Err(not_found("patch", id)),
            }
            Ok(())
        }))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.call(VistaOp::Delete, None, move |state| {
            state.rows.remove(id);
            Ok(())
        }))
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.call(VistaOp::DeleteAll, None, |state| {
            state.rows.clear();
            state.cursors.clear();
            Ok(())
        }))
    }
}

fn not_found(op: &str, id: &str) -> Error {
    Error::not_found(format!("{op}: no row with id \"{id}\""))
}

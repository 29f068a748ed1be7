//! `MemoryVista` as a `TableShell`: every operation through the call path.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use super::MemoryVista;
use super::op::VistaOp;
use super::state::State;
use crate::error::{Error, Result};
use crate::runtime::BoxFuture;
use crate::value::Record;
use crate::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities, WriteKey, WriteOp};

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
            insert(state, id, record)
        }))
    }

    fn replace<'a>(&'a self, id: &'a str, record: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.call(VistaOp::Replace, None, move |state| {
            replace(state, id, record)
        }))
    }

    fn patch<'a>(&'a self, id: &'a str, fields: Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.call(VistaOp::Patch, None, move |state| patch(state, id, &fields)))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.call(VistaOp::Delete, None, move |state| {
            state.rows.remove(id);
            Ok(())
        }))
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.call(VistaOp::DeleteAll, None, |state| {
            delete_all(state);
            Ok(())
        }))
    }

    /// Applies each key once: the key is recorded in the same atomic step
    /// as the write, and a key seen before answers with its first answer
    /// (the call is still counted, and faults and capabilities still apply).
    fn apply_write<'a>(
        &'a self,
        key: &'a WriteKey,
        op: WriteOp,
    ) -> BoxFuture<'a, Result<Option<Id>>> {
        let vista_op = match &op {
            WriteOp::Insert { .. } => VistaOp::Insert,
            WriteOp::Replace { .. } => VistaOp::Replace,
            WriteOp::Patch { .. } => VistaOp::Patch,
            WriteOp::Delete { .. } => VistaOp::Delete,
            WriteOp::DeleteAll => VistaOp::DeleteAll,
        };
        Box::pin(self.call(vista_op, None, move |state| {
            let key = key.to_string();
            if let Some(first) = state.applied.get(&key) {
                return Ok(first.clone());
            }
            let written = match op {
                WriteOp::Insert { id, record } => Some(insert(state, id, record)?),
                WriteOp::Replace { id, record } => {
                    replace(state, &id, record)?;
                    Some(id)
                }
                WriteOp::Patch { id, fields } => {
                    patch(state, &id, &fields)?;
                    Some(id)
                }
                WriteOp::Delete { id } => {
                    state.rows.remove(&id);
                    Some(id)
                }
                WriteOp::DeleteAll => {
                    delete_all(state);
                    None
                }
            };
            state.applied.insert(key, written.clone());
            Ok(written)
        }))
    }
}

fn insert(state: &mut State, id: Option<Id>, record: Record) -> Result<Id> {
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
}

fn replace(state: &mut State, id: &str, record: Record) -> Result<()> {
    match state.rows.get_mut(id) {
        Some(row) => *row = record,
        None => return Err(not_found("replace", id)),
    }
    Ok(())
}

fn patch(state: &mut State, id: &str, fields: &Record) -> Result<()> {
    match state.rows.get_mut(id) {
        Some(row) => row.merge(fields),
        None => return Err(not_found("patch", id)),
    }
    Ok(())
}

fn delete_all(state: &mut State) {
    state.rows.clear();
    state.cursors.clear();
}

fn not_found(op: &str, id: &str) -> Error {
    Error::not_found(format!("{op}: no row with id \"{id}\""))
}

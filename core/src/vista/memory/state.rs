//! The lock-protected state of a `MemoryVista` and the checks every call
//! passes before it answers.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::op::{OPS, VistaOp};
use super::rows::Rows;
use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::vista::{Id, Query, VistaCapabilities};

/// Everything a call reads or changes, behind one lock so an answer is atomic.
pub(super) struct State {
    pub(super) rows: Rows,
    pub(super) capabilities: VistaCapabilities,
    pub(super) accepts_conditions: bool,
    pub(super) calls: [usize; OPS],
    pub(super) fail_next: [usize; OPS],
    pub(super) fail_all: [bool; OPS],
    pub(super) windows: Vec<(Query, usize, usize)>,
    pub(super) latency: Option<(Duration, Arc<dyn Runtime>)>,
    /// Next offset per query key, for cursor-only reading.
    pub(super) cursors: BTreeMap<String, usize>,
    pub(super) next_id: u64,
    /// The idempotency keys applied through `apply_write`, with the row
    /// each wrote.
    pub(super) applied: BTreeMap<String, Option<Id>>,
}

impl State {
    pub(super) fn check_offered(&self, op: VistaOp) -> Result<()> {
        let caps = self.capabilities;
        let (offered, flag) = match op {
            VistaOp::List | VistaOp::Get | VistaOp::FetchWindow => (true, ""),
            VistaOp::Count => (caps.can_count, "can_count"),
            VistaOp::Insert => (caps.can_insert, "can_insert"),
            VistaOp::Replace | VistaOp::Patch => (caps.can_update, "can_update"),
            VistaOp::Delete | VistaOp::DeleteAll => (caps.can_delete, "can_delete"),
        };
        if offered {
            Ok(())
        } else {
            Err(Error::unsupported(format!(
                "{op} is not offered ({flag} is off)"
            )))
        }
    }

    pub(super) fn check_query(&self, op: VistaOp, query: &Query) -> Result<()> {
        if let Some(condition) = query.conditions.first()
            && !self.accepts_conditions
        {
            return Err(Error::unsupported(format!(
                "{op}: conditions are not applied by this table (condition {condition})"
            )));
        }
        if let Some(sort) = &query.sort
            && !self.capabilities.can_order
        {
            return Err(Error::unsupported(format!(
                "{op}: sorting is not offered (can_order is off; sort {sort})"
            )));
        }
        if query.search.is_some() && !self.capabilities.can_search {
            return Err(Error::unsupported(format!(
                "{op}: search is not offered (can_search is off)"
            )));
        }
        Ok(())
    }

    pub(super) fn take_fault(&mut self, op: VistaOp, name: &str) -> Result<()> {
        let slot = op.slot();
        if self.fail_all[slot] {
            return Err(Error::failed(format!(
                "injected failure of {op} on \"{name}\""
            )));
        }
        if self.fail_next[slot] > 0 {
            self.fail_next[slot] -= 1;
            return Err(Error::failed(format!(
                "injected failure of {op} on \"{name}\""
            )));
        }
        Ok(())
    }

    /// Check that a window at `offset` of `query` may be read now, and the
    /// cursor key to advance when it is cursor-only.
    pub(super) fn check_window(&self, query: &Query, offset: usize) -> Result<Option<String>> {
        let caps = self.capabilities;
        if caps.can_fetch_page {
            return Ok(None);
        }
        if !caps.can_fetch_next {
            return Err(Error::unsupported(
                "fetch_window is not offered (can_fetch_page and can_fetch_next are off)",
            ));
        }
        let key = query.key();
        let next = self.cursors.get(&key).copied().unwrap_or(0);
        if offset != 0 && offset != next {
            return Err(Error::unsupported(format!(
                "fetch_window at offset {offset}: this table reads forward only \
                 (can_fetch_page is off); the next window starts at {next} (or 0 to restart)"
            )));
        }
        Ok(Some(key))
    }

    pub(super) fn fresh_id(&mut self) -> Id {
        loop {
            let id = format!("r{}", self.next_id);
            self.next_id += 1;
            if !self.rows.contains(&id) {
                return id;
            }
        }
    }
}

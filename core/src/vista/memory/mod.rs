//! `MemoryVista`: a complete in-memory master with call counters, capability
//! switches, fault injection, latency and a hold gate, for tests, examples
//! and simulation.

mod gate;
mod rows;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use spin::Mutex;

use self::gate::Gate;
use self::rows::Rows;
use super::{Clause, Id, Page, Query, TableShell, VistaCapabilities};
use crate::error::{Error, Result};
use crate::runtime::{BoxFuture, Runtime};
use crate::value::Record;

/// The operations of a shell, as counted by [`MemoryVista`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VistaOp {
    /// `list`
    List,
    /// `get`
    Get,
    /// `count`
    Count,
    /// `fetch_window`
    FetchWindow,
    /// `insert`
    Insert,
    /// `replace`
    Replace,
    /// `patch`
    Patch,
    /// `delete`
    Delete,
    /// `delete_all`
    DeleteAll,
}

impl VistaOp {
    /// Every operation, in declaration order.
    pub const ALL: [VistaOp; 9] = [
        VistaOp::List,
        VistaOp::Get,
        VistaOp::Count,
        VistaOp::FetchWindow,
        VistaOp::Insert,
        VistaOp::Replace,
        VistaOp::Patch,
        VistaOp::Delete,
        VistaOp::DeleteAll,
    ];

    /// The method name (`"fetch_window"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            VistaOp::List => "list",
            VistaOp::Get => "get",
            VistaOp::Count => "count",
            VistaOp::FetchWindow => "fetch_window",
            VistaOp::Insert => "insert",
            VistaOp::Replace => "replace",
            VistaOp::Patch => "patch",
            VistaOp::Delete => "delete",
            VistaOp::DeleteAll => "delete_all",
        }
    }

    const fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for VistaOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const OPS: usize = VistaOp::ALL.len();

/// A complete in-memory master for tests, examples and simulation.
///
/// Cheap to clone: clones share one table, so a test keeps a handle for
/// assertions while a [`Vista`](super::Vista) owns another.
///
/// # Rows and order
///
/// Rows are kept in insertion order; [`put_row`](MemoryVista::put_row) and
/// `replace` keep a row's position. Reads apply the query with the shared
/// [`eval`](super::eval) helpers: conditions and search filter, the sort
/// orders (ties by id); without a sort, insertion order.
///
/// # Writes
///
/// `insert(None, ..)` picks the first free id of `r1`, `r2`, … (a counter,
/// deterministic). `insert` of an existing id fails with `Failed` ("already
/// exists") and changes nothing; `replace` / `patch` of a missing id return
/// `NotFound`; `delete` of a missing id is `Ok`.
///
/// # Capabilities
///
/// By default every capability is on except `can_subscribe` (this table
/// pushes no events), and conditions are accepted. Switch them with
/// [`with_capabilities`](MemoryVista::with_capabilities) /
/// [`set_capabilities`](MemoryVista::set_capabilities) and
/// [`set_accepts_conditions`](MemoryVista::set_accepts_conditions) to act
/// like a read-only CSV, an unordered or a cursor-only source. An operation
/// whose flag is off returns `Unsupported`:
///
/// - `count` needs `can_count`; `insert` needs `can_insert`; `replace` and
///   `patch` need `can_update`; `delete` and `delete_all` need `can_delete`;
///   `list` and `get` are always offered.
/// - `fetch_window` needs `can_fetch_page` for random access. With only
///   `can_fetch_next` it reads forward: per query, the offset must be 0 or
///   the end of the previous window of that query. With neither it is
///   refused. `Page::total` is given only when `can_count` is on.
/// - A read whose query carries a clause [`accepts`](TableShell::accepts)
///   refuses (a sort without `can_order`, a search without `can_search`, a
///   condition while conditions are switched off) returns `Unsupported`
///   rather than silently ignoring it.
///
/// # Instrumentation
///
/// Every call is counted per [`VistaOp`] when it starts, and every
/// `fetch_window` request is logged ([`windows`](MemoryVista::windows)).
/// Faults ([`fail_next`](MemoryVista::fail_next),
/// [`fail_all`](MemoryVista::fail_all)) make calls fail with `Failed` and
/// change nothing. A call first waits at the [`hold`](MemoryVista::hold)
/// gate, then sleeps the [latency](MemoryVista::set_latency) on its
/// runtime's clock, then answers: capability checks, then faults, then the
/// operation, atomically. The direct accessors (`rows`, `put_row`, …) are not
/// counted and ignore gate, latency and faults.
#[derive(Clone)]
pub struct MemoryVista {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    gate: Gate,
    in_flight: AtomicUsize,
    state: Mutex<State>,
}

struct State {
    rows: Rows,
    capabilities: VistaCapabilities,
    accepts_conditions: bool,
    calls: [usize; OPS],
    fail_next: [usize; OPS],
    fail_all: [bool; OPS],
    windows: Vec<(Query, usize, usize)>,
    latency: Option<(Duration, Arc<dyn Runtime>)>,
    /// Next offset per query key, for cursor-only reading.
    cursors: BTreeMap<String, usize>,
    next_id: u64,
}

impl MemoryVista {
    /// An empty table called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        MemoryVista {
            inner: Arc::new(Inner {
                name: name.into(),
                gate: Gate::default(),
                in_flight: AtomicUsize::new(0),
                state: Mutex::new(State {
                    rows: Rows::default(),
                    capabilities: VistaCapabilities {
                        can_subscribe: false,
                        ..VistaCapabilities::ALL
                    },
                    accepts_conditions: true,
                    calls: [0; OPS],
                    fail_next: [0; OPS],
                    fail_all: [false; OPS],
                    windows: Vec::new(),
                    latency: None,
                    cursors: BTreeMap::new(),
                    next_id: 1,
                }),
            }),
        }
    }

    /// A table called `name` with rows `f(0)`, …, `f(n - 1)` (a later row
    /// with an id already present replaces it in place).
    pub fn generate(
        name: impl Into<String>,
        n: usize,
        f: impl FnMut(usize) -> (Id, Record),
    ) -> Self {
        Self::new(name).with_rows((0..n).map(f))
    }

    /// This table with `rows` added in order (a row whose id is present
    /// replaces it in place).
    pub fn with_rows<I: Into<Id>>(self, rows: impl IntoIterator<Item = (I, Record)>) -> Self {
        {
            let mut state = self.inner.state.lock();
            for (id, record) in rows {
                state.rows.put(id.into(), record);
            }
        }
        self
    }

    /// This table with `capabilities`.
    pub fn with_capabilities(self, capabilities: VistaCapabilities) -> Self {
        self.set_capabilities(capabilities);
        self
    }

    /// Switch the capabilities (takes effect for calls answered from now on).
    pub fn set_capabilities(&self, capabilities: VistaCapabilities) {
        self.inner.state.lock().capabilities = capabilities;
    }

    /// This table accepting (or refusing) conditions.
    pub fn with_accepts_conditions(self, accepts: bool) -> Self {
        self.set_accepts_conditions(accepts);
        self
    }

    /// Whether the table applies conditions itself (default `true`); when
    /// off, [`accepts`](TableShell::accepts) refuses them and a read whose
    /// query has a condition returns `Unsupported`.
    pub fn set_accepts_conditions(&self, accepts: bool) {
        self.inner.state.lock().accepts_conditions = accepts;
    }

    // --- instrumentation -------------------------------------------------

    /// Calls of `op` started since creation or the last
    /// [`reset_calls`](MemoryVista::reset_calls), including calls that failed
    /// or are still waiting.
    pub fn calls(&self, op: VistaOp) -> usize {
        self.inner.state.lock().calls[op.slot()]
    }

    /// Calls of every operation together.
    pub fn total_calls(&self) -> usize {
        self.inner.state.lock().calls.iter().sum()
    }

    /// Zero every call counter and clear the window log.
    pub fn reset_calls(&self) {
        let mut state = self.inner.state.lock();
        state.calls = [0; OPS];
        state.windows.clear();
    }

    /// Every `fetch_window` request as `(query, offset, limit)`, in call order.
    pub fn windows(&self) -> Vec<(Query, usize, usize)> {
        self.inner.state.lock().windows.clone()
    }

    /// Calls started and not yet answered (waiting at the gate, sleeping the
    /// latency); a dropped call stops counting.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// The next `n` calls of `op` fail with `Failed` and change nothing
    /// (adds to any failures already pending). Calls refused as
    /// `Unsupported` do not use one up.
    pub fn fail_next(&self, op: VistaOp, n: usize) {
        let mut state = self.inner.state.lock();
        state.fail_next[op.slot()] = state.fail_next[op.slot()].saturating_add(n);
    }

    /// While `on`, every call of `op` fails with `Failed` and changes nothing.
    pub fn fail_all(&self, op: VistaOp, on: bool) {
        self.inner.state.lock().fail_all[op.slot()] = on;
    }

    /// Cancel every pending and permanent failure.
    pub fn clear_faults(&self) {
        let mut state = self.inner.state.lock();
        state.fail_next = [0; OPS];
        state.fail_all = [false; OPS];
    }

    /// Every call sleeps `latency` on `runtime`'s clock before answering
    /// (virtual time under the simulator).
    pub fn set_latency(&self, latency: Duration, runtime: Arc<dyn Runtime>) {
        self.inner.state.lock().latency = Some((latency, runtime));
    }

    /// Calls answer without sleeping again.
    pub fn clear_latency(&self) {
        self.inner.state.lock().latency = None;
    }

    /// Close the gate: every call from now on (and every call already
    /// waiting) waits until [`release`](MemoryVista::release). Calls past the
    /// gate are not affected.
    pub fn hold(&self) {
        self.inner.gate.hold();
    }

    /// Open the gate and wake every waiting call.
    pub fn release(&self) {
        self.inner.gate.release();
    }

    /// True while the gate is held.
    pub fn is_held(&self) -> bool {
        self.inner.gate.is_held()
    }

    // --- direct access (not counted, no gate, latency or faults) ---------

    /// A snapshot of every row, in insertion order.
    pub fn rows(&self) -> Vec<(Id, Record)> {
        self.inner.state.lock().rows.all().to_vec()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.inner.state.lock().rows.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row `id`, if present.
    pub fn get_row(&self, id: &str) -> Option<Record> {
        self.inner.state.lock().rows.get(id).cloned()
    }

    /// Set row `id` behind any cache's back (in place if present, else
    /// appended); returns the previous record.
    pub fn put_row(&self, id: impl Into<Id>, record: Record) -> Option<Record> {
        self.inner.state.lock().rows.put(id.into(), record)
    }

    /// Remove row `id` behind any cache's back; returns its record.
    pub fn remove_row(&self, id: &str) -> Option<Record> {
        self.inner.state.lock().rows.remove(id)
    }

    // --- the call path ---------------------------------------------------

    /// Count (and log `window`) when first polled, wait at the gate, sleep
    /// the latency, then answer with `answer` under the lock unless the
    /// operation is not offered or a fault is due.
    async fn call<T>(
        &self,
        op: VistaOp,
        window: Option<(&Query, usize, usize)>,
        answer: impl FnOnce(&mut State) -> Result<T>,
    ) -> Result<T> {
        let _in_flight = InFlight::enter(&self.inner.in_flight);
        let latency = {
            let mut state = self.inner.state.lock();
            state.calls[op.slot()] += 1;
            if let Some((query, offset, limit)) = window {
                state.windows.push((query.clone(), offset, limit));
            }
            state.latency.clone()
        };
        self.inner.gate.pass().await;
        if let Some((latency, runtime)) = latency {
            runtime.sleep(latency).await;
        }
        let mut state = self.inner.state.lock();
        state.check_offered(op)?;
        state.take_fault(op, &self.inner.name)?;
        answer(&mut state)
    }

    /// [`call`](MemoryVista::call) for a read of `query`: also refuses
    /// clauses the table does not accept.
    async fn read<T>(
        &self,
        op: VistaOp,
        query: &Query,
        window: Option<(usize, usize)>,
        answer: impl FnOnce(&mut State) -> Result<T>,
    ) -> Result<T> {
        let window = window.map(|(offset, limit)| (query, offset, limit));
        self.call(op, window, |state| {
            state.check_query(op, query)?;
            answer(state)
        })
        .await
    }
}

/// Counts a call as in flight until it answers or is dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        InFlight(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl State {
    fn check_offered(&self, op: VistaOp) -> Result<()> {
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

    fn check_query(&self, op: VistaOp, query: &Query) -> Result<()> {
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

    fn take_fault(&mut self, op: VistaOp, name: &str) -> Result<()> {
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
    fn check_window(&self, query: &Query, offset: usize) -> Result<Option<String>> {
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

    fn fresh_id(&mut self) -> Id {
        loop {
            let id = format!("r{}", self.next_id);
            self.next_id += 1;
            if !self.rows.contains(&id) {
                return id;
            }
        }
    }
}

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

impl fmt::Debug for MemoryVista {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("MemoryVista")
            .field("name", &self.inner.name)
            .field("rows", &state.rows.len())
            .field("capabilities", &state.capabilities)
            .field("accepts_conditions", &state.accepts_conditions)
            .field("held", &self.inner.gate.is_held())
            .finish_non_exhaustive()
    }
}

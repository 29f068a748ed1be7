//! `MemoryVista`: a complete in-memory master with call counters, capability
//! switches, fault injection, latency and a hold gate, for tests, examples
//! and simulation.

mod gate;
mod op;
mod rows;
mod shell;
mod state;

pub use op::VistaOp;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;

use crate::sync::Mutex;

use self::gate::Gate;
use self::op::OPS;
use self::rows::Rows;
use self::state::State;
use super::{Id, Query, VistaCapabilities};
use crate::error::Result;
use crate::runtime::IntoRuntime;
use crate::value::Record;

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
/// - A read whose query carries a clause [`accepts`](super::TableShell::accepts)
///   refuses (a sort without `can_order`, a search without `can_search`, a
///   condition while conditions are switched off) returns `Unsupported`
///   rather than silently ignoring it.
///
/// # Instrumentation
///
/// Every call is counted per [`VistaOp`] when first polled, and every
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

/// Shared by every clone.
struct Inner {
    name: String,
    gate: Gate,
    in_flight: AtomicUsize,
    state: Mutex<State>,
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
                    applied: BTreeMap::new(),
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
    /// off, [`accepts`](super::TableShell::accepts) refuses them and a read whose
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

    /// The idempotency keys of the Dio writes applied (see
    /// [`TableShell::apply_write`](crate::vista::TableShell::apply_write)),
    /// in key order: each appears once however often it was replayed.
    pub fn applied_keys(&self) -> Vec<String> {
        self.inner.state.lock().applied.keys().cloned().collect()
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
    pub fn set_latency(&self, latency: Duration, runtime: impl IntoRuntime) {
        self.inner.state.lock().latency = Some((latency, runtime.into_runtime()));
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

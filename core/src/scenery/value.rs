//! `ValueScenery`: one aggregate over a Dio's cached rows, kept current.
//!
//! Computed over the cache (conditions applied) at open, then kept from row
//! deltas: a changed row (`RecordChanged/Inserted/Removed`, a completed
//! write) updates count and sum at once and min/max unless the row holding
//! the extreme left (then the kept rows are rescanned, not the cache); a
//! custom aggregate, `Invalidated` or a lagging bus mean a scan. Viewport
//! events, queued or failed writes change nothing. Events arriving together
//! are coalesced into one update. An error keeps the last value and
//! sets the error status; the generation bumps only when value or status
//! changed.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

use super::tally::{Tally, TallyKind};
use crate::dio::{Dio, DioEvent, DioInner};
use crate::error::{Error, Result};
use crate::runtime::{AbortOnDrop, RuntimeExt};
use crate::sync::broadcast::{BroadcastReceiver, RecvError, TryRecvError};
use crate::sync::watch::{Generation, GenerationReceiver, GenerationSender, generation};
use crate::sync::{Mutex, RwLock};
use crate::value::{Record, Value};
use crate::vista::{CmpOp, Condition, Id, Query, QueryDescriptor, eval};

/// Rows read per cache scan step.
const SCAN_STEP: usize = 1024;

/// A user aggregate: rows in, value out.
pub type CustomAggregate = Box<dyn Fn(&[(Id, Record)]) -> Result<Value> + Send + Sync>;

enum Aggregate {
    Count,
    Sum(String),
    Min(String),
    Max(String),
    Custom(CustomAggregate),
}

impl fmt::Debug for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregate::Count => f.write_str("Count"),
            Aggregate::Sum(field) => write!(f, "Sum({field})"),
            Aggregate::Min(field) => write!(f, "Min({field})"),
            Aggregate::Max(field) => write!(f, "Max({field})"),
            Aggregate::Custom(_) => f.write_str("Custom"),
        }
    }
}

/// The state of an aggregate view.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueStatus {
    /// Not computed yet.
    Computing,
    /// The value is current.
    Ready,
    /// The last computation failed; the previous value is kept.
    Failed {
        /// Why.
        error: Error,
    },
}

/// Configures and opens a [`ValueScenery`]; from [`Dio::value_scenery`].
///
/// Choose the rows (`where_eq`, `where_op`) and the aggregate (`count`,
/// the default, `sum`, `min`, `max`, `custom`; the last one chosen wins),
/// then [`open`](Self::open).
#[derive(Debug)]
pub struct ValueSceneryBuilder {
    dio: Dio,
    conditions: Vec<Condition>,
    aggregate: Aggregate,
}

impl ValueSceneryBuilder {
    pub(crate) fn new(dio: Dio) -> Self {
        ValueSceneryBuilder {
            dio,
            conditions: Vec::new(),
            aggregate: Aggregate::Count,
        }
    }

    /// Only rows with `field == value` count.
    pub fn where_eq(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.conditions
            .push(Condition::new(field, CmpOp::Eq, value));
        self
    }

    /// Only rows satisfying `field op value` count.
    pub fn where_op(
        mut self,
        field: impl Into<String>,
        op: CmpOp,
        value: impl Into<Value>,
    ) -> Self {
        self.conditions.push(Condition::new(field, op, value));
        self
    }

    /// Aggregate: the number of rows (the default).
    pub fn count(mut self) -> Self {
        self.aggregate = Aggregate::Count;
        self
    }

    /// Aggregate: the number of rows with `field op value`.
    pub fn count_where(self, field: impl Into<String>, op: CmpOp, value: impl Into<Value>) -> Self {
        self.where_op(field, op, value).count()
    }

    /// Aggregate: the sum of a numeric field (integers stay integers unless
    /// a float is present; nulls and missing fields are skipped; other types
    /// are an error).
    pub fn sum(mut self, field: impl Into<String>) -> Self {
        self.aggregate = Aggregate::Sum(field.into());
        self
    }

    /// Aggregate: the smallest value of a numeric field (`Null` when there
    /// is none).
    pub fn min(mut self, field: impl Into<String>) -> Self {
        self.aggregate = Aggregate::Min(field.into());
        self
    }

    /// Aggregate: the largest value of a numeric field (`Null` when there
    /// is none).
    pub fn max(mut self, field: impl Into<String>) -> Self {
        self.aggregate = Aggregate::Max(field.into());
        self
    }

    /// Aggregate: any function of the matching rows.
    pub fn custom(
        mut self,
        f: impl Fn(&[(Id, Record)]) -> Result<Value> + Send + Sync + 'static,
    ) -> Self {
        self.aggregate = Aggregate::Custom(Box::new(f));
        self
    }

    /// Open the view: warm its rows through `on_query` (when the Lens has
    /// one and the query is cold, as a local table view does), compute the
    /// aggregate over the cache, and start following the Dio's events.
    ///
    /// The value is there when this returns (or the status says why not).
    ///
    /// # Errors
    /// None today: a failing `on_query` leaves the aggregate to what the
    /// cache holds, and a failing aggregate is the view's
    /// [`ValueStatus::Failed`]. The `Result` gives every scenery one opener
    /// shape (see [`TableSceneryBuilder::open`](super::TableSceneryBuilder::open)).
    ///
    /// # Cancel safety
    /// Cancel safe: dropped while `on_query` runs, no view is opened; the
    /// `on_query` call itself finishes in its own task and its answer is kept.
    pub async fn open(self) -> Result<ValueScenery> {
        let ValueSceneryBuilder {
            dio,
            conditions,
            aggregate,
        } = self;
        // Subscribe before reading anything, so no change slips between.
        let events = dio.subscribe_events();
        let descriptor = QueryDescriptor {
            query: Query {
                conditions: conditions.clone(),
                ..Query::default()
            },
            ..QueryDescriptor::default()
        };
        // A failing on_query leaves what the cache has; the value shows it.
        let _ = dio.queries().ensure(&dio, descriptor, true).await;
        let (generation_tx, _) = generation();
        let state = Arc::new(ValueState {
            dio: dio.downgrade(),
            conditions,
            aggregate,
            tally: Mutex::new(None),
            shown: RwLock::new((None, ValueStatus::Computing)),
            generation: generation_tx,
        });
        state.recompute(&dio);
        let task = dio
            .runtime()
            .spawn("diorama.value.reactor", run(Arc::downgrade(&state), events));
        Ok(ValueScenery {
            handle: Arc::new(ValueHandle {
                state,
                _task: task.abort_on_drop(),
            }),
        })
    }
}

/// A reactive aggregate over a Dio's cached rows.
///
/// Computed over the cache (conditions applied) at open, then kept from row
/// deltas (`RecordChanged/Inserted/Removed`, a completed write): count and
/// sum in O(1), min/max with a rescan of the kept rows only when the row
/// holding the extreme leaves. A custom aggregate, `Invalidated` or a
/// lagging bus mean a scan of the cache. Viewport events, queued or failed
/// writes change nothing. Events arriving together are coalesced into one
/// update. An error keeps the last value and
/// sets the error status; the generation bumps only when value or status
/// changed.
///
/// Cheap to clone; dropping the last clone stops its task. Holds its Dio weakly.
#[derive(Clone)]
pub struct ValueScenery {
    handle: Arc<ValueHandle>,
}

struct ValueHandle {
    state: Arc<ValueState>,
    _task: AbortOnDrop,
}

struct ValueState {
    dio: Weak<DioInner>,
    conditions: Vec<Condition>,
    aggregate: Aggregate,
    /// Count, sum, min and max kept from row deltas (`None`: a custom
    /// aggregate, recomputed over the rows).
    tally: Mutex<Option<Tally>>,
    shown: RwLock<(Option<Value>, ValueStatus)>,
    generation: GenerationSender,
}

impl fmt::Debug for ValueScenery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueScenery")
            .field("aggregate", &self.handle.state.aggregate)
            .field("value", &self.value())
            .field("status", &self.status())
            .finish()
    }
}

impl ValueScenery {
    /// The last computed value.
    pub fn value(&self) -> Option<Value> {
        self.handle.state.shown.read().0.clone()
    }

    /// The view's state.
    pub fn status(&self) -> ValueStatus {
        self.handle.state.shown.read().1.clone()
    }

    /// Recompute now.
    pub fn request_refresh(&self) {
        if let Some(dio) = Dio::upgrade(&self.handle.state.dio) {
            self.handle.state.recompute(&dio);
        }
    }

    /// A receiver of the generation; it changes when value or status do.
    pub fn subscribe(&self) -> GenerationReceiver {
        self.handle.state.generation.subscribe()
    }

    /// The current generation.
    pub fn generation(&self) -> Generation {
        self.handle.state.generation.get()
    }
}

/// What an event asks of an aggregate.
enum Change {
    None,
    /// One row changed: its delta.
    Row(Id),
    /// Anything may have changed: a scan.
    All,
}

fn change_of(event: &DioEvent) -> Change {
    match event {
        DioEvent::RecordChanged { id }
        | DioEvent::RecordInserted { id }
        | DioEvent::RecordRemoved { id }
        | DioEvent::WriteCompleted { id: Some(id) } => Change::Row(id.clone()),
        DioEvent::Invalidated | DioEvent::WriteCompleted { id: None } => Change::All,
        _ => Change::None,
    }
}

async fn run(state: Weak<ValueState>, mut events: BroadcastReceiver<DioEvent>) {
    loop {
        let mut all = false;
        let mut ids: BTreeSet<Id> = BTreeSet::new();
        let mut note = |change: Change| match change {
            Change::None => {}
            Change::Row(id) => {
                ids.insert(id);
            }
            Change::All => all = true,
        };
        match events.recv().await {
            Ok(event) => note(change_of(&event)),
            Err(RecvError::Lagged(_)) => note(Change::All),
            Err(RecvError::Closed) => return,
        }
        // Coalesce whatever else is already queued into one update.
        loop {
            match events.try_recv() {
                Ok(event) => note(change_of(&event)),
                Err(TryRecvError::Lagged(_)) => note(Change::All),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        if !all && ids.is_empty() {
            continue;
        }
        let Some(state) = state.upgrade() else { return };
        let Some(dio) = Dio::upgrade(&state.dio) else {
            return;
        };
        if all || !state.apply_deltas(&dio, &ids) {
            state.recompute(&dio);
        }
    }
}

impl ValueState {
    fn kind(&self) -> Option<TallyKind> {
        Some(match &self.aggregate {
            Aggregate::Count => TallyKind::Count,
            Aggregate::Sum(field) => TallyKind::Sum(field.clone()),
            Aggregate::Min(field) => TallyKind::Min(field.clone()),
            Aggregate::Max(field) => TallyKind::Max(field.clone()),
            Aggregate::Custom(_) => return None,
        })
    }

    /// Update the tally from the rows `ids` as cached now; false when there
    /// is no tally to update (a custom aggregate, or none built yet).
    fn apply_deltas(&self, dio: &Dio, ids: &BTreeSet<Id>) -> bool {
        let outcome = {
            let mut tally = self.tally.lock();
            let Some(tally) = tally.as_mut() else {
                return false;
            };
            for id in ids {
                let row = match dio.cache().get(id) {
                    Ok(row) => row,
                    // Unreadable: only a scan can tell.
                    Err(_) => return false,
                };
                let record = row.as_ref().map(|row| &row.record).filter(|record| {
                    self.conditions
                        .iter()
                        .all(|c| eval::matches_condition(record, c))
                });
                tally.update(id, record);
            }
            tally.value()
        };
        self.show(outcome);
        true
    }

    fn recompute(&self, dio: &Dio) {
        let outcome = self.rows(dio).and_then(|rows| match self.kind() {
            Some(kind) => {
                let mut tally = Tally::new(kind, rows.iter().map(|(id, r)| (id.as_str(), r)));
                let value = tally.value();
                *self.tally.lock() = Some(tally);
                value
            }
            None => self.aggregate(&rows),
        });
        self.show(outcome);
    }

    fn show(&self, outcome: Result<Value>) {
        let mut shown = self.shown.write();
        let next = match outcome {
            Ok(value) => (Some(value), ValueStatus::Ready),
            Err(error) => (shown.0.clone(), ValueStatus::Failed { error }),
        };
        if *shown != next {
            *shown = next;
            drop(shown);
            self.generation.bump();
        }
    }

    fn rows(&self, dio: &Dio) -> Result<Vec<(Id, Record)>> {
        let mut rows: Vec<(Id, Record)> = Vec::new();
        let mut after: Option<Id> = None;
        loop {
            let step = dio.cache().scan(after.as_deref(), SCAN_STEP)?;
            let done = step.len() < SCAN_STEP;
            after = step.last().map(|(id, _)| id.clone());
            rows.extend(
                step.into_iter()
                    .filter(|(_, row)| {
                        self.conditions
                            .iter()
                            .all(|c| eval::matches_condition(&row.record, c))
                    })
                    .map(|(id, row)| (id, row.record)),
            );
            if done {
                return Ok(rows);
            }
        }
    }

    fn aggregate(&self, rows: &[(Id, Record)]) -> Result<Value> {
        match &self.aggregate {
            Aggregate::Count => Ok(Value::from(rows.len())),
            Aggregate::Sum(field) => sum(rows, field),
            Aggregate::Min(field) => extreme(rows, field, Ordering::Less),
            Aggregate::Max(field) => extreme(rows, field, Ordering::Greater),
            Aggregate::Custom(f) => f(rows),
        }
    }
}

/// The numeric values of `field`, nulls and missing fields skipped.
fn numbers<'a>(
    rows: &'a [(Id, Record)],
    field: &'a str,
) -> impl Iterator<Item = Result<&'a Value>> + 'a {
    rows.iter()
        .filter_map(move |(id, record)| match eval::lookup(record, field) {
            None => None,
            Some(value) if value.is_null() => None,
            Some(value @ (Value::Integer(_) | Value::Float(_))) => Some(Ok(value)),
            Some(other) => Some(Err(Error::invalid_input(alloc::format!(
                "field {field:?} of row {id:?} is not a number: {other}"
            )))),
        })
}

pub(super) fn sum(rows: &[(Id, Record)], field: &str) -> Result<Value> {
    let mut int: i128 = 0;
    let mut float: Option<f64> = None;
    for value in numbers(rows, field) {
        match value? {
            Value::Integer(i) => match int.checked_add(i.get()) {
                Some(total) => int = total,
                None => *float.get_or_insert(0.0) += i.as_f64(),
            },
            Value::Float(f) => *float.get_or_insert(0.0) += f,
            _ => {}
        }
    }
    match float {
        Some(f) => Ok(Value::Float(f + int as f64)),
        // Beyond CBOR's integer range the sum can only be a float.
        None => Ok(crate::value::Int::new(int).map_or(Value::Float(int as f64), Value::Integer)),
    }
}

pub(super) fn extreme(rows: &[(Id, Record)], field: &str, wanted: Ordering) -> Result<Value> {
    let mut best: Option<&Value> = None;
    for value in numbers(rows, field) {
        let value = value?;
        if best.is_none_or(|b| eval::compare_values(value, b) == wanted) {
            best = Some(value);
        }
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}

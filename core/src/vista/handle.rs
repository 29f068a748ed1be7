//! The `Vista` handle: a shared shell plus narrowing split into what the
//! shell applies and what is evaluated locally.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;

use super::compose::Refused;
use super::{
    Clause, CmpOp, Composed, Condition, Id, Page, Query, Sort, SortDir, TableShell,
    VistaCapabilities, eval,
};
use super::{WriteKey, WriteOp};
use crate::error::{Error, Result};
use crate::value::{Record, Value};

/// One data source: a shared [`TableShell`] and the narrowing (conditions,
/// one sort, one search) applied to it.
///
/// Each narrowing clause is offered to the shell with
/// [`TableShell::accepts`]. Accepted clauses form the [`pushed`](Vista::pushed)
/// query the shell receives; refused ones form the
/// [`residual`](Vista::residual), which this handle evaluates locally where
/// that is correct (over a complete [`list`](Vista::list)) and refuses where
/// it is not (a [`fetch_window`](Vista::fetch_window) would filter or sort a
/// sample). Both are reported so a caller knows what it must evaluate.
///
/// Cheap to clone: clones share the shell. Narrowing consumes and returns
/// the handle, so `vista.clone().where_eq(..)` narrows a copy.
///
/// ```
/// use diorama_core::vista::{MemoryVista, SortDir, Vista};
/// use diorama_core::record;
///
/// let master = MemoryVista::new("products").with_rows([
///     ("p1".to_string(), record! { "name" => "Lamp", "price" => 19.5 }),
///     ("p2".to_string(), record! { "name" => "Desk", "price" => 120 }),
/// ]);
/// let cheap = Vista::new(master).where_op("price", diorama_core::vista::CmpOp::Lt, 100)
///     .with_sort("price", SortDir::Asc);
/// let rows = futures_lite::future::block_on(cheap.list()).unwrap();
/// assert_eq!(rows.len(), 1);
/// assert_eq!(rows[0].0, "p1");
/// ```
#[derive(Clone, Debug)]
pub struct Vista {
    shell: Arc<dyn TableShell>,
    /// Every clause, in the order given.
    query: Query,
    pushed: Query,
    residual: Query,
}

impl Vista {
    /// A handle over `shell`, not narrowed.
    pub fn new(shell: impl TableShell + 'static) -> Self {
        Self::from_shell(Arc::new(shell))
    }

    /// A handle over an already shared shell, not narrowed.
    pub fn from_shell(shell: Arc<dyn TableShell>) -> Self {
        Vista {
            shell,
            query: Query::default(),
            pushed: Query::default(),
            residual: Query::default(),
        }
    }

    /// `overlay` over `base`: reads see the overlay's row wherever it has
    /// one and the base's elsewhere; writes go to the overlay, and deleting
    /// a base row leaves a [tombstone](super::compose::tombstone) there. See
    /// [`compose`](super::compose) for the combined rows, the capabilities
    /// and the cost of each read.
    ///
    /// Both parts must be unnarrowed handles (narrow the composition
    /// instead): with a narrowed part, the returned Vista offers nothing and
    /// answers every call with an `InvalidInput` error naming the part,
    /// since its conditions would otherwise be silently dropped. A part's sort is
    /// ignored; the composition's own sort orders the combined rows.
    ///
    /// Local drafts over a remote table:
    ///
    /// ```
    /// use diorama_core::vista::{MemoryVista, SortDir, Vista};
    /// use diorama_core::record;
    /// # futures_lite::future::block_on(async {
    /// // Stands in for a remote table (an `HttpVista`, a SQL table).
    /// let remote = MemoryVista::new("products").with_rows([
    ///     ("p1", record! { "name" => "Lamp", "price" => 20 }),
    ///     ("p2", record! { "name" => "Desk", "price" => 120 }),
    ///     ("p3", record! { "name" => "Chair", "price" => 45 }),
    /// ]);
    /// let drafts = MemoryVista::new("drafts");
    /// let edited = Vista::overlay(Vista::new(remote.clone()), Vista::new(drafts.clone()));
    ///
    /// edited.patch("p1", record! { "price" => 150 }).await?; // copied up into the drafts
    /// edited.delete("p3").await?; // a tombstone in the drafts
    /// edited.insert(Some("p4".into()), record! { "name" => "Shelf", "price" => 60 }).await?;
    ///
    /// let by_price = edited.clone().with_sort("price", SortDir::Desc);
    /// let rows = by_price.list().await?;
    /// let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    /// assert_eq!(ids, ["p1", "p2", "p4"]);
    /// assert_eq!(by_price.fetch_window(1, 2).await?.rows, rows[1..].to_vec());
    /// assert_eq!(edited.count().await?, 3);
    /// // The remote table is untouched until the drafts are published.
    /// assert_eq!(remote.get_row("p1"), Some(record! { "name" => "Lamp", "price" => 20 }));
    /// assert_eq!(drafts.len(), 3);
    /// # Ok::<(), diorama_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn overlay(base: Vista, overlay: Vista) -> Vista {
        let composed = Composed::overlay(base.shell.clone(), overlay.shell.clone());
        match unnarrowed("overlay", "base", &base).and(unnarrowed("overlay", "overlay", &overlay)) {
            Ok(()) => Vista::new(composed),
            Err(error) => Vista::new(Refused::new(String::from(composed.name()), error)),
        }
    }

    /// `primary` in front of `fallback`: a read takes the primary's row and
    /// falls back for ids it lacks; writes go to the primary (a delete of a
    /// row the fallback also holds is refused, since it would show again).
    /// See [`compose`](super::compose) for the combined rows, the
    /// capabilities and the cost of each read. Narrowed parts are refused as
    /// by [`overlay`](Vista::overlay).
    ///
    /// A fast local copy in front of a slow authoritative source:
    ///
    /// ```
    /// use diorama_core::vista::{MemoryVista, Vista, VistaOp};
    /// use diorama_core::record;
    /// # futures_lite::future::block_on(async {
    /// // The authoritative source: complete, slow (remote, metered).
    /// let authority = MemoryVista::new("clients").with_rows([
    ///     ("c1", record! { "name" => "Ada" }),
    ///     ("c2", record! { "name" => "Brian" }),
    /// ]);
    /// // A local copy of the clients this device works with.
    /// let local = MemoryVista::new("clients-local")
    ///     .with_rows([("c1", record! { "name" => "Ada (visited today)" })]);
    /// let clients = Vista::merge(Vista::new(local.clone()), Vista::new(authority.clone()));
    ///
    /// // c1 comes from the local copy without asking the authority.
    /// assert_eq!(clients.get("c1").await?, Some(record! { "name" => "Ada (visited today)" }));
    /// assert_eq!(authority.calls(VistaOp::Get), 0);
    /// // c2 is not local: the authority answers.
    /// assert_eq!(clients.get("c2").await?, Some(record! { "name" => "Brian" }));
    /// // Writes go to the local copy.
    /// clients.patch("c2", record! { "phone" => "555-0102" }).await?;
    /// assert_eq!(local.get_row("c2"), Some(record! { "name" => "Brian", "phone" => "555-0102" }));
    /// assert_eq!(clients.count().await?, 2);
    /// # Ok::<(), diorama_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn merge(primary: Vista, fallback: Vista) -> Vista {
        let composed = Composed::merge(primary.shell.clone(), fallback.shell.clone());
        match unnarrowed("merge", "primary", &primary)
            .and(unnarrowed("merge", "fallback", &fallback))
        {
            Ok(()) => Vista::new(composed),
            Err(error) => Vista::new(Refused::new(String::from(composed.name()), error)),
        }
    }

    /// The table's name, as the shell reports it.
    pub fn name(&self) -> &str {
        self.shell.name()
    }

    /// What the shell offers (narrowing does not change it).
    pub fn capabilities(&self) -> VistaCapabilities {
        self.shell.capabilities()
    }

    /// The shared shell.
    pub fn shell(&self) -> &Arc<dyn TableShell> {
        &self.shell
    }

    /// The whole narrowing: pushed and residual clauses, conditions in the
    /// order they were added.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The clauses the shell accepted; it receives exactly this query.
    pub fn pushed(&self) -> &Query {
        &self.pushed
    }

    /// The clauses the shell refused, left for local evaluation.
    pub fn residual(&self) -> &Query {
        &self.residual
    }

    /// This handle narrowed by `condition` (all conditions must hold).
    pub fn with_condition(mut self, condition: Condition) -> Self {
        if self.shell.accepts(Clause::Condition(&condition)) {
            self.pushed.conditions.push(condition.clone());
        } else {
            self.residual.conditions.push(condition.clone());
        }
        self.query.conditions.push(condition);
        self
    }

    /// This handle narrowed to rows whose `field` equals `value`.
    pub fn where_eq(self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.with_condition(Condition::eq(field, value))
    }

    /// This handle narrowed to rows where `field op value` holds.
    pub fn where_op(self, field: impl Into<String>, op: CmpOp, value: impl Into<Value>) -> Self {
        self.with_condition(Condition::new(field, op, value))
    }

    /// This handle sorted by `field`, replacing any previous sort.
    pub fn with_sort(mut self, field: impl Into<String>, dir: SortDir) -> Self {
        let sort = Sort::new(field, dir);
        self.pushed.sort = None;
        self.residual.sort = None;
        if self.shell.accepts(Clause::Sort(&sort)) {
            self.pushed.sort = Some(sort.clone());
        } else {
            self.residual.sort = Some(sort.clone());
        }
        self.query.sort = Some(sort);
        self
    }

    /// This handle narrowed to rows containing `text` (case-insensitive, see
    /// [`eval::SearchMatcher`]), replacing any previous search. An empty
    /// `text` removes the search.
    pub fn with_search(mut self, text: impl Into<String>) -> Self {
        let text: String = text.into();
        self.pushed.search = None;
        self.residual.search = None;
        self.query.search = None;
        if text.is_empty() {
            return self;
        }
        if self.shell.accepts(Clause::Search(&text)) {
            self.pushed.search = Some(text.clone());
        } else {
            self.residual.search = Some(text.clone());
        }
        self.query.search = Some(text);
        self
    }

    /// Every row of the narrowed table, in query order: the shell lists the
    /// pushed query and the residual is applied locally, which is correct
    /// because a list is the complete set. Without any sort, the shell's
    /// order is kept.
    ///
    /// # Errors
    /// The shell's: the master's failure, or `Unsupported` for a clause it
    /// refused at narrowing time and cannot list either.
    ///
    /// # Cancel safety
    /// Cancel safe: a read changes nothing, dropping it loses only the answer.
    pub async fn list(&self) -> Result<Vec<(Id, Record)>> {
        let rows = self.shell.list(&self.pushed).await?;
        if self.residual.is_empty() {
            Ok(rows)
        } else {
            Ok(eval::apply_query(rows, &self.residual))
        }
    }

    /// Number of rows of the narrowed table: asked of the shell when the
    /// residual filters nothing (a residual sort changes no count), else
    /// counted over [`list`](Vista::list).
    ///
    /// # Errors
    /// As [`list`](Vista::list), or the shell's `count`.
    ///
    /// # Cancel safety
    /// Cancel safe: a read changes nothing, dropping it loses only the answer.
    pub async fn count(&self) -> Result<usize> {
        if self.residual.filters() {
            Ok(self.list().await?.len())
        } else {
            self.shell.count(&self.pushed).await
        }
    }

    /// Rows `offset..offset + limit` of the narrowed table, in query order.
    ///
    /// Only when the shell applies the whole narrowing: a window of the
    /// pushed query filtered or sorted locally would present a sample as the
    /// answer. With a residual this returns an `Unsupported` error naming the
    /// refused clauses; use [`list`](Vista::list) (complete set) instead.
    ///
    /// # Errors
    /// `Unsupported` with a residual (above); otherwise the shell's.
    ///
    /// # Cancel safety
    /// Cancel safe: a read changes nothing, dropping it loses only the answer.
    pub async fn fetch_window(&self, offset: usize, limit: usize) -> Result<Page> {
        if !self.residual.is_empty() {
            return Err(Error::unsupported(residual_message(
                self.name(),
                &self.residual,
            )));
        }
        self.shell.fetch_window(&self.pushed, offset, limit).await
    }

    /// The row `id`, or `None`. Reads by id ignore the narrowing.
    ///
    /// # Errors
    /// The shell's (a missing row is `Ok(None)`, not an error).
    ///
    /// # Cancel safety
    /// Cancel safe: a read changes nothing, dropping it loses only the answer.
    pub async fn get(&self, id: &str) -> Result<Option<Record>> {
        self.shell.get(id).await
    }

    /// Insert `record`, under `id` when given; returns the id used.
    ///
    /// # Errors
    /// The shell's: `Unsupported` when it cannot insert, the master's failure.
    ///
    /// # Cancel safety
    /// Dropping the future drops the shell's operation, so the write may or
    /// may not have happened (a master may have applied it). Through a
    /// Dio's facade ([`Dio::vista`](crate::Dio::vista)) a write dropped
    /// before it was queued is not made, and one that was queued goes on.
    pub async fn insert(&self, id: Option<Id>, record: Record) -> Result<Id> {
        self.shell.insert(id, record).await
    }

    /// Replace the whole row `id`.
    ///
    /// # Errors
    /// The shell's: `Unsupported` when it cannot update, `NotFound` or the
    /// master's failure.
    ///
    /// # Cancel safety
    /// Dropping the future drops the shell's operation, so the write may or
    /// may not have happened (a master may have applied it). Through a
    /// Dio's facade ([`Dio::vista`](crate::Dio::vista)) a write dropped
    /// before it was queued is not made, and one that was queued goes on.
    pub async fn replace(&self, id: &str, record: Record) -> Result<()> {
        self.shell.replace(id, record).await
    }

    /// Overwrite the given fields of row `id`.
    ///
    /// # Errors
    /// As [`replace`](Vista::replace).
    ///
    /// # Cancel safety
    /// Dropping the future drops the shell's operation, so the write may or
    /// may not have happened (a master may have applied it). Through a
    /// Dio's facade ([`Dio::vista`](crate::Dio::vista)) a write dropped
    /// before it was queued is not made, and one that was queued goes on.
    pub async fn patch(&self, id: &str, fields: Record) -> Result<()> {
        self.shell.patch(id, fields).await
    }

    /// Delete row `id` (absent is not an error).
    ///
    /// # Errors
    /// The shell's: `Unsupported` when it cannot delete, the master's failure.
    ///
    /// # Cancel safety
    /// Dropping the future drops the shell's operation, so the write may or
    /// may not have happened (a master may have applied it). Through a
    /// Dio's facade ([`Dio::vista`](crate::Dio::vista)) a write dropped
    /// before it was queued is not made, and one that was queued goes on.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.shell.delete(id).await
    }

    /// Delete every row of the table.
    ///
    /// Refused with `Unsupported` on a handle narrowed by a condition or a
    /// search: the shell's `delete_all` ignores narrowing, and deleting rows
    /// outside it would lose data. List the narrowed rows and delete them by
    /// id instead. A sort alone does not narrow, so it is allowed.
    ///
    /// # Errors
    /// `Unsupported` on a narrowed handle (above); otherwise as
    /// [`delete`](Vista::delete).
    ///
    /// # Cancel safety
    /// Dropping the future drops the shell's operation, so the write may or
    /// may not have happened (a master may have applied it). Through a
    /// Dio's facade ([`Dio::vista`](crate::Dio::vista)) a write dropped
    /// before it was queued is not made, and one that was queued goes on.
    pub async fn delete_all(&self) -> Result<()> {
        if self.query.filters() {
            return Err(Error::unsupported(
                "delete_all on a narrowed Vista would delete rows outside the narrowing; \
                 list the rows and delete them by id",
            ));
        }
        self.shell.delete_all().await
    }

    /// Apply one queued write under its idempotency `key` (see
    /// [`TableShell::apply_write`]): what a Dio's worker calls.
    ///
    /// # Errors
    /// As the matching write method; `DeleteAll` on a narrowed handle is
    /// refused as by [`delete_all`](Vista::delete_all).
    ///
    /// # Cancel safety
    /// As the matching write method.
    pub async fn apply_write(&self, key: &WriteKey, op: WriteOp) -> Result<Option<Id>> {
        if matches!(op, WriteOp::DeleteAll) && self.query.filters() {
            return Err(Error::unsupported(
                "delete_all on a narrowed Vista would delete rows outside the narrowing; \
                 list the rows and delete them by id",
            ));
        }
        self.shell.apply_write(key, op).await
    }
}

/// Refuse a narrowed part of a composition.
fn unnarrowed(composition: &str, role: &str, part: &Vista) -> Result<()> {
    if part.query.filters() {
        return Err(Error::invalid_input(alloc::format!(
            "Vista::{composition}: the {role} \"{}\" is narrowed; compose unnarrowed handles \
             and narrow the composition instead",
            part.name()
        )));
    }
    Ok(())
}

/// `fetch_window of "t" cannot apply sort price desc, search "x", condition
/// price > i10 locally ...`
fn residual_message(name: &str, residual: &Query) -> String {
    let mut message = String::new();
    // Writing into a String cannot fail.
    let _ = write!(
        message,
        "fetch_window of \"{name}\": the shell does not apply "
    );
    let mut first = true;
    let mut sep = |m: &mut String| {
        if !first {
            m.push_str(", ");
        }
        first = false;
    };
    for condition in &residual.conditions {
        sep(&mut message);
        let _ = write!(message, "condition {condition}");
    }
    if let Some(sort) = &residual.sort {
        sep(&mut message);
        let _ = write!(message, "sort {sort}");
    }
    if let Some(search) = &residual.search {
        sep(&mut message);
        let _ = write!(message, "search \"{search}\"");
    }
    message.push_str(
        ", and a window cannot be filtered or sorted locally without presenting a sample; \
         use list() over the complete set",
    );
    message
}

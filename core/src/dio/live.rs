//! Changes learned outside the write queue: live-source events, user
//! patches and removals, and invalidation.

use super::{ChangeEvent, Dio, DioEvent, LocalChange};
use crate::cache::{CachedRow, RowState};
use crate::error::Result;
use crate::value::Record;
use crate::vista::Id;

impl Dio {
    /// Handle a change reported by a live source: dispatched to `on_event`
    /// when registered; otherwise applied directly (`Updated`/`Inserted` with
    /// data → [`patched`](Dio::patched), without → [`invalidate_record`](Dio::invalidate_record),
    /// `Removed` → [`removed`](Dio::removed), `Reset` → [`invalidate_all`](Dio::invalidate_all)).
    ///
    /// # Errors
    /// The error of `on_event`; without one, the cache's error when writing
    /// the change fails (see [`patched`](Dio::patched)).
    ///
    /// # Cancel safety
    /// Without `on_event`, cancel safe: the change is applied at the first
    /// poll. With one, dropping the future drops `on_event`'s future
    /// wherever it was.
    pub async fn handle_event(&self, event: ChangeEvent) -> Result<()> {
        if let Some(on_event) = self.policy().on_event() {
            return on_event(self, event).await;
        }
        match event {
            ChangeEvent::Inserted {
                id,
                record: Some(record),
            } => self.upsert(id, record, true),
            ChangeEvent::Updated {
                id,
                fields: Some(fields),
            } => self.patched(id, fields),
            ChangeEvent::Inserted { id, record: None }
            | ChangeEvent::Updated { id, fields: None } => {
                self.invalidate_record(id);
                Ok(())
            }
            ChangeEvent::Removed { id } => self.removed(id),
            ChangeEvent::Reset => {
                self.invalidate_all();
                Ok(())
            }
        }
    }

    /// Mark the cached row `id` stale (it is refetched when a view reaches
    /// it) and publish `RecordChanged`. No effect on the cache when absent.
    pub fn invalidate_record(&self, id: impl Into<Id>) {
        let id = id.into();
        self.touch_row(&id);
        if let Ok(Some(mut row)) = self.inner.cache.get(&id) {
            row.state = RowState::Stale;
            // A failed write leaves the row as it was: still served, just not marked.
            let _ = self
                .inner
                .cache
                .insert_batch(alloc::vec![(id.clone(), row)]);
        }
        self.tap(LocalChange::InvalidatedRecord { id: &id });
        self.publish(DioEvent::RecordChanged { id });
    }

    /// Make every answered query cold (so `on_query` fires again), mark every
    /// row fetched until now stale, and publish `Invalidated`; views refetch
    /// what they show.
    pub fn invalidate_all(&self) {
        self.mark_invalidated();
        self.tap(LocalChange::InvalidatedAll);
        self.publish(DioEvent::Invalidated);
    }

    /// A change the master already has, learned elsewhere (typically in
    /// `on_event` or `on_write`): merge `fields` into the cached row `id`
    /// and publish `RecordChanged`. Cache only: nothing is written to the
    /// master (to change a row, [`patch`](Dio::patch) or
    /// [`try_patch`](Dio::try_patch) it). When the row is not cached, the
    /// fields are stored as an incomplete row.
    ///
    /// # Errors
    /// The cache's error when reading or writing the row fails (nothing is
    /// published then).
    pub fn patched(&self, id: impl Into<Id>, fields: Record) -> Result<()> {
        let id = id.into();
        self.touch_row(&id);
        let now = self.runtime().wall_clock();
        let row = match self.inner.cache.get(&id)? {
            Some(mut row) => {
                row.record.merge(&fields);
                if row.state == RowState::Stale {
                    row.state = RowState::Complete;
                }
                row.fetched_at = Some(now);
                row
            }
            None => CachedRow {
                record: fields.clone(),
                state: RowState::Incomplete,
                fetched_at: Some(now),
            },
        };
        self.inner
            .cache
            .insert_batch(alloc::vec![(id.clone(), row)])?;
        self.tap(LocalChange::Patched {
            id: &id,
            fields: &fields,
        });
        self.publish(DioEvent::RecordChanged { id });
        Ok(())
    }

    /// A removal the master already made, learned elsewhere: delete the
    /// cached row `id` (absent is fine) and publish `RecordRemoved`. Cache
    /// only: to delete a row at the master, [`delete`](Dio::delete) or
    /// [`try_delete`](Dio::try_delete) it.
    ///
    /// # Errors
    /// The cache's error when the delete fails (nothing is published then).
    pub fn removed(&self, id: impl Into<Id>) -> Result<()> {
        let id = id.into();
        self.touch_row(&id);
        self.inner.cache.delete(&id)?;
        self.tap(LocalChange::Removed { id: &id });
        self.publish(DioEvent::RecordRemoved { id });
        Ok(())
    }

    fn upsert(&self, id: Id, record: Record, inserted: bool) -> Result<()> {
        self.touch_row(&id);
        let now = self.runtime().wall_clock();
        self.inner.cache.insert_batch(alloc::vec![(
            id.clone(),
            CachedRow::complete(record.clone(), Some(now))
        )])?;
        self.tap(LocalChange::Inserted {
            id: &id,
            record: &record,
        });
        self.publish(if inserted {
            DioEvent::RecordInserted { id }
        } else {
            DioEvent::RecordChanged { id }
        });
        Ok(())
    }
}

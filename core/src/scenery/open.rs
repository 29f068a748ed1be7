//! Every scenery opener of a Dio, in one place on the scenery side.
//!
//! All three have one shape: `dio.<kind>_scenery(..)` returns a builder,
//! and the builder's `open().await` returns `Result<Scenery>`. Opening is
//! `async` for every kind because it may run the Lens's callbacks before
//! the first paint: a paged table asks `total_provider`, and a view over
//! the cache (a local table, a value, a record missing from the cache)
//! lets `on_query` warm it first. Without those callbacks `open` completes
//! at its first poll.

use super::{RecordSceneryBuilder, TableSceneryBuilder, ValueSceneryBuilder};
use crate::dio::Dio;
use crate::vista::Id;

impl Dio {
    /// Configure a [`TableScenery`](super::TableScenery): a sparse,
    /// viewport-driven view of this Dio's rows.
    pub fn table_scenery(&self) -> TableSceneryBuilder {
        TableSceneryBuilder::new(self.clone())
    }

    /// Configure a [`RecordScenery`](super::RecordScenery): a view of row
    /// `id`, kept current by events.
    pub fn record_scenery(&self, id: impl Into<Id>) -> RecordSceneryBuilder {
        RecordSceneryBuilder::new(self.clone(), id.into())
    }

    /// Configure a [`ValueScenery`](super::ValueScenery): an aggregate over
    /// this Dio's cached rows.
    pub fn value_scenery(&self) -> ValueSceneryBuilder {
        ValueSceneryBuilder::new(self.clone())
    }
}

//! Every scenery opener of a Dio, in one place on the scenery side.

use super::{RecordScenery, TableSceneryBuilder, ValueSceneryBuilder};
use crate::dio::Dio;
use crate::value::Record;
use crate::vista::Id;

impl Dio {
    /// Configure a [`TableScenery`](super::TableScenery) over this Dio.
    pub fn table_scenery(&self) -> TableSceneryBuilder {
        TableSceneryBuilder::new(self.clone())
    }

    /// A view of row `id`: the cached row at once (`Loading` on a miss,
    /// then fetched from the master), kept current by events.
    pub async fn record_scenery(&self, id: impl Into<Id>) -> RecordScenery {
        RecordScenery::open(self, id.into(), None)
    }

    /// A view of row `id` starting from `record` (no initial fetch).
    pub fn record_scenery_with(&self, id: impl Into<Id>, record: Record) -> RecordScenery {
        RecordScenery::open(self, id.into(), Some(record))
    }

    /// Configure an aggregate view over this Dio's cached rows.
    pub fn value_scenery(&self) -> ValueSceneryBuilder {
        ValueSceneryBuilder::new(self.clone())
    }
}

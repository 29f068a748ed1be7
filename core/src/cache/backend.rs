//! The backend trait: a namespace of cache tables.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Debug;

use super::CacheTable;
use crate::error::Result;

/// A store of named [`CacheTable`]s, shared by every Dio under one Lens.
pub trait CacheBackend: Send + Sync + Debug {
    /// Open (creating if needed) the table `name`. Opening the same name twice
    /// yields handles onto the same data.
    fn open_table(&self, name: &str) -> Result<Arc<dyn CacheTable>>;

    /// Names of the tables that exist, in ascending order.
    fn list_tables(&self) -> Result<Vec<String>>;

    /// Remove table `name` and everything in it. Absent is not an error.
    fn drop_table(&self, name: &str) -> Result<()>;
}

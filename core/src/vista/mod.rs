//! The data-source abstraction.
//!
//! A [`Vista`] is one master table: a name, its [`VistaCapabilities`] and a
//! boxed [`TableShell`] that does the I/O. Narrowing (conditions, one sort, a
//! search string) is carried by the handle as a [`Query`]; clauses the shell
//! cannot apply stay with the handle as a residual the caller evaluates with
//! the shared helpers in [`eval`].

mod capabilities;
pub mod compose;
pub mod eval;
mod feed;
mod handle;
mod key;
mod memory;
mod query;
mod shell;
mod write;

pub use capabilities::VistaCapabilities;
pub use compose::Composed;
pub use feed::{BoxStream, ChangeEvent, ChangeFeed, FeedItem, FeedPosition};
pub use handle::Vista;
pub use memory::{MemoryVista, VistaOp};
pub use query::{CmpOp, Condition, Query, QueryDescriptor, Sort, SortDir};
pub use shell::{Clause, Page, TableShell, apply_op};
pub use write::{WriteKey, WriteOp};

use alloc::string::String;

/// A record's identity within its table.
pub type Id = String;

//! The operations a `MemoryVista` counts, fails and logs.

use core::fmt;

/// The operations of a shell, as counted by [`MemoryVista`](super::MemoryVista).
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

    pub(super) const fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for VistaOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Number of operations, the length of per-operation tables.
pub(super) const OPS: usize = VistaOp::ALL.len();

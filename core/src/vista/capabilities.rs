//! What a source can do, so callers know what to ask and what to evaluate locally.

/// The operations a [`TableShell`](super::TableShell) really offers.
///
/// Each flag is a promise: an operation whose flag is `false` returns an
/// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VistaCapabilities {
    /// `insert` works.
    pub can_insert: bool,
    /// `replace` and `patch` work.
    pub can_update: bool,
    /// `delete` and `delete_all` work.
    pub can_delete: bool,
    /// The source pushes change events.
    pub can_subscribe: bool,
    /// The source applies a sort clause itself.
    pub can_order: bool,
    /// The source applies a search string itself.
    pub can_search: bool,
    /// `fetch_window(offset, limit)` is random access.
    pub can_fetch_page: bool,
    /// The source can be read forward page by page (cursor-like).
    pub can_fetch_next: bool,
    /// `count` is answered by the source.
    pub can_count: bool,
}

impl VistaCapabilities {
    /// Every capability on.
    pub const ALL: VistaCapabilities = VistaCapabilities {
        can_insert: true,
        can_update: true,
        can_delete: true,
        can_subscribe: true,
        can_order: true,
        can_search: true,
        can_fetch_page: true,
        can_fetch_next: true,
        can_count: true,
    };

    /// Every capability off.
    pub const NONE: VistaCapabilities = VistaCapabilities {
        can_insert: false,
        can_update: false,
        can_delete: false,
        can_subscribe: false,
        can_order: false,
        can_search: false,
        can_fetch_page: false,
        can_fetch_next: false,
        can_count: false,
    };
}

//! The `Vista` handle. (Being completed: see the foundation issue.)

use alloc::sync::Arc;

use super::{Query, TableShell};

/// A data source handle: a shared [`TableShell`] plus the narrowing applied to it.
#[derive(Clone, Debug)]
pub struct Vista {
    shell: Arc<dyn TableShell>,
    pushed: Query,
    residual: Query,
}

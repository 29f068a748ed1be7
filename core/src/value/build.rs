//! Assembling a [`Value`] bottom-up without recursion.
//!
//! The decoder and `Clone` both produce a tree from a pre-order stream of
//! items. Each open container is a [`Frame`] on a heap stack, so the depth of
//! the tree costs heap, never call stack.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::Value;

/// A container whose items are still arriving.
pub(super) enum Frame {
    Array {
        items: Vec<Value>,
        /// Items still due; `None` for an indefinite container (it ends at
        /// a break only its reader can see).
        remaining: Option<u64>,
    },
    Map {
        entries: Vec<(Value, Value)>,
        /// The key read for the entry whose value comes next.
        key: Option<Value>,
        /// Entries still due, as for arrays.
        remaining: Option<u64>,
    },
    Tag {
        tag: u64,
        inner: Option<Value>,
    },
}

/// Whether a [`Frame`] has all its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Completion {
    /// Every item is there.
    Complete,
    /// More items are due.
    Open,
    /// An indefinite container between items: complete if a break follows.
    AtBreak,
}

impl Frame {
    /// An array expecting `remaining` items (`None`: indefinite), with room
    /// reserved for `capacity`.
    pub(super) fn array(remaining: Option<u64>, capacity: usize) -> Frame {
        Frame::Array {
            items: Vec::with_capacity(capacity),
            remaining,
        }
    }

    /// A map expecting `remaining` entries (`None`: indefinite), with room
    /// reserved for `capacity`.
    pub(super) fn map(remaining: Option<u64>, capacity: usize) -> Frame {
        Frame::Map {
            entries: Vec::with_capacity(capacity),
            key: None,
            remaining,
        }
    }

    /// Take the container's next finished item (for a map: a key, then its
    /// value).
    pub(super) fn accept(&mut self, value: Value) {
        match self {
            Frame::Array { items, remaining } => {
                items.push(value);
                count_down(remaining);
            }
            Frame::Map {
                entries,
                key,
                remaining,
            } => match key.take() {
                None => *key = Some(value),
                Some(k) => {
                    entries.push((k, value));
                    count_down(remaining);
                }
            },
            Frame::Tag { inner, .. } => *inner = Some(value),
        }
    }

    pub(super) fn completion(&self) -> Completion {
        let remaining = match self {
            Frame::Array { remaining, .. } => remaining,
            // Half an entry: its value is due whatever the count says.
            Frame::Map { key: Some(_), .. } => return Completion::Open,
            Frame::Map { remaining, .. } => remaining,
            Frame::Tag { inner: None, .. } => return Completion::Open,
            Frame::Tag { inner: Some(_), .. } => return Completion::Complete,
        };
        match remaining {
            Some(0) => Completion::Complete,
            Some(_) => Completion::Open,
            None => Completion::AtBreak,
        }
    }

    /// The finished container. Call once [`completion`](Self::completion)
    /// says complete (or a break closed an indefinite one).
    pub(super) fn finish(self) -> Value {
        match self {
            Frame::Array { items, .. } => Value::Array(items),
            Frame::Map { entries, .. } => Value::Map(entries),
            Frame::Tag { tag, inner } => {
                // Completion guarantees the inner item; a bare tag never
                // reaches here, and null keeps even a misuse panic-free.
                Value::Tag(tag, Box::new(inner.unwrap_or(Value::Null)))
            }
        }
    }
}

fn count_down(remaining: &mut Option<u64>) {
    if let Some(n) = remaining {
        *n = n.saturating_sub(1);
    }
}

//! Visiting every item of a [`Value`] in CBOR order without recursion.
//!
//! CBOR writes a container's head before its items, so encoding a value is
//! writing the head (or the whole scalar) of every item in pre-order. Walking
//! with an explicit stack of slice iterators keeps the call stack flat at any
//! depth: a `Value` built by hand can nest far deeper than the decoder
//! accepts, and encoding it must still fit on a small thread.

use alloc::vec::Vec;
use core::slice;

use super::Value;

/// The items of `root` in pre-order: a container, then its items (a map's
/// key, then that key's value), depth first.
pub(super) struct Preorder<'a> {
    /// The item to yield next when it is known without the stack (the root,
    /// or a tag's inner item).
    next: Option<&'a Value>,
    /// What is left of each open container, innermost last.
    stack: Vec<Pending<'a>>,
}

enum Pending<'a> {
    Items(slice::Iter<'a, Value>),
    Entries(slice::Iter<'a, (Value, Value)>),
    /// A map entry's value, due once its key (and everything in the key)
    /// has been visited.
    Value(&'a Value),
}

impl<'a> Preorder<'a> {
    pub(super) fn new(root: &'a Value) -> Self {
        Preorder {
            next: Some(root),
            stack: Vec::new(),
        }
    }

    fn pop(&mut self) -> Option<&'a Value> {
        loop {
            match self.stack.last_mut()? {
                Pending::Items(items) => {
                    if let Some(item) = items.next() {
                        return Some(item);
                    }
                }
                Pending::Entries(entries) => {
                    if let Some((key, value)) = entries.next() {
                        self.stack.push(Pending::Value(value));
                        return Some(key);
                    }
                }
                Pending::Value(value) => {
                    let value = *value;
                    self.stack.pop();
                    return Some(value);
                }
            }
            // The container on top is exhausted.
            self.stack.pop();
        }
    }
}

impl<'a> Iterator for Preorder<'a> {
    type Item = &'a Value;

    fn next(&mut self) -> Option<&'a Value> {
        let item = match self.next.take() {
            Some(item) => item,
            None => self.pop()?,
        };
        match item {
            Value::Array(items) if !items.is_empty() => {
                self.stack.push(Pending::Items(items.iter()))
            }
            Value::Map(entries) if !entries.is_empty() => {
                self.stack.push(Pending::Entries(entries.iter()));
            }
            Value::Tag(_, inner) => self.next = Some(inner),
            _ => {}
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use alloc::boxed::Box;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::{Preorder, Value};

    fn int(n: u8) -> Value {
        Value::from(n)
    }

    #[test]
    fn containers_come_before_their_items_and_keys_before_values() {
        // [1, {[2]: 3, 4: 5}, 6(7), [], 8]
        let value = Value::Array(vec![
            int(1),
            Value::Map(vec![(Value::Array(vec![int(2)]), int(3)), (int(4), int(5))]),
            Value::Tag(6, Box::new(int(7))),
            Value::Array(Vec::new()),
            int(8),
        ]);
        let seen: Vec<alloc::string::String> = Preorder::new(&value)
            .map(|v| match v {
                Value::Array(items) => alloc::format!("[{}]", items.len()),
                Value::Map(entries) => alloc::format!("{{{}}}", entries.len()),
                Value::Tag(tag, _) => alloc::format!("tag{tag}"),
                other => alloc::format!("{other}"),
            })
            .collect();
        assert_eq!(
            seen,
            [
                "[5]", "1", "{2}", "[1]", "2", "3", "4", "5", "tag6", "7", "[0]", "8"
            ]
        );
    }

    #[test]
    fn a_scalar_is_its_own_walk() {
        assert_eq!(Preorder::new(&Value::Null).count(), 1);
    }
}

//! `Clone` and `PartialEq` for [`Value`] without recursion.
//!
//! Derived impls recurse once per level and need about a kilobyte of stack
//! per level in a debug build, so cloning or comparing a value the decoder
//! accepts would overflow a 32 KiB thread. These walk the value in pre-order
//! ([`Preorder`]) and rebuild or compare item by item instead; scalars and
//! flat containers never touch the heap for the walk.

use alloc::vec::Vec;

use super::Value;
use super::build::{Completion, Frame};
use super::walk::Preorder;

impl Clone for Value {
    /// A deep copy. Needs a small, constant amount of stack at any depth.
    fn clone(&self) -> Value {
        if let Some(leaf) = clone_leaf(self) {
            return leaf;
        }
        let mut stack: Vec<Frame> = Vec::new();
        for item in Preorder::new(self) {
            let mut done = match clone_leaf(item) {
                Some(leaf) => leaf,
                None => {
                    stack.push(open(item));
                    match close_if_complete(&mut stack) {
                        Some(closed) => closed,
                        None => continue,
                    }
                }
            };
            loop {
                let Some(top) = stack.last_mut() else {
                    return done;
                };
                top.accept(done);
                match close_if_complete(&mut stack) {
                    Some(closed) => done = closed,
                    None => break,
                }
            }
        }
        // The walk yields the root's last item, which closes the root and
        // returns above; a shallow copy is the honest answer should it not.
        clone_shallow(self)
    }
}

/// An empty frame for the container `item`.
fn open(item: &Value) -> Frame {
    match item {
        Value::Array(items) => Frame::array(Some(items.len() as u64), items.len()),
        Value::Map(entries) => Frame::map(Some(entries.len() as u64), entries.len()),
        Value::Tag(tag, _) => Frame::Tag {
            tag: *tag,
            inner: None,
        },
        // Leaves never open a frame; an empty array is a harmless answer.
        _ => Frame::array(Some(0), 0),
    }
}

fn close_if_complete(stack: &mut Vec<Frame>) -> Option<Value> {
    match stack.last()?.completion() {
        Completion::Complete => stack.pop().map(Frame::finish),
        Completion::Open | Completion::AtBreak => None,
    }
}

/// A copy of a scalar or an empty container; `None` for a container with
/// items.
fn clone_leaf(value: &Value) -> Option<Value> {
    Some(match value {
        Value::Null => Value::Null,
        Value::Undefined => Value::Undefined,
        Value::Bool(b) => Value::Bool(*b),
        Value::Integer(n) => Value::Integer(*n),
        Value::Float(x) => Value::Float(*x),
        Value::Text(s) => Value::Text(s.clone()),
        Value::Bytes(b) => Value::Bytes(b.clone()),
        Value::Simple(n) => Value::Simple(*n),
        Value::Array(items) if items.is_empty() => Value::Array(Vec::new()),
        Value::Map(entries) if entries.is_empty() => Value::Map(Vec::new()),
        Value::Array(_) | Value::Map(_) | Value::Tag(..) => return None,
    })
}

fn clone_shallow(value: &Value) -> Value {
    clone_leaf(value).unwrap_or(Value::Null)
}

impl PartialEq for Value {
    /// Structural equality: same variants, same scalars (`Float` with `==`,
    /// so `NaN != NaN`), same lengths, item by item. Needs a small, constant
    /// amount of stack at any depth.
    fn eq(&self, other: &Value) -> bool {
        // Two pre-order walks with container lengths describe two trees
        // exactly, so comparing them item by item compares the trees.
        if !same_item(self, other) {
            return false;
        }
        if is_leaf(self) {
            return true;
        }
        let mut left = Preorder::new(self);
        let mut right = Preorder::new(other);
        loop {
            match (left.next(), right.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if same_item(a, b) => {}
                _ => return false,
            }
        }
    }
}

fn is_leaf(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Map(_) | Value::Tag(..))
}

/// Whether `a` and `b` are equal as one item: scalars by value, containers
/// by kind, length and tag number (their items are compared by the walk).
fn same_item(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) | (Value::Undefined, Value::Undefined) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Integer(x), Value::Integer(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Text(x), Value::Text(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Simple(x), Value::Simple(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len(),
        (Value::Map(x), Value::Map(y)) => x.len() == y.len(),
        (Value::Tag(x, _), Value::Tag(y, _)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use alloc::boxed::Box;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::Value;

    fn sample() -> Value {
        Value::Array(vec![
            Value::from(1),
            Value::Map(vec![
                (
                    Value::Array(vec![Value::from("k")]),
                    Value::Tag(9, Box::new(Value::from(2.5))),
                ),
                (Value::Null, Value::Array(Vec::new())),
            ]),
            Value::Map(Vec::new()),
            Value::Bytes(vec![1, 2]),
        ])
    }

    #[test]
    fn clone_is_equal_item_for_item() {
        let value = sample();
        let copy = value.clone();
        assert_eq!(copy.to_cbor(), value.to_cbor());
        assert!(copy == value);
        for leaf in [Value::Null, Value::from("x"), Value::Array(Vec::new())] {
            assert_eq!(leaf.clone().to_cbor(), leaf.to_cbor());
        }
    }

    #[test]
    fn any_difference_in_shape_or_scalar_is_unequal() {
        let base = sample();
        let variants = [
            Value::Array(vec![Value::from(1)]),
            Value::Array(vec![
                Value::from(1),
                Value::Map(Vec::new()),
                Value::Map(Vec::new()),
                Value::Bytes(vec![1, 2]),
            ]),
            {
                // Same shape, one scalar deep inside differs.
                let mut v = sample();
                if let Value::Array(items) = &mut v
                    && let Value::Map(entries) = &mut items[1]
                {
                    entries[0].1 = Value::Tag(9, Box::new(Value::from(2.25)));
                }
                v
            },
            {
                // The tag number differs.
                let mut v = sample();
                if let Value::Array(items) = &mut v
                    && let Value::Map(entries) = &mut items[1]
                {
                    entries[0].1 = Value::Tag(8, Box::new(Value::from(2.5)));
                }
                v
            },
        ];
        for other in &variants {
            assert!(base != *other, "{other}");
            assert!(*other != base, "{other}");
        }
        assert!(Value::Float(f64::NAN) != Value::Float(f64::NAN));
        assert!(Value::Float(0.0) == Value::Float(-0.0));
        assert!(Value::from(1) != Value::from(1.0));
    }
}

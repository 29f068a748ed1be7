//! Subjects and key-value keys: every name the bridge puts on the wire,
//! built in this one file from the namespace (the Lens's name), the table
//! and the row id.
//!
//! NATS subject tokens may not hold `.`, `*`, `>` or white space, and KV
//! keys allow only `[-/_=.a-zA-Z0-9]`; so every part is escaped the same
//! way: `[A-Za-z0-9_-]` stay, every other byte becomes `=XX` (hex). The
//! escape is injective, so two ids never share a key.

use std::fmt::Write;

/// `part` with every byte outside `[A-Za-z0-9_-]` written as `=XX`.
pub(crate) fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "={byte:02X}");
        }
    }
    if out.is_empty() {
        // An empty token is not allowed; "=" alone is no escape of anything.
        out.push('=');
    }
    out
}

/// Where one namespace's tables live on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    /// The subject prefix of the stream (`diorama` by default).
    prefix: String,
    /// The escaped namespace.
    namespace: String,
}

impl Names {
    pub(crate) fn new(prefix: &str, namespace: &str) -> Self {
        Names {
            prefix: escape(prefix),
            namespace: escape(namespace),
        }
    }

    /// The subjects the stream must hold: every table of every namespace
    /// under the prefix.
    pub(crate) fn stream_subjects(&self) -> String {
        format!("{}.>", self.prefix)
    }

    /// The subject of the changes of `table`.
    pub(crate) fn changes(&self, table: &str) -> String {
        format!("{}.{}.{}", self.prefix, self.namespace, escape(table))
    }

    /// The shared-tier key of row `id` of `table`.
    pub(crate) fn row_key(&self, table: &str, id: &str) -> String {
        format!("r.{}.{}.{}", self.namespace, escape(table), escape(id))
    }

    /// The prefix of every row key of `table` (a reset drops them all).
    pub(crate) fn row_prefix(&self, table: &str) -> String {
        format!("r.{}.{}.", self.namespace, escape(table))
    }

    /// The shared-tier key of one window of a query of `table`, as read by
    /// a replica that had read the change stream made at `epoch` up to
    /// `position`.
    pub(crate) fn chunk_key(
        &self,
        table: &str,
        (epoch, position): (u64, u64),
        query_key: &str,
        offset: usize,
        limit: usize,
    ) -> String {
        format!(
            "c.{}.{}.{epoch}.{position}.{offset}.{limit}.{}",
            self.namespace,
            escape(table),
            escape(query_key)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_safe_bytes_and_is_injective() {
        assert_eq!(escape("p0000042"), "p0000042");
        assert_eq!(escape("a.b"), "a=2Eb");
        assert_eq!(escape("a=2Eb"), "a=3D2Eb");
        assert_eq!(escape(""), "=");
        assert_eq!(escape("é"), "=C3=A9");
        assert_ne!(escape("a b"), escape("a_b"));
    }

    #[test]
    fn subjects_and_keys_are_per_namespace_and_table() {
        let names = Names::new("diorama", "shop");
        assert_eq!(names.changes("products"), "diorama.shop.products");
        assert_eq!(names.stream_subjects(), "diorama.>");
        assert_eq!(names.row_key("products", "p.1"), "r.shop.products.p=2E1");
        assert!(
            names
                .row_key("products", "p1")
                .starts_with(&names.row_prefix("products"))
        );
        let other = Names::new("diorama", "shop2");
        assert_ne!(names.changes("t"), other.changes("t"));
        let key = names.chunk_key("products", (3, 7), "q1|o+\"price\"", 0, 100);
        assert_eq!(key, "c.shop.products.3.7.0.100.q1=7Co=2B=22price=22");
    }
}

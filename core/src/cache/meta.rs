//! The layout of a Dio's cache-table meta space: every key Diorama keeps
//! beside the rows, named in this one file.
//!
//! | key | value | kept by |
//! |---|---|---|
//! | [`INVALIDATED_AT`] | u64 BE wall-clock millis of the last wholesale invalidation | `dio` (refresh, `invalidate_all`) |
//! | [`ANSWERED`] ‖ query key | `1`: `on_query` answered this query | `dio` (answered queries) |
//! | [`POSITIONS`] ‖ len(query key) u32 BE ‖ query key ‖ block u64 BE | the ids of one block of indices | `scenery` (persisted positions) |
//! | [`EXTENTS`] ‖ query key | the view's extent (stated total, end, known rows) | `scenery` (persisted positions) |
//! | [`FEED_POSITIONS`] ‖ feed name | the [`FeedPosition`](crate::vista::FeedPosition) bytes applied up to | `dio` (change-feed followers) |
//! | [`OUTBOX`] ‖ run u64 BE ‖ seq u64 BE | one write intent not yet confirmed (`dio::intent`) | `dio` (durable writes) |
//! | [`WRITE_RUN`] | u64 BE: the run number of the last opening that queued a write | `dio` (durable writes) |
//! | [`ROLLBACK_SEEN`] | u64 BE: the flush sequence of the rollback whose outbox was discarded | `dio` (durable writes) |
//!
//! Values are encoded by their keepers; this file owns only the keys.
//!
//! # Adding a key
//! Give it a constant here (a whole key, or a prefix ending in `/` for a
//! family of keys), add it to [`ALL`], and build its keys with a function
//! here; the keepers call those functions and never spell bytes themselves.
//! The test below refuses a key that is a prefix of another: deleting one
//! family by prefix (`CacheBatch::meta_delete_prefix`) must never erase
//! another's entries.

use alloc::vec::Vec;

/// Whole key: when this table was last invalidated wholesale.
pub(crate) const INVALIDATED_AT: &[u8] = b"i";

/// Prefix: the queries `on_query` has answered (deleted wholesale by an
/// invalidation).
pub(crate) const ANSWERED: &[u8] = b"q/";

/// Prefix: persisted index → id positions, per query, in blocks.
pub(crate) const POSITIONS: &[u8] = b"p/";

/// Prefix: the persisted extent (total, end) of each query.
pub(crate) const EXTENTS: &[u8] = b"t/";

/// Prefix: the position each followed change feed has been applied up to.
pub(crate) const FEED_POSITIONS: &[u8] = b"f/";

/// Prefix: the outbox, one entry per write intent not yet confirmed, in
/// queue order (run, then sequence).
pub(crate) const OUTBOX: &[u8] = b"w/";

/// Whole key: the run number idempotency keys were last issued under.
pub(crate) const WRITE_RUN: &[u8] = b"r";

/// Whole key: the rollback (by the flush sequence its store resumed from)
/// whose older outbox a Dio already discarded, so a later opening under
/// the same report keeps what was queued since.
pub(crate) const ROLLBACK_SEEN: &[u8] = b"b";

/// Every key and prefix above; none may be a prefix of another (checked by
/// the test below).
#[cfg(test)]
pub(crate) const ALL: [&[u8]; 8] = [
    INVALIDATED_AT,
    ANSWERED,
    POSITIONS,
    EXTENTS,
    FEED_POSITIONS,
    OUTBOX,
    WRITE_RUN,
    ROLLBACK_SEEN,
];

fn joined(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let len = prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut key = Vec::with_capacity(len);
    key.extend_from_slice(prefix);
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// The key marking `query_key` as answered by `on_query`.
pub(crate) fn answered(query_key: &str) -> Vec<u8> {
    joined(ANSWERED, &[query_key.as_bytes()])
}

/// The prefix of every position block of `query_key`. The length in front
/// keeps one query's blocks from sharing a prefix with another's.
pub(crate) fn positions(query_key: &str) -> Vec<u8> {
    let len = u32::try_from(query_key.len()).unwrap_or(u32::MAX);
    joined(POSITIONS, &[&len.to_be_bytes(), query_key.as_bytes()])
}

/// The key of block `block` under a query's `positions` prefix. Big-endian
/// block numbers make a range of blocks a contiguous key range.
pub(crate) fn position_block(positions: &[u8], block: u64) -> Vec<u8> {
    joined(positions, &[&block.to_be_bytes()])
}

/// The block number of a key built by [`position_block`] under `positions`.
pub(crate) fn block_of(positions: &[u8], key: &[u8]) -> Option<u64> {
    let rest = key.strip_prefix(positions)?;
    <[u8; 8]>::try_from(rest).ok().map(u64::from_be_bytes)
}

/// The key of the stored position of the change feed named `feed`.
pub(crate) fn feed_position(feed: &str) -> Vec<u8> {
    joined(FEED_POSITIONS, &[feed.as_bytes()])
}

/// The key of the extent of `query_key`.
pub(crate) fn extent(query_key: &str) -> Vec<u8> {
    joined(EXTENTS, &[query_key.as_bytes()])
}

/// The key of the intent of write `seq` of run `run`.
pub(crate) fn outbox(run: u64, seq: u64) -> Vec<u8> {
    joined(OUTBOX, &[&run.to_be_bytes(), &seq.to_be_bytes()])
}

/// The end (exclusive) of the outbox's key range.
pub(crate) fn outbox_end() -> Vec<u8> {
    alloc::vec![b'w', b'/' + 1]
}

/// The run and sequence of a key built by [`outbox`].
pub(crate) fn outbox_key_parts(key: &[u8]) -> Option<(u64, u64)> {
    let rest = key.strip_prefix(OUTBOX)?;
    let run = <[u8; 8]>::try_from(rest.get(..8)?).ok()?;
    let seq = <[u8; 8]>::try_from(rest.get(8..)?).ok()?;
    Some((u64::from_be_bytes(run), u64::from_be_bytes(seq)))
}

/// The value stored under [`INVALIDATED_AT`].
pub(crate) fn encode_millis(millis: u64) -> Vec<u8> {
    millis.to_be_bytes().to_vec()
}

/// The millis stored under [`INVALIDATED_AT`]; `None` when malformed.
pub(crate) fn decode_millis(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_a_prefix_of_another() {
        for (i, a) in ALL.iter().enumerate() {
            for (j, b) in ALL.iter().enumerate() {
                assert!(
                    i == j || !b.starts_with(a),
                    "meta key {a:?} is a prefix of {b:?}"
                );
            }
        }
    }

    #[test]
    fn keys_stay_in_their_family() {
        assert!(answered("x").starts_with(ANSWERED));
        assert!(extent("x").starts_with(EXTENTS));
        let prefix = positions("x");
        assert!(prefix.starts_with(POSITIONS));
        // "x" and "xy" never share a block prefix.
        assert!(!positions("xy").starts_with(&prefix));
        let key = position_block(&prefix, 7);
        assert_eq!(block_of(&prefix, &key), Some(7));
        assert_eq!(block_of(&positions("y"), &key), None);
        assert_eq!(decode_millis(&encode_millis(42)), Some(42));
        assert_eq!(decode_millis(b"short"), None);
        let intent = outbox(2, 9);
        assert!(intent.starts_with(OUTBOX) && intent.as_slice() < outbox_end().as_slice());
        assert_eq!(outbox_key_parts(&intent), Some((2, 9)));
        assert!(outbox(2, 9) < outbox(2, 10) && outbox(2, u64::MAX) < outbox(3, 0));
        assert_eq!(outbox_key_parts(b"w/12345"), None);
    }
}

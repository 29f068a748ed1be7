//! Positions of the PostgreSQL feed: which change log (its oid, so a log
//! dropped and created anew is told apart) and the sequence applied up to.

use diorama_core::vista::FeedPosition;

/// The bytes every position starts with (format 1).
const TAG: &[u8; 3] = b"pg1";

/// A position in one change log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogPosition {
    /// The log table's oid.
    pub(crate) log: u32,
    /// The last sequence applied (0: before the first entry).
    pub(crate) seq: u64,
}

impl LogPosition {
    /// As opaque feed bytes: the tag, the oid, the sequence (big-endian).
    pub(crate) fn encode(self) -> FeedPosition {
        let mut bytes = Vec::with_capacity(15);
        bytes.extend_from_slice(TAG);
        bytes.extend_from_slice(&self.log.to_be_bytes());
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        FeedPosition(bytes)
    }

    /// The position `encode` wrote; `None` for bytes of any other shape (a
    /// position of another feed, or a corrupt one).
    pub(crate) fn decode(position: &FeedPosition) -> Option<LogPosition> {
        let bytes = position.0.as_slice();
        if bytes.len() != 15 || &bytes[..3] != TAG {
            return None;
        }
        let log = u32::from_be_bytes(bytes[3..7].try_into().ok()?);
        let seq = u64::from_be_bytes(bytes[7..15].try_into().ok()?);
        Some(LogPosition { log, seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_foreign_bytes_are_refused() {
        let at = LogPosition {
            log: 16_384,
            seq: 42,
        };
        assert_eq!(LogPosition::decode(&at.encode()), Some(at));
        assert_eq!(LogPosition::decode(&FeedPosition::from_u64(42)), None);
        assert_eq!(
            LogPosition::decode(&FeedPosition(b"pg1short".to_vec())),
            None
        );
    }
}

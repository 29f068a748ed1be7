//! The composite feed position: where each part's feed has got to.
//!
//! Format (version 1): the byte `1`, then for the bottom part and then the
//! top part either `0` (no position yet) or `1`, an eight-byte big-endian
//! length and that many bytes of the part's own position. Hand-written
//! because it is two length-prefixed fields: a codec crate would add more
//! than it saves.

use alloc::vec::Vec;

use crate::vista::FeedPosition;

const VERSION: u8 = 1;

/// Each part's position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Positions {
    pub(super) bottom: Option<FeedPosition>,
    pub(super) top: Option<FeedPosition>,
}

impl Positions {
    /// The composite position of both.
    pub(super) fn encode(&self) -> FeedPosition {
        let mut bytes = Vec::with_capacity(
            3 + self.bottom.as_ref().map_or(0, |p| 8 + p.0.len())
                + self.top.as_ref().map_or(0, |p| 8 + p.0.len()),
        );
        bytes.push(VERSION);
        for part in [&self.bottom, &self.top] {
            match part {
                None => bytes.push(0),
                Some(position) => {
                    bytes.push(1);
                    bytes.extend_from_slice(&(position.0.len() as u64).to_be_bytes());
                    bytes.extend_from_slice(&position.0);
                }
            }
        }
        FeedPosition(bytes)
    }

    /// The positions in `position`; `None` when it is not one this module
    /// wrote (another version, truncated, trailing bytes).
    pub(super) fn decode(position: &FeedPosition) -> Option<Positions> {
        let (&version, mut rest) = position.0.split_first()?;
        if version != VERSION {
            return None;
        }
        let mut part = || -> Option<Option<FeedPosition>> {
            let (&present, after) = rest.split_first()?;
            rest = after;
            match present {
                0 => Some(None),
                1 => {
                    let (len, after) = rest.split_at_checked(8)?;
                    let len = usize::try_from(u64::from_be_bytes(len.try_into().ok()?)).ok()?;
                    let (bytes, after) = after.split_at_checked(len)?;
                    rest = after;
                    Some(Some(FeedPosition(bytes.to_vec())))
                }
                _ => None,
            }
        };
        let bottom = part()?;
        let top = part()?;
        rest.is_empty().then_some(Positions { bottom, top })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_bad_bytes_are_refused() {
        let cases = [
            Positions::default(),
            Positions {
                bottom: Some(FeedPosition::from_u64(7)),
                top: None,
            },
            Positions {
                bottom: Some(FeedPosition(Vec::new())),
                top: Some(FeedPosition(alloc::vec![1, 2, 3])),
            },
        ];
        for case in cases {
            let encoded = case.encode();
            assert_eq!(Positions::decode(&encoded), Some(case.clone()));
            let mut longer = encoded.clone();
            longer.0.push(0);
            assert_eq!(Positions::decode(&longer), None, "trailing bytes");
            for cut in 0..encoded.0.len() {
                let short = FeedPosition(encoded.0[..cut].to_vec());
                assert_eq!(Positions::decode(&short), None, "cut at {cut}");
            }
        }
        assert_eq!(Positions::decode(&FeedPosition(alloc::vec![2, 0, 0])), None);
        assert_eq!(Positions::decode(&FeedPosition(alloc::vec![1, 3, 0])), None);
    }
}

//! Checksummed values: every value the sled backend stores carries a CRC-32
//! of its key and payload, so damage reads as "unreadable", never as a
//! different, plausible value.
//!
//! Stored form: `crc32(key ‖ payload)` as 4 bytes big-endian, then the
//! payload. The key is covered too, so a value found under the wrong key
//! (a damaged key, or a misplaced page) fails the check as well.

use diorama_core::error::{Error, Result};

/// Bytes the checksum adds in front of every stored value.
pub(crate) const SEAL_LEN: usize = 4;

fn checksum(key: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(key);
    hasher.update(payload);
    hasher.finalize()
}

/// `payload` sealed for storage under `key`.
pub(crate) fn seal(key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut stored = Vec::with_capacity(SEAL_LEN + payload.len());
    stored.extend_from_slice(&checksum(key, payload).to_be_bytes());
    stored.extend_from_slice(payload);
    stored
}

/// Start a sealed value in `buf` (cleared): room for the checksum, which
/// [`finish_seal`] fills in once the payload has been appended.
pub(crate) fn begin_seal(buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(&[0; SEAL_LEN]);
}

/// Complete a value begun with [`begin_seal`] for storage under `key`.
pub(crate) fn finish_seal(buf: &mut [u8], key: &[u8]) {
    if buf.len() < SEAL_LEN {
        return;
    }
    let (head, payload) = buf.split_at_mut(SEAL_LEN);
    head.copy_from_slice(&checksum(key, payload).to_be_bytes());
}

/// The payload of a value stored under `key`, or a `Corrupt` error when it
/// is too short or its checksum does not match.
pub(crate) fn unseal<'a>(key: &[u8], stored: &'a [u8]) -> Result<&'a [u8]> {
    let Some((head, payload)) = stored.split_first_chunk::<SEAL_LEN>() else {
        return Err(Error::corrupt(format!(
            "stored value of {} byte(s) is shorter than its checksum",
            stored.len()
        )));
    };
    let found = u32::from_be_bytes(*head);
    let expected = checksum(key, payload);
    if found != expected {
        return Err(Error::corrupt(format!(
            "checksum mismatch (stored {found:08x}, computed {expected:08x})"
        )));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_unseals_under_its_own_key_only() {
        let stored = seal(b"k1", b"payload");
        assert_eq!(unseal(b"k1", &stored), Ok(&b"payload"[..]));
        assert!(unseal(b"k2", &stored).is_err(), "another key");
        let mut built = Vec::new();
        begin_seal(&mut built);
        built.extend_from_slice(b"payload");
        finish_seal(&mut built, b"k1");
        assert_eq!(built, stored);
    }

    #[test]
    fn every_single_bit_flip_and_truncation_is_detected() {
        let stored = seal(b"\x01row", b"\x02some row bytes");
        for bit in 0..stored.len() * 8 {
            let mut damaged = stored.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(unseal(b"\x01row", &damaged).is_err(), "bit {bit}");
        }
        for len in 0..stored.len() {
            assert!(unseal(b"\x01row", &stored[..len]).is_err(), "length {len}");
        }
        assert!(unseal(b"", b"").unwrap_err().message().contains("shorter"));
    }
}

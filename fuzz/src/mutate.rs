//! Byte-level mutations that know CBOR's shape: heads of every major type,
//! breaks, huge announced lengths, extra nesting, splices from other
//! corpus entries.

use fastrand::Rng;

/// Initial bytes worth trying anywhere: every major type's small, 1-, 2-,
/// 4- and 8-byte and reserved heads, indefinite openers, break, floats.
const INTERESTING: [u8; 32] = [
    0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x38, 0x3f, 0x40, 0x5b, 0x5f, 0x60,
    0x7b, 0x7f, 0x80, 0x9b, 0x9f, 0xa0, 0xbb, 0xbf, 0xc0, 0xd8, 0xe0, 0xf6, 0xf8, 0xf9, 0xfb, 0xff,
];

/// Mutate `bytes` in place with one to four random operations; `corpus`
/// supplies material for splices.
pub(crate) fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng, corpus: &[Vec<u8>]) {
    for _ in 0..rng.usize(1..=4) {
        mutate_once(bytes, rng, corpus);
    }
}

fn mutate_once(bytes: &mut Vec<u8>, rng: &mut Rng, corpus: &[Vec<u8>]) {
    let len = bytes.len();
    let at = |rng: &mut Rng| rng.usize(0..=len);
    match rng.u8(0..11) {
        0 if len > 0 => {
            let i = rng.usize(0..len);
            bytes[i] ^= 1 << rng.u8(0..8);
        }
        1 if len > 0 => {
            let i = rng.usize(0..len);
            bytes[i] = INTERESTING[rng.usize(0..INTERESTING.len())];
        }
        2 => {
            let byte = if rng.bool() {
                rng.u8(..)
            } else {
                INTERESTING[rng.usize(0..INTERESTING.len())]
            };
            bytes.insert(at(rng), byte);
        }
        3 if len > 0 => {
            let start = rng.usize(0..len);
            let end = (start + rng.usize(1..=4)).min(len);
            bytes.drain(start..end);
        }
        4 if len > 0 => {
            let start = rng.usize(0..len);
            let end = (start + rng.usize(1..=8)).min(len);
            let copy = bytes[start..end].to_vec();
            let to = at(rng);
            bytes.splice(to..to, copy);
        }
        5 => bytes.truncate(at(rng)),
        6 if !corpus.is_empty() => {
            let other = &corpus[rng.usize(0..corpus.len())];
            if !other.is_empty() {
                let start = rng.usize(0..other.len());
                let end = (start + rng.usize(1..=16)).min(other.len());
                let to = at(rng);
                let replaced = (to + rng.usize(0..=4)).min(len);
                bytes.splice(to..replaced, other[start..end].iter().copied());
            }
        }
        7 => {
            // A string, array or map announcing a gigantic length.
            let head = [0x5b, 0x7b, 0x9b, 0xbb][rng.usize(0..4)];
            let mut arg = [0xff; 8];
            arg[0] = rng.u8(..);
            let to = at(rng);
            bytes.splice(to..to, std::iter::once(head).chain(arg));
        }
        8 => {
            // More nesting around what follows.
            let opener = [0x81, 0xa1, 0xc6, 0x9f][rng.usize(0..4)];
            let levels = if rng.u8(0..8) == 0 {
                rng.usize(50..80)
            } else {
                rng.usize(1..4)
            };
            let to = at(rng);
            bytes.splice(to..to, std::iter::repeat_n(opener, levels));
            if opener == 0x9f {
                bytes.extend(std::iter::repeat_n(0xff, levels));
            }
        }
        9 if len > 1 => {
            let (i, j) = (rng.usize(0..len), rng.usize(0..len));
            bytes.swap(i, j);
        }
        _ if len > 0 => {
            // Overwrite a run with random bytes.
            let start = rng.usize(0..len);
            let end = (start + rng.usize(1..=8)).min(len);
            rng.fill(&mut bytes[start..end]);
        }
        _ => bytes.push(rng.u8(..)),
    }
}

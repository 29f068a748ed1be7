//! The properties each input is checked against. Every check returns
//! `Err(description)` on a broken property; a panic inside the code under
//! test is caught by the campaign and reported the same way.
//!
//! 1. Decoding never panics and never aborts (the campaign runs on a small
//!    stack, so runaway recursion would abort the process).
//! 2. decode ∘ encode round-trips what the decoder accepts: the accepted
//!    value re-encodes (canonically) to bytes that decode to a value with
//!    the same canonical encoding.
//! 3. Every well-formed encoding of a value within the depth bound decodes
//!    to that value; one beyond it is rejected as too deep.
//! 4. The record decoder agrees with the value decoder.
//! 5. The sled row codec has the same properties over (key, stored bytes).

use diorama_core::cache::CachedRow;
use diorama_core::value::{MAX_DEPTH, Record, Value};
use diorama_std::fuzzing;

/// Bytes as lower-case hex, for failure reports.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Check arbitrary bytes as a `Value` and a `Record`; returns whether the
/// value decoder accepted them.
pub(crate) fn value_bytes(bytes: &[u8]) -> Result<bool, String> {
    let value = Value::from_cbor(bytes);
    let record = Record::from_cbor(bytes);
    let Ok(value) = value else {
        if record.is_ok() {
            return Err("the record decoder accepted what the value decoder refused".into());
        }
        return Ok(false);
    };
    let canonical = value.to_cbor();
    let again = Value::from_cbor(&canonical)
        .map_err(|e| format!("re-encoding of an accepted value does not decode: {e}"))?;
    if again.to_cbor() != canonical {
        return Err(format!(
            "decode ∘ encode is not a fixpoint: {} then {}",
            hex(&canonical),
            hex(&again.to_cbor())
        ));
    }
    if let Ok(record) = record {
        let text_keyed = matches!(&value, Value::Map(entries)
            if entries.iter().all(|(k, _)| matches!(k, Value::Text(_))));
        if !text_keyed {
            return Err("the record decoder accepted a value that is not a text-keyed map".into());
        }
        if record.to_cbor() != canonical {
            return Err("a record re-encodes differently from the same map as a value".into());
        }
        let again = Record::from_cbor(&canonical)
            .map_err(|e| format!("re-encoding of an accepted record does not decode: {e}"))?;
        // Compared by encoding, not `==`: a record holding a NaN is never
        // `==` itself (`Value::Float` compares as f64 does), while its bits
        // (the payload included) must survive.
        if again.to_cbor() != canonical {
            return Err("decode ∘ encode changed a record".into());
        }
    }
    Ok(true)
}

/// The most containers enclosing any item of `value` (what the decoder
/// bounds by `MAX_DEPTH`).
pub(crate) fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((item, level)) = stack.pop() {
        deepest = deepest.max(level);
        match item {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, level + 1))),
            Value::Map(entries) => {
                for (k, v) in entries {
                    stack.push((k, level + 1));
                    stack.push((v, level + 1));
                }
            }
            Value::Tag(_, inner) => stack.push((inner, level + 1)),
            _ => {}
        }
    }
    deepest
}

/// Check that `encoding`, a well-formed encoding of `value`, decodes to it
/// (or is refused as too deep when `value` exceeds the bound).
pub(crate) fn valid_encoding(value: &Value, encoding: &[u8]) -> Result<(), String> {
    let decoded = Value::from_cbor(encoding);
    if depth(value) > MAX_DEPTH {
        return match decoded {
            Err(e) if e.message().contains("maximum depth") => Ok(()),
            Err(e) => Err(format!("too deep, but refused for another reason: {e}")),
            Ok(_) => Err(format!("accepted a value deeper than {MAX_DEPTH}")),
        };
    }
    let decoded = decoded.map_err(|e| format!("a well-formed encoding was refused: {e}"))?;
    if decoded.to_cbor() != value.to_cbor() {
        return Err(format!(
            "decoded to another value: expected {}, got {}",
            hex(&value.to_cbor()),
            hex(&decoded.to_cbor())
        ));
    }
    Ok(())
}

fn same_row(a: &CachedRow, b: &CachedRow) -> bool {
    a.state == b.state && a.fetched_at == b.fetched_at && a.record.to_cbor() == b.record.to_cbor()
}

/// Check a stored row's bytes under `key`; returns whether it decoded.
pub(crate) fn row_bytes(key: &[u8], stored: &[u8]) -> Result<bool, String> {
    let Ok((row, epoch)) = fuzzing::decode_row(key, stored) else {
        return Ok(false);
    };
    let encoded = fuzzing::encode_row(key, &row, epoch);
    let (again, again_epoch) = fuzzing::decode_row(key, &encoded)
        .map_err(|e| format!("re-encoding of an accepted row does not decode: {e}"))?;
    if again_epoch != epoch || !same_row(&again, &row) {
        return Err("decode ∘ encode changed a row".into());
    }
    if fuzzing::encode_row(key, &again, again_epoch) != encoded {
        return Err("row encoding is not a fixpoint".into());
    }
    Ok(true)
}

/// Check that a row the codec wrote reads back whole, and that any other
/// key refuses it.
pub(crate) fn row_round_trip(key: &[u8], row: &CachedRow, epoch: u64) -> Result<(), String> {
    let stored = fuzzing::encode_row(key, row, epoch);
    let (decoded, decoded_epoch) = fuzzing::decode_row(key, &stored)
        .map_err(|e| format!("a row the codec wrote does not decode: {e}"))?;
    if decoded_epoch != epoch || !same_row(&decoded, row) {
        return Err("a written row read back differently".into());
    }
    let mut other = key.to_vec();
    other.push(b'!');
    if fuzzing::decode_row(&other, &stored).is_ok() {
        return Err("a row decoded under another key (checksum ignored the key)".into());
    }
    Ok(())
}

/// Check the other stored-entry decoders (meta, counters, the marker) on
/// arbitrary bytes: no panic, and what they accept re-encodes.
pub(crate) fn stored_bytes(bytes: &[u8]) -> Result<(), String> {
    let key = b"\x02meta";
    if let Ok(meta) = fuzzing::decode_meta(key, bytes)
        && fuzzing::seal(key, &meta) != bytes
    {
        return Err("an accepted meta value re-seals differently".into());
    }
    if let Ok(n) = fuzzing::decode_u64(b"\x00count", bytes)
        && fuzzing::seal(b"\x00count", &n.to_be_bytes()) != bytes
    {
        return Err("an accepted counter re-seals differently".into());
    }
    if let Some(flush) = fuzzing::decode_marker(bytes)
        && fuzzing::encode_marker(flush) != bytes
    {
        return Err("an accepted marker re-encodes differently".into());
    }
    block_bytes(bytes)
}

/// Check the row-block decoder on arbitrary bytes (under the key of an
/// empty first id): no panic, and a block whose rows all decode reads back
/// the same rows once re-encoded.
fn block_bytes(bytes: &[u8]) -> Result<(), String> {
    let key = b"\x01";
    let Ok(entries) = fuzzing::decode_block(key, bytes) else {
        return Ok(());
    };
    let Ok(rows) = entries
        .iter()
        .map(|(id, row)| {
            row.as_ref()
                .map(|(row, epoch)| (id.as_slice(), row, *epoch))
        })
        .collect::<Result<Vec<_>, _>>()
    else {
        return Ok(());
    };
    let encoded = fuzzing::encode_block(&rows);
    let again = fuzzing::decode_block(key, &encoded)
        .map_err(|e| format!("re-encoding of an accepted block does not decode: {e}"))?;
    let same = again.len() == rows.len()
        && again
            .iter()
            .zip(&rows)
            .all(|((id, row), (want_id, want, epoch))| {
                id.as_slice() == *want_id
                    && row
                        .as_ref()
                        .is_ok_and(|(row, e)| e == epoch && same_row(row, want))
            });
    if !same {
        return Err("decode ∘ encode changed a block".into());
    }
    Ok(())
}

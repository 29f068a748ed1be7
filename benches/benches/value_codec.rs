//! CBOR codec of one realistic 10-field row: `Record::to_cbor`,
//! `Record::from_cbor` and both in a row.
//!
//! Measured (2-core AMD EPYC VM, other builds running, bench at nice -20):
//! encode 0.61 µs, decode 1.54 µs, encode + decode 2.20 µs per 197-byte
//! row (criterion point estimates), i.e. ≈ 1.6M rows/s encoded and ≈ 650k rows/s
//! decoded on one core. Decoding is bound by its ~17 allocations (every
//! field name and text is an owned `String`).
//!
//! Run: `cargo bench -p diorama-benches --bench value_codec -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diorama_core::record;
use diorama_core::value::{Record, Value};

/// A product row as a shop's master might send it: ids, text, a price that
/// needs a double, a small count, a flag, a short tag list, a timestamp tag,
/// a null and a small binary thumbnail hash.
fn product() -> Record {
    record! {
        "id" => 48_213_u64,
        "sku" => "LMP-0042-BRS",
        "name" => "Brass desk lamp, adjustable arm",
        "price" => 49.99,
        "stock" => 17,
        "active" => true,
        "tags" => Value::Array(vec!["lighting".into(), "desk".into(), "brass".into()]),
        "updated_at" => Value::Tag(1, Box::new(Value::from(1_767_225_600_u64))),
        "discontinued_at" => Value::Null,
        "thumb_hash" => (0u8..32).map(|b| b.wrapping_mul(37)).collect::<Vec<u8>>(),
    }
}

fn value_codec(c: &mut Criterion) {
    let row = product();
    let bytes = row.to_cbor();
    let mut group = c.benchmark_group("value_codec/record10");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("encode", |b| b.iter(|| black_box(&row).to_cbor()));
    group.bench_function("decode", |b| {
        b.iter(|| Record::from_cbor(black_box(&bytes)).expect("decodes"))
    });
    group.bench_function("encode+decode", |b| {
        b.iter(|| Record::from_cbor(&black_box(&row).to_cbor()).expect("decodes"))
    });
    group.finish();
}

criterion_group!(benches, value_codec);
criterion_main!(benches);

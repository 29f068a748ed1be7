//! Running a fuzzing campaign: a seeded stream of inputs drawn from a
//! growing corpus, each checked against the properties in `targets`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use fastrand::Rng;

use crate::targets::{self, hex};
use crate::{alt, generate, mutate};

/// The most corpus entries kept per target.
const CORPUS_LIMIT: usize = 4096;

/// Well-formed items from RFC 8949 Appendix A (and a few hostile ones) to
/// start the value corpus from.
const SEEDS: [&[u8]; 16] = [
    &[0x00],
    &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[0xf9, 0x7e, 0x00],
    &[0xfa, 0x47, 0xc3, 0x50, 0x00],
    &[0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
    &[
        0x7f, 0x65, b's', b't', b'r', b'e', b'a', 0x64, b'm', b'i', b'n', b'g', 0xff,
    ],
    &[0x5f, 0x42, 0x01, 0x02, 0x43, 0x03, 0x04, 0x05, 0xff],
    &[0x83, 0x01, 0x82, 0x02, 0x03, 0x82, 0x04, 0x05],
    &[0x9f, 0x01, 0x82, 0x02, 0x03, 0x9f, 0x04, 0x05, 0xff, 0xff],
    &[0xa2, 0x61, b'a', 0x01, 0x61, b'b', 0x82, 0x02, 0x03],
    &[
        0xbf, 0x61, b'a', 0x01, 0x61, b'b', 0x9f, 0x02, 0x03, 0xff, 0xff,
    ],
    &[0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0],
    &[0xd8, 0x20, 0x63, b'x', b'y', b'z'],
    &[0xf8, 0xff],
    &[0xa1, 0x61, b'a', 0xa1, 0x61, b'a', 0x01],
];

/// What the campaign checks next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Mutated bytes into the `Value` and `Record` decoders.
    Value,
    /// A generated value in a random well-formed encoding.
    Encoding,
    /// A mutated row payload, re-sealed so it passes the checksum, into
    /// the sled row codec.
    Row,
    /// Mutated stored bytes (checksum and all) into the row, meta,
    /// counter and marker decoders.
    Stored,
}

/// A campaign that ran to the end.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Inputs checked.
    pub inputs: u64,
    /// Of those, inputs a decoder accepted.
    pub accepted: u64,
    /// Inputs per target: value, encoding, row, stored.
    pub per_target: [u64; 4],
    /// Accepted inputs per target, in the same order.
    pub accepted_per_target: [u64; 4],
    /// Corpus sizes at the end: values, row payloads.
    pub corpus: (usize, usize),
    /// Wall time taken.
    pub elapsed: Duration,
}

impl Summary {
    /// Inputs per second.
    pub fn throughput(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A broken property, with what replays it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The campaign's seed.
    pub seed: u64,
    /// The failing input's number in the campaign (from 0).
    pub index: u64,
    /// What was being checked.
    pub target: Target,
    /// The tree key, for row inputs.
    pub key: Vec<u8>,
    /// The input.
    pub input: Vec<u8>,
    /// What went wrong (or the panic's message).
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} input #{} of seed {} broke a property: {}\n  input: {}",
            self.target,
            self.index,
            self.seed,
            self.message,
            hex(&self.input)
        )?;
        if !self.key.is_empty() {
            write!(f, "\n  key: {}", hex(&self.key))?;
        }
        write!(
            f,
            "\n  replay: cargo run --release -p diorama-fuzz -- --seed {} --inputs {}",
            self.seed,
            self.index + 1
        )
    }
}

/// Run `inputs` inputs from `seed`. Stops at the first broken property.
pub fn run(seed: u64, inputs: u64) -> Result<Summary, Failure> {
    let started = Instant::now();
    let mut rng = Rng::with_seed(seed);
    let mut values: Vec<Vec<u8>> = SEEDS.iter().map(|s| s.to_vec()).collect();
    for _ in 0..256 {
        values.push(generate::any_value(&mut rng).to_cbor());
    }
    let mut payloads: Vec<Vec<u8>> = (0..256)
        .map(|_| {
            let row = generate::cached_row(&mut rng);
            let key = fuzzing_key(&mut rng);
            let stored = diorama_std::fuzzing::encode_row(&key, &row, rng.u64(..));
            stored[4..].to_vec()
        })
        .collect();
    let mut summary = Summary::default();
    for index in 0..inputs {
        let target = match rng.u8(0..20) {
            0..=7 => Target::Value,
            8..=11 => Target::Encoding,
            12..=17 => Target::Row,
            _ => Target::Stored,
        };
        let mut key = Vec::new();
        let mut input;
        let check: Result<bool, String>;
        match target {
            Target::Value => {
                input = values[rng.usize(0..values.len())].clone();
                mutate::mutate(&mut input, &mut rng, &values);
                check = guarded(|| targets::value_bytes(&input));
                if check == Ok(true) {
                    keep(&mut values, &input, &mut rng);
                }
            }
            Target::Encoding => {
                let value = generate::any_value(&mut rng);
                input = if rng.bool() {
                    value.to_cbor()
                } else {
                    alt::encode(&value, &mut rng)
                };
                check = guarded(|| targets::valid_encoding(&value, &input).map(|()| true));
                keep(&mut values, &input, &mut rng);
            }
            Target::Row => {
                key = fuzzing_key(&mut rng);
                if rng.u8(0..8) == 0 {
                    let row = generate::cached_row(&mut rng);
                    let epoch = rng.u64(..);
                    input = diorama_std::fuzzing::encode_row(&key, &row, epoch);
                    check = guarded(|| targets::row_round_trip(&key, &row, epoch).map(|()| true));
                } else {
                    let mut payload = payloads[rng.usize(0..payloads.len())].clone();
                    mutate::mutate(&mut payload, &mut rng, &payloads);
                    input = diorama_std::fuzzing::seal(&key, &payload);
                    check = guarded(|| targets::row_bytes(&key, &input));
                    if check == Ok(true) {
                        keep(&mut payloads, &payload, &mut rng);
                    }
                }
            }
            Target::Stored => {
                key = fuzzing_key(&mut rng);
                let payload = &payloads[rng.usize(0..payloads.len())];
                input = match rng.u8(0..3) {
                    0 => diorama_std::fuzzing::encode_marker(rng.u64(..)),
                    1 => diorama_std::fuzzing::seal(b"\x02meta", payload),
                    _ => diorama_std::fuzzing::seal(&key, payload),
                };
                mutate::mutate(&mut input, &mut rng, &payloads);
                check = guarded(|| {
                    targets::stored_bytes(&input)?;
                    targets::row_bytes(&key, &input)
                });
            }
        }
        summary.inputs += 1;
        summary.per_target[target as usize] += 1;
        match check {
            Ok(accepted) => {
                summary.accepted += u64::from(accepted);
                summary.accepted_per_target[target as usize] += u64::from(accepted);
            }
            Err(message) => {
                return Err(Failure {
                    seed,
                    index,
                    target,
                    key,
                    input,
                    message,
                });
            }
        }
    }
    summary.corpus = (values.len(), payloads.len());
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A row's tree key: the row prefix and a random id.
fn fuzzing_key(rng: &mut Rng) -> Vec<u8> {
    diorama_std::fuzzing::row_key(&generate::id(rng))
}

/// Keep an accepted input in the corpus now and then, so later mutations
/// start from more varied well-formed material (there is no coverage
/// feedback to choose by).
fn keep(corpus: &mut Vec<Vec<u8>>, input: &[u8], rng: &mut Rng) {
    if rng.u8(0..8) != 0 || input.len() > 4096 {
        return;
    }
    if corpus.len() < CORPUS_LIMIT {
        corpus.push(input.to_vec());
    } else {
        let slot = rng.usize(0..corpus.len());
        corpus[slot] = input.to_vec();
    }
}

/// Run one check, turning a panic into a broken property.
fn guarded(check: impl FnOnce() -> Result<bool, String>) -> Result<bool, String> {
    catch_unwind(AssertUnwindSafe(check)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "<non-string panic>".into());
        Err(format!("panicked: {message}"))
    })
}

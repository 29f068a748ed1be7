//! # diorama-fuzz
//!
//! A structure-aware mutational fuzzer for the CBOR codec (`Value`,
//! `Record`) and the sled backend's stored-entry codec (rows, meta entries,
//! counters, the flush marker), run on the stable toolchain.
//!
//! Why not cargo-fuzz: libFuzzer's coverage instrumentation needs a
//! nightly compiler, which this project's machines and CI do not have.
//! Instead, the fuzzer here knows the input format: it starts from a corpus
//! of valid encodings (RFC 8949's examples, generated values and rows in
//! canonical and deliberately non-canonical well-formed encodings), mutates
//! them with CBOR-aware operations (heads of every major type, breaks,
//! gigantic lengths, extra nesting, splices), re-seals row payloads so
//! mutations reach past the checksum, and keeps some accepted inputs to
//! diversify the corpus. Everything is drawn from one seeded generator, so
//! a seed and an input count replay a failure exactly.
//!
//! Properties (see `targets`): no panic, no abort (the campaign runs on a
//! 256 KiB thread, so a recursion that grows with the input would abort the
//! process), decode ∘ encode round-trips what a decoder accepts, every
//! well-formed encoding within the depth bound decodes to its value.
//!
//! Run it: `cargo run --release -p diorama-fuzz -- --inputs 1000000
//! [--seed N]` (CI does, through `.ci/run`); `cargo test` runs a short
//! campaign.

mod alt;
mod campaign;
mod generate;
mod mutate;
mod targets;

pub use campaign::{Failure, Summary, Target, run};

/// The stack the campaign runs on: small enough that runaway recursion in
/// a decoder aborts the process instead of passing unnoticed.
pub const STACK_SIZE: usize = 256 * 1024;

/// [`run`] on a thread with a [`STACK_SIZE`] stack.
pub fn run_on_small_stack(seed: u64, inputs: u64) -> Result<Summary, Failure> {
    std::thread::Builder::new()
        .name("fuzz".into())
        .stack_size(STACK_SIZE)
        .spawn(move || run(seed, inputs))
        .expect("spawn the fuzzing thread")
        .join()
        .unwrap_or_else(|_| {
            Err(Failure {
                seed,
                index: 0,
                target: Target::Value,
                key: Vec::new(),
                input: Vec::new(),
                message: "the fuzzing thread panicked outside a check".into(),
            })
        })
}

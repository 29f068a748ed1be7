//! `diorama-fuzz [--inputs N] [--seed S]`: run a fuzzing campaign, print
//! what it covered and its throughput; exit 1 with the failing input (and
//! how to replay it) on a broken property.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut inputs: u64 = 1_000_000;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .and_then(|v| v.replace('_', "").parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--inputs", Some(n)) => inputs = n,
            ("--seed", Some(n)) => seed = n,
            _ => {
                eprintln!("usage: diorama-fuzz [--inputs N] [--seed S]");
                return ExitCode::from(2);
            }
        }
    }
    println!("fuzzing {inputs} inputs from seed {seed}");
    match diorama_fuzz::run_on_small_stack(seed, inputs) {
        Ok(summary) => {
            println!(
                "ok: {} inputs in {:.2} s ({:.0} inputs/s), {} accepted by a decoder",
                summary.inputs,
                summary.elapsed.as_secs_f64(),
                summary.throughput(),
                summary.accepted,
            );
            let names = [
                "value/record bytes",
                "well-formed encodings",
                "row payloads",
                "stored bytes",
            ];
            for (i, name) in names.iter().enumerate() {
                println!(
                    "  {name}: {} inputs, {} accepted",
                    summary.per_target[i], summary.accepted_per_target[i]
                );
            }
            println!(
                "  corpus at the end: {} values, {} row payloads",
                summary.corpus.0, summary.corpus.1
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

//! Command-line pieces the demos share: the data directory and table size
//! defaults, and [`Flags`], which reads flag values (counts like `20_000`,
//! durations like `80ms`) with errors naming the flag.
//!
//! Hand-written: a handful of flags does not justify a parser dependency
//! (and its compile time) in a library crate.

use std::path::PathBuf;
use std::time::Duration;

use diorama_core::{Error, Result};

/// The rows generated when `--rows` is not given.
pub const DEFAULT_ROWS: usize = 1_000_000;

/// `target/diorama-grid` of this workspace: the directory every app uses
/// by default, so they all run over one generated database.
pub fn default_data_dir() -> PathBuf {
    // This crate is `tests/apps` of the workspace.
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.ancestors().nth(2).unwrap_or(manifest);
    workspace.join("target/diorama-grid")
}

/// The command line as flags and their values.
#[derive(Debug)]
pub struct Flags<I> {
    args: I,
}

impl<I: Iterator<Item = String>> Flags<I> {
    /// Read `args` (without the program name).
    pub fn new(args: impl IntoIterator<Item = String, IntoIter = I>) -> Flags<I> {
        Flags {
            args: args.into_iter(),
        }
    }

    /// The next flag, `None` at the end.
    pub fn next_flag(&mut self) -> Option<String> {
        self.args.next()
    }

    /// The value following `flag`.
    ///
    /// Errors: `InvalidInput` ("`flag` needs a value") at the end.
    pub fn value(&mut self, flag: &str) -> Result<String> {
        self.args
            .next()
            .ok_or_else(|| Error::invalid_input(format!("{flag} needs a value")))
    }

    /// The value following `flag` as a path.
    ///
    /// Errors: as [`value`](Self::value).
    pub fn path(&mut self, flag: &str) -> Result<PathBuf> {
        self.value(flag).map(PathBuf::from)
    }

    /// The value following `flag` as a positive count (see [`parse_count`]).
    ///
    /// Errors: as [`value`](Self::value) and [`parse_count`].
    pub fn count(&mut self, flag: &str) -> Result<usize> {
        parse_count(flag, &self.value(flag)?)
    }

    /// The value following `flag` as a duration (see [`parse_duration`]).
    ///
    /// Errors: as [`value`](Self::value) and [`parse_duration`].
    pub fn duration(&mut self, flag: &str) -> Result<Duration> {
        parse_duration(flag, &self.value(flag)?)
    }
}

/// The error for a flag no demo knows.
pub fn unknown_option(flag: &str) -> Error {
    Error::invalid_input(format!("unknown option {flag:?} (try --help)"))
}

/// A positive count; `_` and `,` may group digits (`20_000`, `1,000`).
///
/// Errors: `InvalidInput` naming `flag` for anything else, zero included.
pub fn parse_count(flag: &str, text: &str) -> Result<usize> {
    let digits: String = text.chars().filter(|c| *c != '_' && *c != ',').collect();
    match digits.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::invalid_input(format!(
            "{flag}: {text:?} is not a positive number"
        ))),
    }
}

/// `80ms`, `2s`, `10m` or a bare number of milliseconds.
///
/// Errors: `InvalidInput` naming `flag` for anything else.
pub fn parse_duration(flag: &str, text: &str) -> Result<Duration> {
    let bad = || Error::invalid_input(format!("{flag}: {text:?} is not a duration like 80ms"));
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "" | "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number.saturating_mul(60))),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_mean_milliseconds() {
        assert_eq!(
            parse_duration("--x", "80").unwrap(),
            Duration::from_millis(80)
        );
        assert_eq!(
            parse_duration("--x", "80ms").unwrap(),
            Duration::from_millis(80)
        );
        assert_eq!(parse_duration("--x", "2s").unwrap(), Duration::from_secs(2));
        assert_eq!(
            parse_duration("--x", "10m").unwrap(),
            Duration::from_secs(600)
        );
        for bad in ["", "ms", "2h", "-1s", "1.5s", "fast"] {
            let error = parse_duration("--x", bad).unwrap_err();
            assert!(error.message().contains("--x"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn counts_are_positive_and_may_be_grouped() {
        assert_eq!(parse_count("--n", "20_000").unwrap(), 20_000);
        assert_eq!(parse_count("--n", "1,000").unwrap(), 1_000);
        assert!(parse_count("--n", "0").is_err());
        assert!(parse_count("--n", "-3").is_err());
        assert!(parse_count("--n", "ten").is_err());
    }

    #[test]
    fn flags_read_their_values_in_order() {
        let args = ["--rows", "5", "--ttl", "2m", "--data", "/d", "--page"];
        let mut flags = Flags::new(args.map(String::from));
        assert_eq!(flags.next_flag().as_deref(), Some("--rows"));
        assert_eq!(flags.count("--rows").unwrap(), 5);
        assert_eq!(flags.next_flag().as_deref(), Some("--ttl"));
        assert_eq!(flags.duration("--ttl").unwrap(), Duration::from_secs(120));
        assert_eq!(flags.next_flag().as_deref(), Some("--data"));
        assert_eq!(flags.path("--data").unwrap(), PathBuf::from("/d"));
        assert_eq!(flags.next_flag().as_deref(), Some("--page"));
        let missing = flags.value("--page").unwrap_err();
        assert_eq!(missing.message(), "--page needs a value");
        assert_eq!(flags.next_flag(), None);
    }
}

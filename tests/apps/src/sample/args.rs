//! Command-line pieces the apps share: [`DataArgs`] (`--data`, `--rows`),
//! their defaults, and the value parsers for counts (`20_000`) and
//! durations (`80ms`, through `humantime`), for clap. A bad value is
//! reported by clap naming the flag (`invalid value 'fast' for
//! '--latency <DURATION>'`).

use std::path::PathBuf;
use std::time::Duration;

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

/// Which generated table an app runs over: the flags both apps take.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct DataArgs {
    /// Directory holding the SQLite database and the sled caches, shared
    /// by the apps.
    #[arg(long, value_name = "DIR", default_value_os_t = default_data_dir())]
    pub data: PathBuf,
    /// Rows of the generated table; each size has its own database and
    /// caches. `_` or `,` may group digits.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROWS, value_parser = parse_count)]
    pub rows: usize,
}

impl DataArgs {
    /// `dir`, with [`DEFAULT_ROWS`].
    pub fn new(dir: impl Into<PathBuf>) -> DataArgs {
        DataArgs {
            data: dir.into(),
            rows: DEFAULT_ROWS,
        }
    }
}

/// A positive count; `_` and `,` may group digits (`20_000`, `1,000`).
///
/// Errors: the reason (clap names the flag), zero included.
pub fn parse_count(text: &str) -> Result<usize, String> {
    let digits: String = text.chars().filter(|c| *c != '_' && *c != ',').collect();
    match digits.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(String::from("not a positive number")),
    }
}

/// A duration as `humantime` reads it (`80ms`, `2s`, `10m`, `1h 30m`), or
/// a bare number of milliseconds (`80`), as the apps have always taken.
///
/// Errors: the reason (clap names the flag).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map(Duration::from_millis)
            .map_err(|_| String::from("too many milliseconds"));
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (a duration like 80ms, 2s or 10m)"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_parser = parse_duration)]
        ttl: Option<Duration>,
    }

    #[test]
    fn durations_take_a_unit_or_mean_milliseconds() {
        assert_eq!(parse_duration("80").unwrap(), Duration::from_millis(80));
        assert_eq!(parse_duration("80ms").unwrap(), Duration::from_millis(80));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        for bad in ["", "ms", "-1s", "fast", "10 parsecs"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn counts_are_positive_and_may_be_grouped() {
        assert_eq!(parse_count("20_000").unwrap(), 20_000);
        assert_eq!(parse_count("1,000").unwrap(), 1_000);
        assert!(parse_count("0").is_err());
        assert!(parse_count("-3").is_err());
        assert!(parse_count("ten").is_err());
    }

    #[test]
    fn the_shared_flags_read_their_values_and_default() {
        let probe =
            Probe::try_parse_from(["p", "--rows", "5", "--ttl", "2m", "--data", "/d"]).unwrap();
        assert_eq!(probe.data.rows, 5);
        assert_eq!(probe.data.data, PathBuf::from("/d"));
        assert_eq!(probe.ttl, Some(Duration::from_secs(120)));
        let defaults = Probe::try_parse_from(["p"]).unwrap();
        assert_eq!(defaults.data, DataArgs::new(default_data_dir()));
    }

    #[test]
    fn a_bad_value_is_an_error_naming_its_flag() {
        let error = Probe::try_parse_from(["p", "--ttl", "fast"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        let text = error.to_string();
        assert!(text.contains("--ttl") && text.contains("fast"), "{text}");
        let error = Probe::try_parse_from(["p", "--rows", "0"]).unwrap_err();
        assert!(error.to_string().contains("--rows"), "{error}");
        let error = Probe::try_parse_from(["p", "--rows"]).unwrap_err();
        assert!(error.to_string().contains("--rows"), "{error}");
    }
}

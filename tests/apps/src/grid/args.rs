//! Command-line options of the grid app, parsed by clap (the shared
//! `--data`/`--rows` and value parsers from
//! [`sample::args`](crate::sample::args)); `--help` is generated from the
//! field docs below.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

pub use crate::sample::args::{DEFAULT_ROWS, default_data_dir};
use crate::sample::args::{DataArgs, parse_count, parse_duration};

/// What `--help` prints after the options.
const AFTER_HELP: &str = "\
SCRIPT COMMANDS (--script, separated by ';'):
  goto N | down N | up N | pagedown | pageup | home | end
  search TEXT | search | sort COLUMN [asc|desc] | sort none
  edit LINE PRICE (LINE: 1 = first row on screen)
  key NAME (up, down, pagedown, enter, esc, g, /, ...)
  type TEXT | wait | quit

KEYS: arrows, PgUp/PgDn, Home/End, g go to row, / search, s cycle sort,
      S reverse sort, e edit price, q quit

Also run as: cargo run --release -p diorama-std --example grid -- [OPTIONS]";

/// grid: a terminal grid over a generated SQLite table, cached in sled, on
/// smol.
///
/// Without a terminal (a pipe, CI) it takes a guided tour headless and
/// prints its screens.
#[derive(Clone, Debug, PartialEq, Parser)]
#[command(name = "grid", after_help = AFTER_HELP, allow_negative_numbers = true)]
pub struct GridArgs {
    /// The generated table and the directory it lives in.
    #[command(flatten)]
    pub dataset: DataArgs,
    /// Read a running `serve` at this URL (http://HOST:PORT) instead of
    /// the local SQLite table: the grid caches the service, which caches
    /// the database. Edits go to the service; --data holds only the
    /// grid's cache (no --rows: the service has its table).
    #[arg(long, value_name = "URL", value_parser = parse_remote, conflicts_with = "rows")]
    pub remote: Option<String>,
    /// Delay every master call by this, like a remote API.
    #[arg(long, value_name = "DURATION", default_value = "0ms", value_parser = parse_duration)]
    pub latency: Duration,
    /// Rows older than this read as stale and are refetched when shown.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub ttl: Duration,
    /// Rows per chunk load.
    #[arg(long = "page", value_name = "N", default_value = "100", value_parser = parse_count)]
    pub page_size: usize,
    /// Run these commands headless instead of the interactive terminal
    /// (see SCRIPT COMMANDS below).
    #[arg(long, value_name = "COMMANDS")]
    pub script: Option<String>,
    /// Print the final screen as text (with --script).
    #[arg(long, requires = "script")]
    pub screen: bool,
    /// Width and height of the headless terminal, at least 40x6.
    #[arg(long, value_name = "WxH", default_value = "120x24", value_parser = parse_size)]
    pub size: (u16, u16),
}

impl GridArgs {
    /// The defaults over `data`: 1,000,000 rows, no latency, a ten-minute
    /// TTL, 100-row chunks, a 120×24 headless screen (what the command
    /// line gives without flags, `--data` aside).
    pub fn new(data: impl Into<PathBuf>) -> Self {
        GridArgs {
            dataset: DataArgs::new(data),
            remote: None,
            latency: Duration::ZERO,
            ttl: Duration::from_secs(600),
            page_size: 100,
            script: None,
            screen: false,
            size: (120, 24),
        }
    }
}

/// An `http://` URL (HttpVista speaks plain HTTP only).
fn parse_remote(text: &str) -> Result<String, String> {
    match text.strip_prefix("http://") {
        Some(rest) if !rest.is_empty() => Ok(text.to_string()),
        _ => Err(String::from("not an http://HOST:PORT URL")),
    }
}

/// `WIDTHxHEIGHT`, at least 40x6.
fn parse_size(text: &str) -> Result<(u16, u16), String> {
    let bad = || String::from("not WIDTHxHEIGHT like 120x24");
    let (w, h) = text.split_once('x').ok_or_else(bad)?;
    let w: u16 = w.parse().map_err(|_| bad())?;
    let h: u16 = h.parse().map_err(|_| bad())?;
    if w < 40 || h < 6 {
        return Err(String::from("too small (at least 40x6)"));
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<GridArgs, clap::Error> {
        GridArgs::try_parse_from(std::iter::once("grid").chain(args.iter().copied()))
    }

    #[test]
    fn flags_are_read() {
        let args = parse(&[
            "--rows",
            "20_000",
            "--latency",
            "80ms",
            "--data",
            "/tmp/x",
            "--script",
            "quit",
            "--screen",
            "--size",
            "80x20",
            "--page",
            "50",
            "--ttl",
            "2m",
        ])
        .unwrap();
        assert_eq!(args.dataset.rows, 20_000);
        assert_eq!(args.latency, Duration::from_millis(80));
        assert_eq!(args.dataset.data, PathBuf::from("/tmp/x"));
        assert_eq!(args.script.as_deref(), Some("quit"));
        assert!(args.screen);
        assert_eq!(args.size, (80, 20));
        assert_eq!(args.page_size, 50);
        assert_eq!(args.ttl, Duration::from_secs(120));
    }

    #[test]
    fn a_remote_is_an_http_url() {
        let args = parse(&["--remote", "http://127.0.0.1:8080"]).unwrap();
        assert_eq!(args.remote.as_deref(), Some("http://127.0.0.1:8080"));
        for bad in ["127.0.0.1:8080", "https://h", "http://"] {
            let error = parse(&["--remote", bad]).unwrap_err();
            assert!(error.to_string().contains("--remote"), "{bad}: {error}");
        }
        // The service decides the table: no --rows with it.
        let error = parse(&["--remote", "http://h:1", "--rows", "10"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ArgumentConflict, "{error}");
    }

    #[test]
    fn no_flags_give_the_documented_defaults() {
        assert_eq!(parse(&[]).unwrap(), GridArgs::new(default_data_dir()));
    }

    #[test]
    fn bad_values_are_errors_naming_the_flag() {
        for (args, flag) in [
            (&["--rows", "0"][..], "--rows"),
            (&["--latency", "fast"], "--latency"),
            (&["--ttl", "soon"], "--ttl"),
            (&["--page", "-1"], "--page"),
            (&["--rows"], "--rows"),
            (&["--bogus"], "--bogus"),
            (&["--screen"], "--script"),
            (&["--size", "10x2"], "--size"),
            (&["--size", "wide"], "--size"),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.to_string().contains(flag), "{args:?}: {error}");
        }
        assert_eq!(
            parse(&["--help"]).unwrap_err().kind(),
            ErrorKind::DisplayHelp
        );
    }

    #[test]
    fn help_lists_every_flag_and_the_script_commands() {
        let help = parse(&["--help"]).unwrap_err().to_string();
        for flag in [
            "--data",
            "--rows",
            "--latency",
            "--ttl",
            "--page",
            "--script",
            "--screen",
            "--size",
            "--remote",
            "--help",
        ] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
        assert!(help.contains("edit LINE PRICE"), "{help}");
    }
}

//! Command-line options of the serve app, parsed by clap (the shared
//! `--data`/`--rows` and value parsers from
//! [`sample::args`](crate::sample::args), the grid's database and default
//! table size included); `--help` is generated from the field docs here
//! and on [`ServiceOptions`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::app::ServiceOptions;
use crate::sample::args::DataArgs;
pub use crate::sample::args::{DEFAULT_ROWS, default_data_dir};

/// What `--help` prints after the options.
const AFTER_HELP: &str = "\
ROUTES:
  GET   /products?offset=0&limit=50&sort=-price&q=lamp
  GET   /products/{id}
  PATCH /products/{id}        body: {\"price\": 19.99}
  GET   /stats
  GET   /metrics              (Prometheus text format)

Also run as: cargo run --release -p diorama-tokio --example serve -- [OPTIONS]";

/// serve: an HTTP JSON service over the generated product table in SQLite,
/// cached in sled, on tokio.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(name = "serve", after_help = AFTER_HELP, allow_negative_numbers = true)]
pub struct ServeArgs {
    /// The generated table (the grid's database) and the directory holding
    /// it and the service's sled cache.
    #[command(flatten)]
    pub dataset: DataArgs,
    /// The master: a PostgreSQL URL (`postgres://user@host:port/db`) to
    /// serve a table there (see --table), generated with --rows products
    /// when missing, whose changes made anywhere (psql, other services)
    /// reach the service's answers; default: the generated SQLite table in
    /// --data.
    #[arg(long, value_name = "URL", value_parser = parse_master, conflicts_with = "nats")]
    pub master: Option<String>,
    /// The PostgreSQL table served (`NAME` or `SCHEMA.NAME`), with --master.
    #[arg(
        long,
        value_name = "TABLE",
        default_value = "products",
        requires = "master"
    )]
    pub table: String,
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory of the service's sled cache (default: the `--data`
    /// directory; as a replica, each `--replica` name has a cache of its
    /// own there).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Caching and waiting.
    #[command(flatten)]
    pub options: ServiceOptions,
    /// Running as one of several replicas.
    #[command(flatten)]
    pub replica: ReplicaArgs,
}

/// The flags that make `serve` one of several replicas over one master,
/// kept coherent over NATS JetStream (see `diorama_tokio::nats`).
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct ReplicaArgs {
    /// The NATS server (with JetStream) the replicas share, e.g.
    /// nats://127.0.0.1:4222; needs --replica.
    #[arg(long, value_name = "URL", requires = "replica")]
    pub nats: Option<String>,
    /// This replica's name, unique among the replicas; needs --nats.
    #[arg(long, value_name = "NAME", requires = "nats")]
    pub replica: Option<String>,
    /// The JetStream stream of the changes.
    #[arg(long, value_name = "NAME", default_value = "DIORAMA")]
    pub nats_stream: String,
    /// The key-value bucket of the shared tier.
    #[arg(long, value_name = "NAME", default_value = "diorama")]
    pub nats_bucket: String,
    /// The subject prefix of the stream.
    #[arg(long, value_name = "PREFIX", default_value = "diorama")]
    pub nats_subject: String,
    /// The name the replicas of one service share (subjects and keys are
    /// per name). Default: `serve-` and a digest of the database's path,
    /// so replicas over one file meet and those over another never do.
    #[arg(long, value_name = "NAME")]
    pub nats_lens: Option<String>,
}

impl ReplicaArgs {
    /// Not a replica.
    pub fn none() -> Self {
        ReplicaArgs {
            nats: None,
            replica: None,
            nats_stream: "DIORAMA".into(),
            nats_bucket: "diorama".into(),
            nats_subject: "diorama".into(),
            nats_lens: None,
        }
    }

    /// The replica's options, when `--nats` and `--replica` were given,
    /// for replicas over the database at `db` (see `--nats-lens`); a NATS
    /// operation waits at most 1 s.
    pub fn options(&self, db: &std::path::Path) -> Option<diorama_tokio::nats::ReplicaOptions> {
        let (url, name) = (self.nats.as_ref()?, self.replica.as_ref()?);
        let lens = match &self.nats_lens {
            Some(lens) => lens.clone(),
            None => format!("serve-{:016x}", path_digest(db)),
        };
        let mut options = diorama_tokio::nats::ReplicaOptions::new(url.clone(), name.clone())
            .lens(lens)
            .stream(self.nats_stream.clone())
            .bucket(self.nats_bucket.clone())
            .subject_prefix(self.nats_subject.clone());
        options.op_timeout = Duration::from_secs(1);
        Some(options)
    }
}

impl ServeArgs {
    /// The defaults over `data`: 1,000,000 rows, `127.0.0.1:8080`,
    /// [`ServiceOptions::default`] (what the command line gives without
    /// flags, `--data` aside).
    pub fn new(data: impl Into<PathBuf>) -> Self {
        ServeArgs {
            dataset: DataArgs::new(data),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            master: None,
            table: String::from("products"),
            cache: None,
            options: ServiceOptions::default(),
            replica: ReplicaArgs::none(),
        }
    }
}

/// A `--master` URL: `postgres://` or `postgresql://` (the only master
/// besides the default SQLite table).
fn parse_master(text: &str) -> Result<String, String> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Ok(text.to_string())
    } else {
        Err(String::from(
            "not a postgres:// URL (the SQLite master is the default)",
        ))
    }
}

/// `name` with every character but letters, digits, `-` and `_` as `_`
/// (a replica's name in its cache's file name).
pub(crate) fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// FNV-1a of the canonical path (the path as given when it cannot be
/// resolved): stable across runs and builds, unlike std's hasher, and a
/// dozen lines where no dependency is needed.
fn path_digest(path: &std::path::Path) -> u64 {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    text_digest(&canonical.to_string_lossy())
}

/// FNV-1a of `text` (see [`path_digest`]).
pub(crate) fn text_digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::error::ErrorKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        ServeArgs::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
    }

    #[test]
    fn flags_are_read() {
        let args = parse(&[
            "--data",
            "/tmp/x",
            "--rows",
            "5_000",
            "--addr",
            "127.0.0.1:0",
            "--latency",
            "80ms",
            "--ttl",
            "2m",
            "--views",
            "4",
            "--page",
            "25",
            "--timeout",
            "3s",
            "--write-timeout",
            "1500ms",
        ])
        .unwrap();
        assert_eq!(args.dataset.data, PathBuf::from("/tmp/x"));
        assert_eq!(args.dataset.rows, 5_000);
        assert_eq!(args.addr, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(args.options.latency, Duration::from_millis(80));
        assert_eq!(args.options.ttl, Duration::from_secs(120));
        assert_eq!(args.options.views, 4);
        assert_eq!(args.options.page_size, 25);
        assert_eq!(args.options.read_timeout, Duration::from_secs(3));
        assert_eq!(args.options.write_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn replica_flags_are_read_and_need_each_other() {
        let args = parse(&[
            "--nats",
            "nats://127.0.0.1:4222",
            "--replica",
            "web-1",
            "--cache",
            "/tmp/c1",
        ])
        .unwrap();
        let db = std::path::Path::new("/tmp/x/products-5.sqlite");
        let options = args.replica.options(db).unwrap();
        assert_eq!(options.url, "nats://127.0.0.1:4222");
        assert_eq!(options.replica, "web-1");
        assert!(options.lens.starts_with("serve-"), "{}", options.lens);
        assert_eq!(
            args.replica.options(db).unwrap().lens,
            options.lens,
            "stable"
        );
        let other = std::path::Path::new("/tmp/y/products-5.sqlite");
        assert_ne!(args.replica.options(other).unwrap().lens, options.lens);
        assert_eq!(args.cache, Some(PathBuf::from("/tmp/c1")));
        assert_eq!(parse(&[]).unwrap().replica.options(db), None);
        let named = parse(&[
            "--nats",
            "nats://h:1",
            "--replica",
            "a",
            "--nats-lens",
            "shop",
        ])
        .unwrap();
        assert_eq!(named.replica.options(db).unwrap().lens, "shop");
        for args in [&["--nats", "nats://x:1"][..], &["--replica", "a"]] {
            let error = parse(args).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument, "{args:?}");
        }
    }

    #[test]
    fn a_postgres_master_and_its_table_are_read() {
        let args = parse(&[
            "--master",
            "postgres://me@db:5432/shop",
            "--table",
            "s.items",
        ])
        .unwrap();
        assert_eq!(args.master.as_deref(), Some("postgres://me@db:5432/shop"));
        assert_eq!(args.table, "s.items");
        let default = parse(&["--master", "postgresql://db/shop"]).unwrap();
        assert_eq!(default.table, "products");
        for (args, flag) in [
            (&["--master", "sqlite:///tmp/x"][..], "--master"),
            (&["--table", "items"], "--master"),
            (
                &[
                    "--master",
                    "postgres://db/x",
                    "--nats",
                    "nats://h:1",
                    "--replica",
                    "a",
                ],
                "--nats",
            ),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.to_string().contains(flag), "{args:?}: {error}");
        }
    }

    #[test]
    fn no_flags_give_the_documented_defaults() {
        assert_eq!(parse(&[]).unwrap(), ServeArgs::new(default_data_dir()));
        assert_eq!(parse(&[]).unwrap().dataset.rows, DEFAULT_ROWS);
    }

    #[test]
    fn bad_values_are_errors_naming_the_flag() {
        for (args, flag) in [
            (&["--rows", "0"][..], "--rows"),
            (&["--addr", "localhost"], "--addr"),
            (&["--latency", "fast"], "--latency"),
            (&["--timeout", "1 fortnight"], "--timeout"),
            (&["--write-timeout", "x"], "--write-timeout"),
            (&["--views", "none"], "--views"),
            (&["--page", "-5"], "--page"),
            (&["--rows"], "--rows"),
            (&["--bogus"], "--bogus"),
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
    fn help_lists_every_flag_and_the_routes() {
        let help = parse(&["--help"]).unwrap_err().to_string();
        for flag in [
            "--data",
            "--rows",
            "--addr",
            "--page",
            "--ttl",
            "--latency",
            "--views",
            "--timeout",
            "--write-timeout",
            "--cache",
            "--master",
            "--table",
            "--nats",
            "--replica",
            "--help",
        ] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
        assert!(help.contains("PATCH /products/{id}"), "{help}");
    }
}

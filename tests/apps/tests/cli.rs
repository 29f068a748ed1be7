//! The binaries' command lines, run as child processes: `--help` lists
//! every flag, and a bad value is a clear error naming its flag (exit
//! status 2, nothing on stdout, no data built).

use std::process::{Command, Output};

/// Run `binary` with `args` over a fresh data directory; also says whether
/// that directory was created (it holds the generated database once built).
fn run(binary: &str, args: &[&str]) -> (Output, bool) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let data = scratch.path().join("data");
    let output = Command::new(binary)
        .args(args)
        // Never the workspace's big table.
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap_or_else(|e| panic!("running {binary}: {e}"));
    (output, data.exists())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_help_lists(binary: &str, flags: &[&str]) {
    let (output, built) = run(binary, &["--help"]);
    assert!(output.status.success(), "{binary} --help: {output:?}");
    assert!(!built, "{binary} --help built data");
    let help = text(&output.stdout);
    assert!(help.contains("Usage:"), "{help}");
    for flag in flags {
        assert!(help.contains(flag), "{binary} --help lacks {flag}:\n{help}");
    }
}

fn assert_refused(binary: &str, args: &[&str], flag: &str, value: &str) {
    let (output, built) = run(binary, args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{binary} {args:?}: {output:?}"
    );
    assert!(!built, "{binary} {args:?} built data before refusing");
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let error = text(&output.stderr);
    assert!(
        error.contains(flag) && error.contains(value),
        "{binary} {args:?} should name {flag} and {value:?}:\n{error}"
    );
}

const GRID: &str = env!("CARGO_BIN_EXE_grid");
const SERVE: &str = env!("CARGO_BIN_EXE_serve");

#[test]
fn grid_help_lists_its_flags() {
    assert_help_lists(
        GRID,
        &[
            "--data",
            "--rows",
            "--latency",
            "--ttl",
            "--page",
            "--script",
            "--screen",
            "--size",
            "--remote",
        ],
    );
}

#[test]
fn serve_help_lists_its_flags() {
    assert_help_lists(
        SERVE,
        &[
            "--data",
            "--rows",
            "--addr",
            "--page",
            "--ttl",
            "--latency",
            "--views",
            "--timeout",
            "--write-timeout",
            "--master",
            "--table",
        ],
    );
}

#[test]
fn a_bad_duration_is_a_clear_error() {
    assert_refused(GRID, &["--latency", "fast"], "--latency", "fast");
    assert_refused(GRID, &["--ttl", "10 parsecs"], "--ttl", "10 parsecs");
    assert_refused(SERVE, &["--timeout", "soon"], "--timeout", "soon");
}

#[test]
fn other_bad_flags_are_clear_errors() {
    assert_refused(GRID, &["--rows", "0"], "--rows", "0");
    assert_refused(GRID, &["--size", "10x2"], "--size", "10x2");
    assert_refused(GRID, &["--bogus"], "--bogus", "");
    assert_refused(SERVE, &["--addr", "localhost"], "--addr", "localhost");
    assert_refused(GRID, &["--remote", "ftp://h"], "--remote", "ftp://h");
    assert_refused(
        SERVE,
        &["--master", "mysql://h/db"],
        "--master",
        "mysql://h/db",
    );
}

#[test]
fn a_postgres_master_that_does_not_answer_is_a_clear_failure() {
    // Port 1 on loopback: nothing listens there.
    let url = "postgres://postgres@127.0.0.1:1/test";
    let (output, built) = run(SERVE, &["--master", url, "--addr", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(!built, "nothing built for a server that is not there");
    let error = text(&output.stderr);
    assert!(
        error.contains("serve: unavailable") && error.contains("127.0.0.1:1"),
        "{error}"
    );
}

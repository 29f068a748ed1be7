//! Durable writes survive `kill -9`: a child process (`durable_writer`)
//! streams patches through a Dio over a SQLite master file and a sled
//! cache, and is killed with `SIGKILL` at a random moment, 20 times. After
//! every kill the parent opens the same files again, as the next start of
//! the program would, and checks what a user sees against SQLite:
//!
//! - while the replay runs and after it, every row a record view shows as
//!   `Fresh` holds the master's value; a row with a durable write not yet
//!   replayed reads `PendingWrite`, never `Fresh` with an older value;
//! - once the replay is done, every write the child was told is durable is
//!   in the master exactly once (a trigger logs every application of a
//!   value), and no write is applied twice;
//! - the writes lost are only ones never acknowledged durable; their count
//!   is printed (run with `--nocapture`).
//!
//! `CRASH_SEED=<n>` replays a sequence of kill moments.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use async_executor::Executor;
use diorama_core::scenery::RecordStatus;
use diorama_core::{Lens, Value, Vista};
use diorama_std::sqlite::SqliteVista;
use diorama_std::sqlite::rusqlite::Connection;
use diorama_std::{SledBackend, SmolRuntime};

const RUNS: u64 = 20;
const WRITERS: u64 = 8;
const ROWS_PER_WRITER: u64 = 8;

fn ids() -> Vec<String> {
    (0..WRITERS)
        .flat_map(|w| (0..ROWS_PER_WRITER).map(move |r| format!("w{w}-{r}")))
        .collect()
}

/// The master, with a log of every value applied to a row.
fn create_master(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL);
         CREATE TABLE applications (id TEXT NOT NULL, n INTEGER NOT NULL);
         CREATE TRIGGER logged AFTER UPDATE OF n ON items
           BEGIN INSERT INTO applications (id, n) VALUES (NEW.id, NEW.n); END;",
    )
    .unwrap();
    for id in ids() {
        conn.execute("INSERT INTO items (id, n) VALUES (?, 0)", [&id])
            .unwrap();
    }
}

/// How often each value was applied, by value.
fn applications(path: &Path) -> BTreeMap<i64, usize> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT n FROM applications").unwrap();
    let mut counts = BTreeMap::new();
    for n in stmt.query_map([], |row| row.get::<_, i64>(0)).unwrap() {
        *counts.entry(n.unwrap()).or_insert(0) += 1;
    }
    counts
}

fn master_rows(path: &Path) -> BTreeMap<String, i64> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT id, n FROM items").unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// What one child printed before it was killed.
#[derive(Debug, Default)]
struct Reported {
    queued: BTreeSet<i64>,
    durable: BTreeMap<i64, String>,
}

fn run_and_kill(dir: &Path, run: u64, delay: Duration) -> Reported {
    let mut child = Command::new(env!("CARGO_BIN_EXE_durable_writer"))
        .arg(dir)
        .arg(run.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn durable_writer");
    let stdout = child.stdout.take().unwrap();
    let reported = Arc::new(Mutex::new(Reported::default()));
    let (ready_tx, ready) = mpsc::channel();
    let reader = {
        let reported = reported.clone();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let words: Vec<&str> = line.split_whitespace().collect();
                let mut r = reported.lock().unwrap();
                match words.as_slice() {
                    ["ready"] => {
                        let _ = ready_tx.send(());
                    }
                    ["queued", _, n] => {
                        r.queued.insert(n.parse().unwrap());
                    }
                    ["durable", id, n] => {
                        r.durable.insert(n.parse().unwrap(), id.to_string());
                    }
                    _ => {}
                }
            }
        })
    };
    ready
        .recv_timeout(Duration::from_secs(60))
        .expect("durable_writer never got ready (see its stderr)");
    thread::sleep(delay);
    assert!(
        child.try_wait().unwrap().is_none(),
        "durable_writer exited on its own (see its stderr)"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    Arc::try_unwrap(reported).unwrap().into_inner().unwrap()
}

fn n_of(record: &diorama_core::Record) -> i64 {
    match record.get("n") {
        Some(Value::Integer(n)) => i64::try_from(n.get()).unwrap(),
        other => panic!("n is {other:?}"),
    }
}

/// Start again over the files: open every row's record view while the
/// replay runs and after, checking what each shows against the master.
/// Returns the rows seen pending during the replay.
fn restart_and_check(dir: &Path, run: u64, last_durable: &BTreeMap<String, i64>) -> usize {
    let db = dir.join("master.sqlite");
    let executor = Arc::new(Executor::new());
    let runtime = SmolRuntime::with_executor(executor.clone()).arc();
    let cache = SledBackend::open_or_rebuild(dir.join("cache")).expect("the cache reopens");
    assert!(
        cache.open_report().moved_aside.is_none(),
        "run {run}: {}",
        cache.open_report()
    );
    let lens = Lens::builder()
        .cache_source(cache)
        .runtime(runtime.clone())
        .build()
        .unwrap();
    let master = SqliteVista::open(&db, "items", "id").unwrap();
    let mut pending_seen = 0;
    futures_lite::future::block_on(executor.run(async {
        let dio = lens.make_dio(Vista::new(master)).await.unwrap();
        for pass in ["during the replay", "after the replay"] {
            for id in ids() {
                let view = dio.record_scenery(id.clone()).open().await.unwrap();
                let mut changes = view.subscribe();
                let shown = loop {
                    changes.mark_seen();
                    match view.status() {
                        RecordStatus::Loading | RecordStatus::Stale => {}
                        status => break (status, view.record()),
                    }
                    changes.changed().await.unwrap();
                };
                let shown_n = shown.1.as_ref().map(|row| n_of(&row.record));
                let truth = master_rows(&db)[&id];
                match shown.0 {
                    RecordStatus::Fresh => {
                        assert_eq!(shown_n, Some(truth), "run {run}, {pass}: {id} shown fresh")
                    }
                    RecordStatus::PendingWrite => pending_seen += 1,
                    other => panic!("run {run}, {pass}: {id} shows {other:?}"),
                }
                // Never an acknowledged write's pre-write value.
                if let (Some(shown_n), Some(&durable)) = (shown_n, last_durable.get(&id)) {
                    assert!(
                        shown_n >= durable,
                        "run {run}, {pass}: {id} shows {shown_n}, older than durable {durable}"
                    );
                }
            }
            while dio.pending_writes() > 0 {
                runtime.sleep(Duration::from_millis(5)).await;
            }
        }
        dio.shutdown().await.unwrap();
    }));
    drop(lens);
    drop(executor);
    pending_seen
}

#[test]
fn twenty_kills_lose_no_durable_write_and_apply_none_twice() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xd0_u64);
    println!("CRASH_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("master.sqlite");
    create_master(&db);

    let (mut durable_total, mut lost_unacknowledged, mut queued_total) = (0, 0, 0);
    let mut pending_after_restart = 0;
    let mut last_durable: BTreeMap<String, i64> = BTreeMap::new();
    for run in 1..=RUNS {
        let delay = Duration::from_millis(rng.u64(20..400));
        let reported = run_and_kill(dir.path(), run, delay);
        for (&n, id) in &reported.durable {
            let last = last_durable.entry(id.clone()).or_insert(n);
            *last = (*last).max(n);
        }
        pending_after_restart += restart_and_check(dir.path(), run, &last_durable);

        let applied = applications(&db);
        for (&n, count) in &applied {
            assert_eq!(*count, 1, "run {run}: value {n} applied {count} times");
        }
        for n in reported.durable.keys() {
            assert!(
                applied.contains_key(n),
                "run {run}: durable write {n} never reached the master"
            );
        }
        let lost = reported
            .queued
            .iter()
            .filter(|n| !applied.contains_key(n))
            .count();
        println!(
            "run {run}: killed {delay:?} after ready: {} queued, {} durable, {lost} lost (never durable)",
            reported.queued.len(),
            reported.durable.len()
        );
        queued_total += reported.queued.len();
        durable_total += reported.durable.len();
        lost_unacknowledged += lost;
    }
    assert!(durable_total > 0, "the children wrote nothing durable");
    println!(
        "{RUNS} kills: {queued_total} writes queued, {durable_total} acknowledged durable (all in \
         the master once), {lost_unacknowledged} never acknowledged and lost; {pending_after_restart} \
         row views read pending on restart while replays ran"
    );
}

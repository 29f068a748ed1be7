//! Crash soak of durable writes on the simulator's faulty disk: many seeds,
//! each a few simulated process lifetimes over one `FaultyDisk` and one
//! master (which outlives them, as a database does). In each lifetime a
//! random workload patches rows (with master latency, so writes linger),
//! while the disk fails writes and flushes at random; the lifetime ends in
//! a clean shutdown, a crash that loses everything since the last flush, or
//! a rollback to an older flush. After every step it checks what the views
//! show against the master (the truth), never the cache against itself:
//!
//! - every row a record view shows `Fresh` equals the master's row;
//! - no row is shown with a value older than a write acknowledged durable
//!   to it (values only grow), unless a rollback took that write away or,
//!   after a rollback, the row is marked `Stale` or `PendingWrite`;
//! - at the end, every write acknowledged durable (and not lost to a
//!   rollback) reached the master under its key, each key once, and each
//!   row ends at least at its last durable value.
//!
//! Some seeds run the same lifetimes over a real sled cache in a temporary
//! directory instead (no injected disk faults there; a crash is the process
//! state dropped without a shutdown, a rollback is not simulated), so the
//! soak is not only the simulator's model of a disk checking itself.
//!
//! A failing seed is printed; `SOAK_SEED=<n> cargo test -p diorama-tests
//! --test soak_durable` replays it (add `SOAK_DEBUG=1` to print each
//! durable acknowledgement and each lifetime's end), `SOAK_SEEDS=<n>` runs
//! more (1,000 by default; `SOAK_SLED_SEEDS`, 30 by default, on sled).

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::cache::{CacheBackend, FaultyDisk};
use diorama_core::scenery::{RecordScenery, RecordStatus};
use diorama_core::sim::SimRuntime;
use diorama_core::{Dio, Lens, MemoryVista, Record, RuntimeExt, Value, Vista, record};
use diorama_std::SledBackend;
use diorama_tests::harness::inline_flush;

const ROWS: usize = 6;
const LIVES: usize = 4;
const STEPS: usize = 8;

fn id(i: usize) -> String {
    format!("r{i}")
}

fn n_of(record: &Record) -> i64 {
    match record.get("n") {
        Some(Value::Integer(n)) => i64::try_from(n.get()).unwrap(),
        other => panic!("n is {other:?}"),
    }
}

/// What the test knows about acknowledgements, shared with the tasks that
/// await tickets.
#[derive(Default)]
struct Acks {
    /// Durable writes: key → (row, value).
    durable: BTreeMap<String, (String, i64)>,
}

/// How a lifetime ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Clean,
    Crash,
    Rollback(u64),
}

/// Where a seed's cache lives.
enum Disk {
    /// The simulator's disk: failing writes and flushes, crashes that lose
    /// what was not flushed, rollbacks to an older flush.
    Faulty(FaultyDisk),
    /// A sled directory on the real disk, reopened for each lifetime.
    Sled(tempfile::TempDir),
}

impl Disk {
    fn first(&self) -> Arc<dyn CacheBackend> {
        match self {
            Disk::Faulty(disk) => disk.backend(),
            Disk::Sled(dir) => open_sled(dir),
        }
    }

    fn fail_next_writes(&self, n: u64) {
        if let Disk::Faulty(disk) = self {
            disk.fail_next_writes(n);
        }
    }

    fn fail_next_flushes(&self, n: u64) {
        if let Disk::Faulty(disk) = self {
            disk.fail_next_flushes(n);
        }
    }

    fn heal(&self) {
        if let Disk::Faulty(disk) = self {
            disk.heal();
        }
    }

    fn can_roll_back(&self) -> bool {
        matches!(self, Disk::Faulty(_))
    }

    /// The backend of the next lifetime after `end` (every handle of the
    /// last one is dropped).
    fn after(&self, end: End) -> Arc<dyn CacheBackend> {
        match self {
            Disk::Faulty(disk) => match end {
                End::Clean => disk.reopen(),
                End::Crash => disk.crash_and_reopen(),
                End::Rollback(flushes) => disk.rollback(flushes),
            },
            Disk::Sled(dir) => open_sled(dir),
        }
    }
}

fn open_sled(dir: &tempfile::TempDir) -> Arc<dyn CacheBackend> {
    let sled = SledBackend::builder(dir.path().join("cache"))
        .open()
        .expect("open the sled cache");
    // Flushed on the simulator's thread: it cannot see sled's pool.
    inline_flush(sled.arc())
}

struct Life {
    sim: SimRuntime,
    dio: Dio,
    views: Vec<RecordScenery>,
}

fn start(seed: u64, life: usize, backend: Arc<dyn CacheBackend>, master: &MemoryVista) -> Life {
    let sim = SimRuntime::new(seed.wrapping_mul(31).wrapping_add(life as u64));
    sim.set_tracing(false);
    let lens = Lens::builder()
        .cache_source(backend)
        .runtime(sim.runtime())
        .build()
        .unwrap();
    let dio = sim
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();
    let views = (0..ROWS)
        .map(|i| sim.block_on(dio.record_scenery(id(i)).open()).unwrap())
        .collect();
    Life { sim, dio, views }
}

/// The views against the master and the acknowledged writes.
/// `rolled_back`: a rollback happened in this seed, so rows may read
/// `Stale` with an older value (marked as possibly out of date).
fn check(
    seed: u64,
    life: &Life,
    master: &MemoryVista,
    floor: &BTreeMap<String, i64>,
    rolled_back: bool,
    when: &str,
) {
    for (i, view) in life.views.iter().enumerate() {
        let Some(shown) = view.record() else { continue };
        let shown_n = n_of(&shown.record);
        if view.status() == RecordStatus::Fresh {
            assert_eq!(
                Some(&shown.record),
                master.get_row(&id(i)).as_ref(),
                "seed {seed}, {when}: {} shown fresh differs from the master",
                id(i)
            );
        }
        // After a rollback a row may show an older value while marked as
        // such: stale (demoted by the rollback) or pending.
        let marked_stale = rolled_back
            && matches!(
                view.status(),
                RecordStatus::Stale | RecordStatus::PendingWrite
            );
        if let Some(&durable) = floor.get(&id(i))
            && !marked_stale
        {
            assert!(
                shown_n >= durable,
                "seed {seed}, {when}: {} shows {shown_n}, older than durable {durable} ({:?}; pending {:?}, {} writes pending)",
                id(i),
                view.status(),
                life.dio.pending_write(&id(i)),
                life.dio.pending_writes(),
            );
        }
    }
}

fn run_seed(seed: u64, disk: Disk) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let master =
        MemoryVista::new("items").with_rows((0..ROWS).map(|i| (id(i), record! { "n" => 0 })));
    let acks = Arc::new(Mutex::new(Acks::default()));
    // Per row, the last value acknowledged durable and not lost since.
    let mut floor: BTreeMap<String, i64> = BTreeMap::new();
    let mut excused: BTreeSet<String> = BTreeSet::new();
    let mut next_n = 1i64;
    let mut rolled_back = false;
    let mut backend = disk.first();
    for life_no in 0..LIVES {
        let life = start(seed, life_no, backend, &master);
        check(seed, &life, &master, &floor, rolled_back, "on open");
        life.sim.run_until_idle();
        check(
            seed,
            &life,
            &master,
            &floor,
            rolled_back,
            "after the replay",
        );
        for step in 0..STEPS {
            match rng.u8(0..10) {
                0 => disk.fail_next_writes(rng.u64(1..3)),
                1 => disk.fail_next_flushes(1),
                2 => master.set_latency(Duration::from_millis(rng.u64(1..30)), life.sim.runtime()),
                3 => master.clear_latency(),
                _ => {
                    for _ in 0..rng.usize(1..4) {
                        let row = id(rng.usize(0..ROWS));
                        let n = next_n;
                        next_n += 1;
                        let ticket = life
                            .sim
                            .block_on(life.dio.patch(row.clone(), record! { "n" => n }))
                            .unwrap();
                        let acks = acks.clone();
                        drop(life.sim.runtime().spawn("soak.durable", async move {
                            if ticket.durable().await.is_ok() {
                                let key = ticket.key().to_string();
                                if std::env::var("SOAK_DEBUG").is_ok() {
                                    eprintln!("durable {key} {row} {n}");
                                }
                                acks.lock().unwrap().durable.insert(key, (row, n));
                            }
                            let _ = ticket.outcome().await;
                        }));
                    }
                }
            }
            life.sim.run_for(Duration::from_millis(rng.u64(0..20)));
            // Views learn of writes from the event bus: let them catch up.
            life.sim.run_until_idle();
            for (row, n) in acks.lock().unwrap().durable.values() {
                let entry = floor.entry(row.clone()).or_insert(*n);
                *entry = (*entry).max(*n);
            }
            check(
                seed,
                &life,
                &master,
                &floor,
                rolled_back,
                &format!("life {life_no}, step {step}"),
            );
        }
        let end = match rng.u8(0..4) {
            0 => End::Clean,
            1 if disk.can_roll_back() => End::Rollback(rng.u64(1..3)),
            _ => End::Crash,
        };
        if std::env::var("SOAK_DEBUG").is_ok() {
            eprintln!(
                "life {life_no} ends {end:?}; master {:?}; keys {:?}",
                master.rows(),
                master.applied_keys()
            );
        }
        let Life { sim, dio, views } = life;
        if let End::Clean = end {
            disk.heal();
            let _ = sim.block_on(dio.shutdown());
        }
        drop(views);
        drop(dio);
        sim.shutdown();
        master.clear_latency();
        disk.heal();
        backend = match end {
            End::Clean | End::Crash => disk.after(end),
            End::Rollback(_) => {
                // Durable writes not yet at the master may be lost with
                // the flushes rolled back: excuse them, and their rows'
                // floors, from here on.
                let applied: BTreeSet<String> = master.applied_keys().into_iter().collect();
                let mut acks = acks.lock().unwrap();
                for (key, (row, _)) in &acks.durable {
                    if !applied.contains(key) {
                        excused.insert(key.clone());
                        floor.remove(row);
                    }
                }
                acks.durable.retain(|key, _| applied.contains(key));
                rolled_back = true;
                disk.after(end)
            }
        };
    }
    // A last, quiet lifetime: the replay finishes.
    let life = start(seed, LIVES, backend, &master);
    life.sim.run_until_idle();
    check(seed, &life, &master, &floor, rolled_back, "at the end");
    let applied = master.applied_keys();
    let unique: BTreeSet<&String> = applied.iter().collect();
    assert_eq!(
        unique.len(),
        applied.len(),
        "seed {seed}: a key applied twice"
    );
    let acks = acks.lock().unwrap();
    for (key, (row, n)) in &acks.durable {
        assert!(
            unique.contains(key),
            "seed {seed}: durable write {key} ({row} = {n}) never reached the master"
        );
    }
    for (row, n) in &floor {
        let at = master.get_row(row).map(|r| n_of(&r)).unwrap();
        assert!(
            at >= *n,
            "seed {seed}: {row} ends at {at}, below durable {n}"
        );
    }
    let Life { sim, dio, views } = life;
    drop(views);
    drop(dio);
    sim.shutdown();
}

/// The seeds to run: `SOAK_SEED` alone, else `0..$var` (default `default`).
fn seeds(var: &str, default: u64) -> Vec<u64> {
    match std::env::var("SOAK_SEED") {
        Ok(seed) => vec![seed.parse().expect("SOAK_SEED is a number")],
        Err(_) => {
            let n = std::env::var(var)
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(default);
            (0..n).collect()
        }
    }
}

fn soak(what: &str, seeds: Vec<u64>, disk: impl Fn(u64) -> Disk) {
    for seed in seeds {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run_seed(seed, disk(seed)))) {
            eprintln!("durable soak {what} failed at seed {seed}; replay with SOAK_SEED={seed}");
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn durable_writes_survive_crashes_and_rollbacks_on_the_faulty_disk() {
    soak("on the faulty disk", seeds("SOAK_SEEDS", 1000), |seed| {
        Disk::Faulty(FaultyDisk::new(seed))
    });
}

#[test]
fn durable_writes_survive_restarts_on_sled() {
    soak("on sled", seeds("SOAK_SLED_SEEDS", 30), |_| {
        Disk::Sled(tempfile::tempdir().expect("a temporary directory"))
    });
}

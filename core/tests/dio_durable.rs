//! Durable writes on the simulator's faulty disk: what a user sees across a
//! crash (a simulated process ends: its runtime stops and the disk loses
//! what was not flushed), compared with the master.
#![cfg(feature = "sim")]

use std::sync::Arc;
use std::time::Duration;

use diorama_core::cache::{CacheBackend, CachedRow, FaultyBackend, FaultyDisk};
use diorama_core::dio::DioEvent;
use diorama_core::scenery::RecordStatus;
use diorama_core::sim::SimRuntime;
use diorama_core::vista::VistaOp;
use diorama_core::{Dio, ErrorKind, Lens, MemoryVista, Record, Value, Vista, record};

fn master() -> MemoryVista {
    MemoryVista::new("products").with_rows([("p1", record! { "price" => 39.71 })])
}

/// One simulated process: a runtime and a Dio over `backend`.
struct Process {
    sim: SimRuntime,
    dio: Option<Dio>,
}

impl Process {
    fn start(seed: u64, backend: Arc<FaultyBackend>, master: &MemoryVista) -> Process {
        Self::start_with(seed, backend, master, true)
    }

    fn start_with(
        seed: u64,
        backend: Arc<FaultyBackend>,
        master: &MemoryVista,
        durable: bool,
    ) -> Process {
        let sim = SimRuntime::new(seed);
        let lens = Lens::builder()
            .cache_source(backend)
            .runtime(sim.runtime())
            .durable_writes(durable)
            .build()
            .unwrap();
        let dio = sim
            .block_on(lens.make_dio(Vista::new(master.clone())))
            .unwrap();
        Process {
            sim,
            dio: Some(dio),
        }
    }

    fn dio(&self) -> &Dio {
        self.dio.as_ref().unwrap()
    }

    /// The process dies: nothing of it runs again.
    fn kill(mut self) {
        drop(self.dio.take());
        self.sim.shutdown();
    }

    /// What a record view of `id` shows once the process settled.
    fn shown(&self, id: &str) -> (RecordStatus, Option<Record>) {
        let view = self
            .sim
            .block_on(self.dio().record_scenery(id).open())
            .unwrap();
        self.sim.run_until_idle();
        (view.status(), view.record().map(|row| row.record.clone()))
    }
}

fn price(record: &Record) -> Option<f64> {
    match record.get("price") {
        Some(Value::Float(f)) => Some(*f),
        _ => None,
    }
}

/// Cache `p1` as the master has it, flushed.
fn warm(process: &Process) {
    let dio = process.dio();
    let row = CachedRow::complete(
        record! { "price" => 39.71 },
        Some(dio.runtime().wall_clock()),
    );
    dio.cache().insert_batch(vec![("p1".into(), row)]).unwrap();
    process.sim.block_on(dio.cache().flush()).unwrap();
}

#[test]
fn a_durable_write_survives_a_crash_before_it_reached_the_master() {
    let disk = FaultyDisk::new(1);
    let master = master();
    let first = Process::start(1, disk.backend(), &master);
    warm(&first);
    master.hold();
    let ticket = first
        .sim
        .block_on(first.dio().patch("p1", record! { "price" => 11.11 }))
        .unwrap();
    first.sim.block_on(ticket.durable()).unwrap();
    first.sim.run_until_idle();
    assert_eq!(master.get_row("p1"), Some(record! { "price" => 39.71 }));
    first.kill();
    master.release();

    let backend = disk.crash_and_reopen();
    let second = Process::start(2, backend, &master);
    // Before the replay reached the master the row reads pending with the
    // written value, never fresh with the old one.
    assert_eq!(
        second.dio().pending_write("p1").and_then(|p| p.record),
        Some(record! { "price" => 11.11 })
    );
    master.hold();
    let view = second
        .sim
        .block_on(second.dio().record_scenery("p1").open())
        .unwrap();
    second.sim.run_until_idle();
    assert_eq!(view.status(), RecordStatus::PendingWrite);
    assert_eq!(view.record().and_then(|r| price(&r.record)), Some(11.11));
    master.release();
    second.sim.run_until_idle();
    assert_eq!(master.get_row("p1"), Some(record! { "price" => 11.11 }));
    assert_eq!(master.applied_keys().len(), 1);
    let (status, shown) = second.shown("p1");
    assert_eq!(status, RecordStatus::Fresh);
    assert_eq!(shown.as_ref().and_then(price), Some(11.11));
    assert_eq!(second.dio().pending_writes(), 0);
}

#[test]
fn a_write_the_master_applied_before_the_crash_is_replayed_once() {
    let disk = FaultyDisk::new(2);
    let master = master();
    let first = Process::start(3, disk.backend(), &master);
    warm(&first);
    let ticket = first
        .sim
        .block_on(
            first
                .dio()
                .insert(Some("n1".into()), record! { "price" => 5.0 }),
        )
        .unwrap();
    first.sim.block_on(ticket.durable()).unwrap();
    assert_eq!(
        first.sim.block_on(ticket.outcome()).unwrap(),
        Some("n1".into())
    );
    // The answer was recorded in the cache but never flushed.
    first.kill();
    let second = Process::start(4, disk.crash_and_reopen(), &master);
    let mut events = second.dio().subscribe_events();
    assert!(second.dio().pending_write("n1").is_some(), "replayed");
    second.sim.run_until_idle();
    // The replay reached the master again under the same key, which
    // answered with its first answer instead of failing on a duplicate id.
    assert_eq!(master.calls(VistaOp::Insert), 2);
    assert_eq!(master.applied_keys().len(), 1);
    assert_eq!(master.len(), 2);
    let mut outcomes = Vec::new();
    while let Ok(event) = events.try_recv() {
        if matches!(
            event,
            DioEvent::WriteCompleted { .. } | DioEvent::WriteFailed { .. }
        ) {
            outcomes.push(event);
        }
    }
    assert_eq!(
        outcomes,
        [DioEvent::WriteCompleted {
            id: Some("n1".into())
        }]
    );
    let (status, shown) = second.shown("n1");
    assert_eq!(status, RecordStatus::Fresh);
    assert_eq!(shown, Some(record! { "price" => 5.0 }));
}

#[test]
fn replays_keep_their_order_and_new_writes_come_after() {
    let disk = FaultyDisk::new(3);
    let master = master();
    let first = Process::start(5, disk.backend(), &master);
    master.hold();
    for price in [1.0, 2.0, 3.0] {
        let ticket = first
            .sim
            .block_on(first.dio().patch("p1", record! { "price" => price }))
            .unwrap();
        first.sim.block_on(ticket.durable()).unwrap();
    }
    first.kill();
    master.release();
    let second = Process::start(6, disk.crash_and_reopen(), &master);
    let pending = second.dio().pending_write("p1").unwrap();
    assert_eq!(
        (pending.count, pending.record),
        (3, Some(record! { "price" => 3.0 }))
    );
    let ticket = second
        .sim
        .block_on(second.dio().patch("p1", record! { "price" => 4.0 }))
        .unwrap();
    let key = ticket.key().clone();
    second.sim.run_until_idle();
    assert_eq!(master.get_row("p1"), Some(record! { "price" => 4.0 }));
    let keys = master.applied_keys();
    assert_eq!(keys.len(), 4);
    // The new run's keys never repeat the earlier run's.
    assert!(key.run() > 1 && key.seq() == 1, "{key}");
}

#[test]
fn an_applied_write_the_cache_cannot_record_is_applied_and_refetched() {
    let disk = FaultyDisk::new(4);
    let master = master();
    let process = Process::start(7, disk.backend(), &master);
    warm(&process);
    let view = process
        .sim
        .block_on(process.dio().record_scenery("p1").open())
        .unwrap();
    process.sim.run_until_idle();
    let mut events = process.dio().subscribe_events();
    master.hold();
    let ticket = process
        .sim
        .block_on(process.dio().patch("p1", record! { "price" => 11.11 }))
        .unwrap();
    process.sim.block_on(ticket.durable()).unwrap();
    // The disk fills: the answer's batch fails, the row's delete does not.
    disk.fail_next_writes(1);
    master.release();
    let outcome = process.sim.block_on(ticket.outcome());
    process.sim.run_until_idle();
    assert_eq!(outcome.unwrap(), Some("p1".into()), "applied, not failed");
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    let failed = seen
        .iter()
        .position(|e| matches!(e, DioEvent::CacheWriteFailed { id: Some(id), .. } if id == "p1"))
        .expect("CacheWriteFailed published");
    let completed = seen
        .iter()
        .position(|e| matches!(e, DioEvent::WriteCompleted { .. }))
        .unwrap();
    assert!(failed < completed, "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, DioEvent::WriteFailed { .. })),
        "{seen:?}"
    );
    // The old value was dropped; the view shows the master's.
    assert_eq!(view.status(), RecordStatus::Fresh);
    assert_eq!(view.record().and_then(|r| price(&r.record)), Some(11.11));
}

#[test]
fn when_the_disk_refuses_even_the_drop_the_row_reads_pending_until_it_can() {
    let disk = FaultyDisk::new(5);
    let master = master();
    let process = Process::start(8, disk.backend(), &master);
    warm(&process);
    master.hold();
    let ticket = process
        .sim
        .block_on(process.dio().patch("p1", record! { "price" => 11.11 }))
        .unwrap();
    process.sim.block_on(ticket.durable()).unwrap();
    disk.fail_next_writes(2);
    master.release();
    assert!(process.sim.block_on(ticket.outcome()).is_ok());
    let (status, shown) = process.shown("p1");
    assert_eq!(status, RecordStatus::PendingWrite);
    assert_eq!(
        shown.as_ref().and_then(price),
        Some(11.11),
        "never the old value"
    );
    // The next write finds the disk writable again and drops the row.
    let other = process
        .sim
        .block_on(
            process
                .dio()
                .insert(Some("p2".into()), record! { "price" => 1.0 }),
        )
        .unwrap();
    assert!(process.sim.block_on(other.outcome()).is_ok());
    let (status, shown) = process.shown("p1");
    assert_eq!(status, RecordStatus::Fresh);
    assert_eq!(shown.as_ref().and_then(price), Some(11.11));
}

#[test]
fn an_intent_stored_at_the_second_try_is_durable_and_written() {
    let disk = FaultyDisk::new(6);
    let master = master();
    let process = Process::start(9, disk.backend(), &master);
    disk.fail_next_writes(1);
    let ticket = process
        .sim
        .block_on(process.dio().patch("p1", record! { "price" => 2.0 }))
        .unwrap();
    // The worker stores it again before sending it.
    process.sim.run_until_idle();
    process.sim.block_on(ticket.durable()).unwrap();
    assert_eq!(disk.stats().failed_writes, 1);
    assert!(process.sim.block_on(ticket.outcome()).is_ok());
    assert_eq!(master.get_row("p1"), Some(record! { "price" => 2.0 }));
}

#[test]
fn a_write_that_cannot_be_made_durable_is_not_sent() {
    let disk = FaultyDisk::new(7);
    let master = master();
    let first = Process::start(10, disk.backend(), &master);
    warm(&first);
    let mut events = first.dio().subscribe_events();
    disk.fail_next_flushes(2);
    let ticket = first
        .sim
        .block_on(first.dio().patch("p1", record! { "price" => 2.0 }))
        .unwrap();
    assert!(first.sim.block_on(ticket.durable()).is_err());
    let error = first.sim.block_on(ticket.outcome()).unwrap_err();
    assert!(
        error.message().contains("not sent to the master"),
        "{error}"
    );
    assert_eq!(master.calls(VistaOp::Patch), 0);
    let failed = std::iter::from_fn(|| events.try_recv().ok())
        .any(|e| matches!(e, DioEvent::WriteFailed { id: Some(id), .. } if id == "p1"));
    assert!(failed);
    // The user sees the value the master has.
    let (status, shown) = first.shown("p1");
    assert_eq!(shown.as_ref().and_then(price), Some(39.71), "{status:?}");
    first.kill();
    let second = Process::start(11, disk.crash_and_reopen(), &master);
    second.sim.run_until_idle();
    assert_eq!(second.dio().pending_writes(), 0, "nothing to replay");
    assert_eq!(master.get_row("p1"), Some(record! { "price" => 39.71 }));
}

#[test]
fn without_durable_writes_nothing_is_stored_and_durable_says_so() {
    let disk = FaultyDisk::new(8);
    let master = master();
    let process = Process::start_with(12, disk.backend(), &master, false);
    let ticket = process
        .sim
        .block_on(process.dio().patch("p1", record! { "price" => 2.0 }))
        .unwrap();
    let error = process.sim.block_on(ticket.durable()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert!(process.sim.block_on(ticket.outcome()).is_ok());
    let table = disk.backend().open_table("products").unwrap();
    let outbox = table.meta_range(b"w/", b"w0", usize::MAX).unwrap();
    assert!(outbox.is_empty());
}

#[test]
fn delete_all_keeps_the_intents_queued_behind_it() {
    let disk = FaultyDisk::new(9);
    let master = master();
    let first = Process::start(13, disk.backend(), &master);
    let dio = first.dio();
    // Every master call takes a second of virtual time.
    master.set_latency(Duration::from_secs(1), first.sim.runtime());
    let cleared = first.sim.block_on(dio.delete_all()).unwrap();
    let behind = first
        .sim
        .block_on(dio.insert(Some("after".into()), record! { "price" => 7.0 }))
        .unwrap();
    first.sim.block_on(behind.durable()).unwrap();
    first.sim.block_on(cleared.outcome()).unwrap();
    assert_eq!(master.get_row("after"), None, "still on its way");
    first.sim.block_on(dio.cache().flush()).unwrap();
    first.kill();
    master.clear_latency();
    let second = Process::start(14, disk.crash_and_reopen(), &master);
    second.sim.run_until_idle();
    assert_eq!(master.get_row("after"), Some(record! { "price" => 7.0 }));
    assert_eq!(master.get_row("p1"), None);
}

#[test]
fn a_chunk_the_cache_cannot_take_is_shown_and_the_failure_said() {
    use diorama_core::scenery::RowStatus;
    let disk = FaultyDisk::new(10);
    let master = MemoryVista::generate("products", 40, |i| {
        (format!("p{i:02}"), record! { "price" => i as f64 })
    });
    let sim = SimRuntime::new(15);
    let lens = Lens::builder()
        .cache_source(disk.backend())
        .runtime(sim.runtime())
        .page_from_master()
        .build()
        .unwrap();
    let dio = sim
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();
    let mut events = dio.subscribe_events();
    // Every cache write fails: the disk is full.
    disk.set_write_failure_rate(1.0);
    let view = sim
        .block_on(
            dio.table_scenery()
                .page_size(10)
                .initial_range(0..10)
                .open(),
        )
        .unwrap();
    sim.run_until_idle();
    for i in 0..10 {
        let row = view.row(i).unwrap_or_else(|| panic!("row {i} not shown"));
        assert_eq!(row.status, RowStatus::Fresh, "row {i}");
        assert_eq!(
            Some(row.record.clone()),
            master.get_row(&format!("p{i:02}"))
        );
    }
    let seen: Vec<DioEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert!(
        seen.iter()
            .any(|e| matches!(e, DioEvent::CacheWriteFailed { id: None, .. })),
        "{seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, DioEvent::LoadFailed { .. })),
        "{seen:?}"
    );
    assert_eq!(dio.cache().count().unwrap(), 0, "nothing was kept");
}

#[test]
fn after_a_rollback_the_older_outbox_is_not_replayed_and_later_intents_are() {
    let disk = FaultyDisk::new(11);
    let master = master();
    let first = Process::start(16, disk.backend(), &master);
    warm(&first);
    // Applied at the master and confirmed, then the disk goes back to a
    // flush when its intent was still in the outbox.
    let ticket = first
        .sim
        .block_on(first.dio().patch("p1", record! { "price" => 1.0 }))
        .unwrap();
    first.sim.block_on(ticket.durable()).unwrap();
    first.sim.block_on(ticket.outcome()).unwrap();
    let later = first
        .sim
        .block_on(first.dio().patch("p1", record! { "price" => 2.0 }))
        .unwrap();
    first.sim.block_on(later.outcome()).unwrap();
    first.sim.block_on(first.dio().cache().flush()).unwrap();
    first.kill();
    let backend = disk.rollback(2);
    let second = Process::start(17, backend.clone(), &master);
    second.sim.run_until_idle();
    assert_eq!(second.dio().pending_writes(), 0, "nothing replayed");
    assert_eq!(master.get_row("p1"), Some(record! { "price" => 2.0 }));
    let (status, shown) = second.shown("p1");
    assert_eq!(shown.as_ref().and_then(price), Some(2.0), "{status:?}");
    // A write queued under the same (still reported) rollback is replayed
    // by the next Dio over the same backend.
    master.hold();
    let queued = second
        .sim
        .block_on(second.dio().patch("p1", record! { "price" => 3.0 }))
        .unwrap();
    second.sim.block_on(queued.durable()).unwrap();
    second.kill();
    master.release();
    let third = Process::start(18, backend, &master);
    assert!(third.dio().pending_write("p1").is_some());
    third.sim.run_until_idle();
    assert_eq!(master.get_row("p1"), Some(record! { "price" => 3.0 }));
}

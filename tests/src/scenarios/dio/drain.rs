//! Test 7: nothing queued is lost by dropping handles; `shutdown` drains.

use std::time::Duration;

use diorama_core::sync::broadcast::RecvError;
use diorama_core::vista::VistaOp;
use diorama_core::{DioEvent, ErrorKind, Vista, WriteOp, record};

use super::support::{lens_on, products};
use crate::harness::Harness;

const WRITES: usize = 100;

fn insert(i: usize) -> WriteOp {
    WriteOp::Insert {
        id: Some(format!("w{i:03}")),
        record: record! { "i" => i as i64 },
    }
}

fn expected_ids() -> Vec<String> {
    (0..WRITES).map(|i| format!("w{i:03}")).collect()
}

/// Test 7a: Drop every `Dio` handle (the Dio and its facade) with 100 writes
/// queued behind a blocked master: all 100 still reach it, in order, and
/// then the Dio goes away (its event bus closes).
pub fn dropping_every_handle_drains_the_queue<H: Harness>(h: &H) {
    let master = products("products", 0);
    let lens = lens_on(h).build().unwrap();
    let dio = h
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();
    let facade = dio.vista();
    let mut events = dio.subscribe_events();

    master.hold();
    for i in 0..WRITES {
        // Tickets are dropped: that does not cancel the writes.
        drop(dio.try_write(insert(i)).unwrap());
    }
    h.settle();
    drop(facade);
    drop(dio);
    h.settle();
    assert_eq!(
        master.calls(VistaOp::Insert),
        1,
        "blocked on the first write"
    );

    master.release();
    let completed = h.block_on(async {
        let mut completed = 0;
        loop {
            match events.recv().await {
                Ok(DioEvent::WriteCompleted { .. }) => completed += 1,
                Ok(DioEvent::WriteFailed { id, error }) => panic!("{id:?} failed: {error}"),
                Ok(_) => {}
                Err(RecvError::Closed) => return completed,
                Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
            }
        }
    });
    assert_eq!(completed, WRITES);
    let ids: Vec<_> = master.rows().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, expected_ids());
}

/// Test 7b: `shutdown` returns only once every queued write has reached the
/// master; afterwards every handle refuses writes with `ShuttingDown`, and
/// a second `shutdown` returns at once.
pub fn shutdown_waits_for_queued_writes<H: Harness>(h: &H) {
    let master = products("products", 0);
    // Each master call takes a virtual millisecond, so the queue is still
    // full when shutdown starts.
    master.set_latency(Duration::from_millis(1), h.runtime());
    let lens = lens_on(h).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let other = dio.clone();
        for i in 0..WRITES {
            drop(dio.try_write(insert(i)).unwrap());
        }
        assert!(master.len() < WRITES);
        dio.shutdown().await.unwrap();
        let ids: Vec<_> = master.rows().into_iter().map(|(id, _)| id).collect();
        assert_eq!(
            ids,
            expected_ids(),
            "shutdown returned before the writes landed"
        );
        assert_eq!(dio.pending_writes(), 0);

        assert!(other.is_shutting_down());
        let refused = other
            .try_insert(Some("late".into()), record! {})
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ShuttingDown);
        let refused = dio.write(insert(999)).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ShuttingDown);
        other.shutdown().await.unwrap();
        assert_eq!(master.calls(VistaOp::Insert), WRITES);
    });
}

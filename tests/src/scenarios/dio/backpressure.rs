//! Test 6: a full queue refuses `try_` writes and makes awaited writes wait.

use diorama_core::sync::watch::generation;
use diorama_core::vista::VistaOp;
use diorama_core::{ErrorKind, RuntimeExt, Vista, WriteOp, record};

use super::support::{drain, lens_on, products};
use crate::harness::Harness;

fn insert(id: &str) -> WriteOp {
    WriteOp::Insert {
        id: Some(id.into()),
        record: record! { "name" => id },
    }
}

/// Test 6: Capacity 2 with the worker blocked on the master: two writes fill the
/// queue, `try_insert` fails at once with `WriteQueueFull` (publishing
/// nothing, queuing nothing), and an awaited insert waits until the worker
/// frees a slot, then completes.
pub fn full_queue_refuses_try_and_awaits_room<H: Harness>(h: &H) {
    let master = products("products", 0);
    let lens = lens_on(h).write_queue_capacity(2).build().unwrap();
    let rt = h.runtime();
    let dio = h
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();

    master.hold();
    let first = dio.try_write(insert("a1")).unwrap();
    h.settle();
    assert_eq!(master.in_flight(), 1, "the worker is blocked on a1");
    let second = dio.try_write(insert("a2")).unwrap();
    let third = dio.try_write(insert("a3")).unwrap();

    let mut events = dio.subscribe_events();
    let refused = dio
        .try_insert(Some("a4".into()), record! { "name" => "a4" })
        .expect_err("the queue is full");
    assert_eq!(refused.kind(), ErrorKind::WriteQueueFull);
    assert_eq!(
        drain(&mut events),
        vec![],
        "a refused write is not announced"
    );
    assert_eq!(dio.pending_writes(), 3);
    assert_eq!(dio.pending_write("a4"), None);

    let waiting = rt.spawn("awaited insert", {
        let dio = dio.clone();
        async move { dio.write(insert("a5")).await?.outcome().await }
    });
    h.settle();
    assert!(!waiting.is_finished(), "the awaited insert waits for room");
    assert_eq!(master.calls(VistaOp::Insert), 1);
    assert_eq!(dio.pending_writes(), 4, "a waiting write shows as pending");

    master.release();
    h.block_on(async {
        assert_eq!(waiting.await.unwrap(), Ok(Some("a5".into())));
        for ticket in [first, second, third] {
            ticket.outcome().await.unwrap();
        }
        let ids: Vec<_> = master.rows().into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["a1", "a2", "a3", "a5"]);
        assert_eq!(dio.pending_writes(), 0);
        dio.shutdown().await.unwrap();
    });
}

/// Every writer waiting for room gets in once there is room, also when the
/// worker frees several slots before the first writer it woke runs (a group
/// of writes that needed nothing from it). Capacity 2, `on_write` holding
/// `a1` and then `a3`: while `a1` is held, `a2` and `a3` fill the queue and
/// `a4` and `a5` wait. Letting `a1` go frees both slots (the worker takes
/// `a2` and `a3` and holds at `a3`): both waiting writes must be queued,
/// not only the first.
pub fn every_writer_waiting_for_room_gets_a_freed_slot<H: Harness>(h: &H) {
    let (gate, opened) = generation();
    let lens = lens_on(h)
        .write_queue_capacity(2)
        .on_write(move |_dio, op: WriteOp| {
            let wait_for = match op.id() {
                Some("a1") => 1,
                Some("a3") => 2,
                _ => 0,
            };
            let mut opened = opened.clone();
            async move {
                while opened.get().0 < wait_for {
                    opened
                        .changed()
                        .await
                        .map_err(|_| diorama_core::Error::failed("the gate closed"))?;
                }
                Ok(())
            }
        })
        .build()
        .unwrap();
    let rt = h.runtime();
    let dio = h
        .block_on(lens.make_dio(Vista::new(products("products", 0))))
        .unwrap();
    let first = dio.try_write(insert("a1")).unwrap();
    h.settle();
    let _queued = [
        dio.try_write(insert("a2")).unwrap(),
        dio.try_write(insert("a3")).unwrap(),
    ];
    let waiting: Vec<_> = ["a4", "a5"]
        .into_iter()
        .map(|id| {
            let dio = dio.clone();
            rt.spawn("awaited insert", async move { dio.write(insert(id)).await })
        })
        .collect();
    h.settle();
    assert!(
        waiting.iter().all(|task| !task.is_finished()),
        "the queue is full: both wait"
    );

    gate.bump();
    h.settle_until("both waiting writes are queued", || {
        waiting.iter().all(|task| task.is_finished())
    });
    assert_eq!(dio.pending_writes(), 3, "a3 (held), a4 and a5");

    gate.bump();
    h.block_on(async {
        first.outcome().await.unwrap();
        for task in waiting {
            task.await.unwrap().unwrap().outcome().await.unwrap();
        }
        assert_eq!(dio.pending_writes(), 0);
        dio.shutdown().await.unwrap();
    });
}

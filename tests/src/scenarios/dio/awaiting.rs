//! The awaiting write forms: `insert`, `replace`, `patch`, `delete` and
//! `delete_all` wait for room in the queue where their `try_` forms refuse.

use diorama_core::{ErrorKind, RuntimeExt, Vista, record};

use super::support::{cache_rows, copy_master, lens_on, master_rows, products};
use crate::harness::Harness;

/// Capacity 1 with the worker blocked on the master: `try_patch` is refused
/// with `WriteQueueFull` while an awaited `patch` waits for room and then
/// writes through; each awaiting form queues its op and the master and the
/// cache agree after each; after shutdown they fail with `ShuttingDown`.
pub fn awaiting_writes_wait_for_room_and_write_through<H: Harness>(h: &H) {
    let master = products("products", 3);
    let lens = lens_on(h)
        .on_start(copy_master)
        .write_queue_capacity(1)
        .build()
        .unwrap();
    let dio = h
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();

    master.hold();
    let first = dio.try_patch("p000", record! { "price" => 10 }).unwrap();
    // On a disk cache the worker first flushes the write's intent (real
    // I/O off the executor), so wait for the master call itself.
    h.settle_until("the worker is blocked on the first", || {
        master.in_flight() == 1
    });
    let second = dio.try_delete("p001").unwrap();
    let waiting = h.runtime().spawn("awaited patch", {
        let dio = dio.clone();
        async move {
            dio.patch("p002", record! { "price" => 20 })
                .await?
                .outcome()
                .await
        }
    });
    h.settle();
    assert!(!waiting.is_finished(), "the awaited patch waits for room");
    let refused = dio
        .try_patch("p002", record! { "price" => 30 })
        .expect_err("the queue is full");
    assert_eq!(refused.kind(), ErrorKind::WriteQueueFull);

    master.release();
    h.block_on(async {
        assert_eq!(waiting.await.unwrap(), Ok(Some("p002".into())));
        first.outcome().await.unwrap();
        second.outcome().await.unwrap();
        assert_eq!(
            master.get_row("p002").unwrap().get("price"),
            Some(&20.into())
        );
        assert_eq!(master.get_row("p001"), None);

        let id = dio
            .insert(None, record! { "name" => "anonymous" })
            .await
            .unwrap()
            .outcome()
            .await
            .unwrap()
            .expect("the master's id");
        dio.replace(id.clone(), record! { "name" => "named" })
            .await
            .unwrap()
            .outcome()
            .await
            .unwrap();
        assert_eq!(master.get_row(&id), Some(record! { "name" => "named" }));
        dio.delete("p000").await.unwrap().outcome().await.unwrap();
        assert_eq!(cache_rows(dio.cache()), master_rows(&master));
        assert_eq!(master.len(), 2);

        let all = dio.delete_all().await.unwrap().outcome().await;
        assert_eq!(all, Ok(None), "delete_all names no row");
        assert!(master.is_empty());
        assert_eq!(dio.cache().count().unwrap(), 0);

        dio.shutdown().await.unwrap();
        let late = dio.patch("p002", record! { "price" => 1 }).await;
        assert_eq!(late.unwrap_err().kind(), ErrorKind::ShuttingDown);
    });
}

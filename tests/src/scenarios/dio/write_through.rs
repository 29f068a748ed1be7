//! Test 5: the default write-through (no `on_write`).

use diorama_core::vista::VistaOp;
use diorama_core::{Dio, DioEvent, ErrorKind, Vista, WriteOp, record};

use super::support::{
    cache_rows, completed, copy_master, drain, lens_on, master_rows, products, queued,
};
use crate::harness::Harness;

/// Queue `op`, wait for its outcome, and return the events it published.
async fn write_and_collect(
    dio: &Dio,
    op: WriteOp,
) -> (diorama_core::Result<Option<String>>, Vec<DioEvent>) {
    let mut events = dio.subscribe_events();
    let outcome = dio.write(op).await.unwrap().outcome().await;
    (outcome, drain(&mut events))
}

/// Test 5a: Insert (with and without id), replace, patch, delete and delete-all
/// change the master and then the cache, publishing
/// `WriteQueued`, the data event, `WriteCompleted`, exactly.
pub fn write_through_changes_master_then_cache<H: Harness>(h: &H) {
    let master = products("products", 5);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let in_sync = |what: &str| {
            assert_eq!(
                cache_rows(dio.cache()),
                master_rows(&master),
                "after {what}"
            );
        };

        let (outcome, events) = write_and_collect(
            &dio,
            WriteOp::Insert {
                id: Some("n1".into()),
                record: record! { "name" => "new" },
            },
        )
        .await;
        assert_eq!(outcome, Ok(Some("n1".into())));
        let inserted = DioEvent::RecordInserted { id: "n1".into() };
        assert_eq!(events, vec![queued("n1"), inserted, completed("n1")]);
        assert_eq!(master.get_row("n1"), Some(record! { "name" => "new" }));
        in_sync("insert");

        // Without an id the master chooses it; events name the chosen id.
        let (outcome, events) = write_and_collect(
            &dio,
            WriteOp::Insert {
                id: None,
                record: record! { "name" => "anonymous" },
            },
        )
        .await;
        let chosen = outcome.unwrap().expect("the master's id");
        assert_eq!(
            master.get_row(&chosen),
            Some(record! { "name" => "anonymous" })
        );
        assert_eq!(
            events,
            vec![
                DioEvent::WriteQueued { id: None },
                DioEvent::RecordInserted { id: chosen.clone() },
                completed(&chosen),
            ]
        );
        in_sync("insert without id");

        let (outcome, events) = write_and_collect(
            &dio,
            WriteOp::Replace {
                id: "p001".into(),
                record: record! { "name" => "replaced" },
            },
        )
        .await;
        assert_eq!(outcome, Ok(Some("p001".into())));
        let changed = DioEvent::RecordChanged { id: "p001".into() };
        assert_eq!(events, vec![queued("p001"), changed, completed("p001")]);
        assert_eq!(
            master.get_row("p001"),
            Some(record! { "name" => "replaced" })
        );
        in_sync("replace");

        let (outcome, events) = write_and_collect(
            &dio,
            WriteOp::Patch {
                id: "p002".into(),
                fields: record! { "price" => 99, "tag" => "sale" },
            },
        )
        .await;
        assert_eq!(outcome, Ok(Some("p002".into())));
        let changed = DioEvent::RecordChanged { id: "p002".into() };
        assert_eq!(events, vec![queued("p002"), changed, completed("p002")]);
        assert_eq!(
            master.get_row("p002"),
            Some(
                record! { "name" => "product 2", "price" => 99, "color" => "red", "tag" => "sale" }
            )
        );
        in_sync("patch");

        let (outcome, events) =
            write_and_collect(&dio, WriteOp::Delete { id: "p003".into() }).await;
        assert_eq!(outcome, Ok(Some("p003".into())));
        let removed = DioEvent::RecordRemoved { id: "p003".into() };
        assert_eq!(events, vec![queued("p003"), removed, completed("p003")]);
        assert_eq!(master.get_row("p003"), None);
        in_sync("delete");

        let (outcome, events) = write_and_collect(&dio, WriteOp::DeleteAll).await;
        assert_eq!(outcome, Ok(None));
        assert_eq!(
            events,
            vec![
                DioEvent::WriteQueued { id: None },
                DioEvent::Invalidated,
                DioEvent::WriteCompleted { id: None },
            ]
        );
        assert!(master.is_empty());
        assert_eq!(dio.cache().count().unwrap(), 0);
        assert_eq!(dio.pending_writes(), 0);
        dio.shutdown().await.unwrap();
    });
}

/// Test 5b: The facade's writes take the same path; an insert without id
/// returns the id the master chose once the write is done.
pub fn facade_writes_go_through_the_queue<H: Harness>(h: &H) {
    let master = products("products", 2);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let facade = dio.vista();
        let id = facade
            .insert(None, record! { "name" => "via facade" })
            .await
            .unwrap();
        assert_eq!(
            master.get_row(&id),
            Some(record! { "name" => "via facade" })
        );
        assert_eq!(facade.get(&id).await.unwrap(), master.get_row(&id));
        facade
            .patch(&id, record! { "name" => "patched" })
            .await
            .unwrap();
        facade.delete("p000").await.unwrap();
        // The facade returns once queued; shutdown waits for the worker.
        dio.shutdown().await.unwrap();
        assert_eq!(master.get_row(&id), Some(record! { "name" => "patched" }));
        assert_eq!(master.get_row("p000"), None);
        assert_eq!(cache_rows(dio.cache()), master_rows(&master));
    });
}

/// Test 5c: A failing master publishes exactly one `WriteFailed` per op and
/// leaves the cache (and the master) unchanged; the next op still runs.
pub fn write_through_failure_leaves_cache_unchanged<H: Harness>(h: &H) {
    let master = products("products", 5);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    let failing = [
        (
            VistaOp::Insert,
            WriteOp::Insert {
                id: Some("n1".into()),
                record: record! { "name" => "new" },
            },
        ),
        (
            VistaOp::Replace,
            WriteOp::Replace {
                id: "p001".into(),
                record: record! { "name" => "replaced" },
            },
        ),
        (
            VistaOp::Patch,
            WriteOp::Patch {
                id: "p002".into(),
                fields: record! { "price" => 99 },
            },
        ),
        (VistaOp::Delete, WriteOp::Delete { id: "p003".into() }),
        (VistaOp::DeleteAll, WriteOp::DeleteAll),
    ];
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let before = cache_rows(dio.cache());
        let master_before = master.rows();
        for (vista_op, op) in failing {
            master.fail_next(vista_op, 1);
            let id = op.id().map(String::from);
            let (outcome, events) = write_and_collect(&dio, op).await;
            let error = outcome.expect_err("the master fails");
            assert_eq!(error.kind(), ErrorKind::Failed);
            assert_eq!(
                events,
                vec![
                    DioEvent::WriteQueued { id: id.clone() },
                    DioEvent::WriteFailed { id, error },
                ],
                "{vista_op}"
            );
            assert_eq!(
                cache_rows(dio.cache()),
                before,
                "cache after failed {vista_op}"
            );
            assert_eq!(
                master.rows(),
                master_before,
                "master after failed {vista_op}"
            );
            assert_eq!(master.calls(vista_op), 1);
        }
        // The worker goes on.
        let (outcome, _) = write_and_collect(&dio, WriteOp::Delete { id: "p003".into() }).await;
        assert_eq!(outcome, Ok(Some("p003".into())));
        assert_eq!(cache_rows(dio.cache()), master_rows(&master));
        dio.shutdown().await.unwrap();
    });
}

//! Tests 4 and 13b: `on_write` routes every op in order; a failing
//! callback yields one `WriteFailed` and never stops the worker.

use std::sync::{Arc, Mutex};

use diorama_core::{DioEvent, Error, ErrorKind, Vista, WriteOp, record};

use super::support::{completed, drain, lens_on, outcomes, products, queued};
use crate::harness::Harness;

/// The ops of the scenario, in enqueue order; the one on `bad` fails.
fn ops() -> Vec<WriteOp> {
    vec![
        WriteOp::Insert {
            id: Some("a".into()),
            record: record! { "n" => 1 },
        },
        WriteOp::Replace {
            id: "a".into(),
            record: record! { "n" => 2 },
        },
        WriteOp::Patch {
            id: "bad".into(),
            fields: record! { "n" => 3 },
        },
        WriteOp::Delete { id: "a".into() },
        WriteOp::DeleteAll,
        WriteOp::Patch {
            id: "b".into(),
            fields: record! { "n" => 4 },
        },
    ]
}

/// Test 4: With `on_write`, the callback receives every op in enqueue order; a
/// failing op publishes exactly one `WriteFailed` with its id, the next op
/// still runs, and the master is never touched by the Dio.
pub fn on_write_receives_ops_in_order<H: Harness>(h: &H) {
    let master = products("products", 3);
    let seen: Arc<Mutex<Vec<WriteOp>>> = Arc::default();
    let lens = lens_on(h)
        .on_write({
            let seen = seen.clone();
            move |_dio, op: WriteOp| {
                seen.lock().unwrap().push(op.clone());
                async move {
                    match op.id() {
                        Some("bad") => Err(Error::failed("refused by policy")),
                        _ => Ok(()),
                    }
                }
            }
        })
        .build()
        .unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let mut events = dio.subscribe_events();
        let mut tickets = Vec::new();
        for op in ops() {
            tickets.push(dio.write(op).await.unwrap());
        }
        let mut results = Vec::new();
        for ticket in tickets {
            results.push(ticket.outcome().await);
        }
        assert_eq!(*seen.lock().unwrap(), ops());
        assert_eq!(
            results,
            vec![
                Ok(Some("a".into())),
                Ok(Some("a".into())),
                Err(Error::failed("refused by policy")),
                Ok(Some("a".into())),
                Ok(None),
                Ok(Some("b".into())),
            ]
        );

        let events = drain(&mut events);
        let queued_events: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, DioEvent::WriteQueued { .. }))
            .cloned()
            .collect();
        assert_eq!(
            queued_events,
            vec![
                queued("a"),
                queued("a"),
                queued("bad"),
                queued("a"),
                DioEvent::WriteQueued { id: None },
                queued("b"),
            ]
        );
        assert_eq!(
            outcomes(&events),
            vec![
                completed("a"),
                completed("a"),
                DioEvent::WriteFailed {
                    id: Some("bad".into()),
                    error: Error::failed("refused by policy"),
                },
                completed("a"),
                DioEvent::WriteCompleted { id: None },
                completed("b"),
            ]
        );
        // on_write owns the routing: no data event, no master call.
        assert_eq!(
            events.len(),
            12,
            "only queue and outcome events: {events:?}"
        );
        assert_eq!(master.total_calls(), 0);
        assert_eq!(dio.pending_writes(), 0);
        dio.shutdown().await.unwrap();
    });
}

/// Test 4b: A failing `DeleteAll` reports `WriteFailed` with no id.
pub fn failing_delete_all_reports_no_id<H: Harness>(h: &H) {
    let lens = lens_on(h)
        .on_write(|_dio, op: WriteOp| async move {
            match op {
                WriteOp::DeleteAll => Err(Error::failed("not today")),
                _ => Ok(()),
            }
        })
        .build()
        .unwrap();
    h.block_on(async {
        let dio = lens
            .make_dio(Vista::new(products("products", 1)))
            .await
            .unwrap();
        let mut events = dio.subscribe_events();
        let outcome = dio.try_delete_all().unwrap().outcome().await;
        assert_eq!(outcome, Err(Error::failed("not today")));
        assert_eq!(
            drain(&mut events),
            vec![
                DioEvent::WriteQueued { id: None },
                DioEvent::WriteFailed {
                    id: None,
                    error: Error::failed("not today"),
                },
            ]
        );
        dio.shutdown().await.unwrap();
    });
}

/// Test 13b: A callback returning `Err` never stops the Dio: 1,000 failing
/// writes (through the backpressured queue), then a good one succeeds.
pub fn thousand_failing_writes_then_a_good_one<H: Harness>(h: &H) {
    const FAILING: usize = 1_000;
    let lens = lens_on(h)
        .write_queue_capacity(16)
        .on_write(|_dio, op: WriteOp| async move {
            match op.id() {
                Some("good") => Ok(()),
                _ => Err(Error::failed("callback failed")),
            }
        })
        .build()
        .unwrap();
    h.block_on(async {
        let dio = lens
            .make_dio(Vista::new(products("products", 1)))
            .await
            .unwrap();
        let mut tickets = Vec::with_capacity(FAILING);
        for i in 0..FAILING {
            let op = WriteOp::Patch {
                id: format!("x{i}"),
                fields: record! { "i" => i as i64 },
            };
            tickets.push(dio.write(op).await.unwrap());
        }
        let mut failed = 0;
        for ticket in tickets {
            let error = ticket.outcome().await.expect_err("the callback fails");
            assert_eq!(error.kind(), ErrorKind::Failed);
            failed += 1;
        }
        assert_eq!(failed, FAILING);

        let mut events = dio.subscribe_events();
        let good = dio.try_delete("good").unwrap().outcome().await;
        assert_eq!(good, Ok(Some("good".into())));
        assert_eq!(drain(&mut events), vec![queued("good"), completed("good")]);
        dio.shutdown().await.unwrap();
    });
}

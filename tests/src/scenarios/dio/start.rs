//! Tests 1 and 2: `on_start` warms the cache; facade reads then stay local.

use diorama_core::vista::{CmpOp, SortDir, VistaOp};
use diorama_core::{Dio, DioEvent, Error, ErrorKind, Vista};

use super::support::{Counter, cache_rows, copy_master, drain, lens_on, master_rows, products};
use crate::harness::Harness;

/// Test 1a: A blocking `on_start` copying the master: when `make_dio` returns,
/// the cache holds every master row.
pub fn on_start_blocking_fills_cache<H: Harness>(h: &H) {
    let master = products("products", 25);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        assert_eq!(dio.table_name(), "products");
        assert_eq!(cache_rows(dio.cache()), master_rows(&master));
        assert_eq!(master.calls(VistaOp::List), 1);
        dio.started().await.unwrap();
        dio.shutdown().await.unwrap();
    });
}

/// Test 1b: With blocking off, `make_dio` returns before `on_start` has read the
/// master; the rows arrive later and `started` reports the outcome.
pub fn on_start_non_blocking_fills_cache_later<H: Harness>(h: &H) {
    let master = products("products", 25);
    let lens = lens_on(h)
        .on_start(copy_master)
        .on_start_blocking(false)
        .build()
        .unwrap();
    // The master answers only when released, so `on_start` cannot finish
    // before `make_dio` returns, whatever the schedule.
    master.hold();
    let dio = h.block_on(lens.make_dio(Vista::new(master.clone())));
    let dio = dio.expect("make_dio does not wait for on_start");
    h.settle();
    assert_eq!(dio.cache().count().unwrap(), 0, "rows before on_start ran");
    assert_eq!(master.in_flight(), 1, "on_start is waiting on the master");

    master.release();
    h.block_on(async {
        dio.started().await.unwrap();
        assert_eq!(cache_rows(dio.cache()), master_rows(&master));
        dio.shutdown().await.unwrap();
    });
}

/// Test 1c: A failing blocking `on_start` fails `make_dio`; a failing
/// non-blocking one publishes `StartFailed` and `started` returns its error.
pub fn on_start_failure_is_reported<H: Harness>(h: &H) {
    let master = products("products", 3);
    master.fail_next(VistaOp::List, 1);
    let blocking = lens_on(h).on_start(copy_master).build().unwrap();
    let error = h
        .block_on(blocking.make_dio(Vista::new(master.clone())))
        .expect_err("a failing blocking on_start fails make_dio");
    assert_eq!(error.kind(), ErrorKind::Failed);

    let calls = Counter::default();
    let lens = lens_on(h)
        .on_start_blocking(false)
        .on_start({
            let calls = calls.clone();
            move |dio: Dio| {
                calls.hit();
                async move {
                    // Asks the (held) master first, so the failure cannot be
                    // published before the test subscribes, even with
                    // on_start running on another thread.
                    dio.master().count().await?;
                    Err(Error::failed("warm-up refused"))
                }
            }
        })
        .build()
        .unwrap();
    master.hold();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let mut events = dio.subscribe_events();
        master.release();
        let outcome = dio.started().await;
        assert_eq!(outcome, Err(Error::failed("warm-up refused")));
        assert_eq!(
            drain(&mut events),
            vec![DioEvent::StartFailed {
                error: Error::failed("warm-up refused")
            }]
        );
        assert_eq!(calls.get(), 1);
        // The Dio still works.
        let ticket = dio.try_insert(Some("n1".into()), Default::default());
        ticket.unwrap().outcome().await.unwrap();
        dio.shutdown().await.unwrap();
    });
}

/// Test 2: After `on_start`, facade reads (list, narrowed list, get, count,
/// window) are answered from the cache: no master call.
pub fn facade_reads_after_start_skip_master<H: Harness>(h: &H) {
    let master = products("products", 30);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        master.reset_calls();
        let facade = dio.vista();

        assert_eq!(facade.list().await.unwrap(), master_rows(&master));
        let narrowed = facade
            .clone()
            .where_eq("color", "red")
            .where_op("price", CmpOp::Gte, 10)
            .with_sort("price", SortDir::Desc);
        let direct = Vista::new(master.clone())
            .where_eq("color", "red")
            .where_op("price", CmpOp::Gte, 10)
            .with_sort("price", SortDir::Desc);
        let expected = direct.list().await.unwrap();
        master.reset_calls();
        assert!(!expected.is_empty());
        assert_eq!(narrowed.list().await.unwrap(), expected);
        assert_eq!(narrowed.count().await.unwrap(), expected.len());
        let page = narrowed.fetch_window(2, 3).await.unwrap();
        assert_eq!(page.rows, expected[2..5].to_vec());
        assert_eq!(page.total, Some(expected.len()));
        assert_eq!(facade.count().await.unwrap(), 30);
        assert_eq!(
            facade.get("p007").await.unwrap(),
            master.get_row("p007"),
            "get of a cached row"
        );
        assert_eq!(master.total_calls(), 0, "a facade read reached the master");
        dio.shutdown().await.unwrap();
    });
}

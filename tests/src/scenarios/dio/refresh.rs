//! Test 8: manual and scheduled refresh share one path.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::{DioEvent, Error, ErrorKind, Instant, Vista};
use futures_lite::future;

use super::support::{Counter, drain, lens_on, products};
use crate::harness::Harness;

/// Test 8a: `refresh()` publishes `[Refreshing, Invalidated]`; a failing
/// `on_refresh` publishes `[Refreshing, RefreshFailed]` and returns its error.
pub fn manual_refresh_publishes_outcome<H: Harness>(h: &H) {
    let calls = Counter::default();
    let lens = lens_on(h)
        .on_refresh({
            let calls = calls.clone();
            move |_dio| {
                let n = calls.hit();
                async move {
                    if n == 1 {
                        Err(Error::failed("master unreachable"))
                    } else {
                        Ok(())
                    }
                }
            }
        })
        .build()
        .unwrap();
    h.block_on(async {
        let dio = lens
            .make_dio(Vista::new(products("products", 2)))
            .await
            .unwrap();
        let mut events = dio.subscribe_events();

        dio.refresh().await.unwrap();
        assert_eq!(
            drain(&mut events),
            vec![DioEvent::Refreshing, DioEvent::Invalidated]
        );

        let error = dio.refresh().await.expect_err("on_refresh fails");
        assert_eq!(error, Error::failed("master unreachable"));
        assert_eq!(
            drain(&mut events),
            vec![DioEvent::Refreshing, DioEvent::RefreshFailed { error }]
        );

        dio.refresh().await.unwrap();
        assert_eq!(
            drain(&mut events),
            vec![DioEvent::Refreshing, DioEvent::Invalidated]
        );
        assert_eq!(calls.get(), 3);
        dio.shutdown().await.unwrap();
    });
}

/// Test 8b: `refresh_every(10 min)` over one hour runs 6 times, at 10, 20,
/// …, 60 minutes (never at t=0), publishing like `refresh()`; the failure
/// of the second run does not stop it; it stops with the Dio.
///
/// On a virtual clock the instants are exact. On a real clock the spans are
/// [`scaled`](Harness::scaled) down and the scenario waits for the sixth
/// run instead of sleeping, then checks order and lower bounds: the k-th
/// run never comes before k intervals.
pub fn scheduled_refresh_runs_on_time_and_survives_failures<H: Harness>(h: &H) {
    let minute = h.scaled(Duration::from_secs(60));
    let interval = 10 * minute;
    let rt = h.runtime();
    let runs: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let lens = lens_on(h)
        .refresh_every(interval)
        .on_refresh({
            let runs = runs.clone();
            let rt = rt.clone();
            move |_dio| {
                let n = {
                    let mut runs = runs.lock().unwrap();
                    runs.push(rt.now());
                    runs.len()
                };
                async move {
                    if n == 2 {
                        Err(Error::failed("second run fails"))
                    } else {
                        Ok(())
                    }
                }
            }
        })
        .build()
        .unwrap();
    let start = rt.now();
    let offsets = || -> Vec<Duration> { runs.lock().unwrap().iter().map(|t| *t - start).collect() };
    let dio = h
        .block_on(lens.make_dio(Vista::new(products("products", 2))))
        .unwrap();
    let mut events = dio.subscribe_events();
    h.settle();
    assert!(
        offsets().iter().all(|offset| *offset >= interval),
        "no refresh at t=0: {:?}",
        offsets()
    );

    let expected: Vec<Duration> = (1..=6).map(|k| k * interval).collect();
    if h.virtual_clock() {
        h.advance(60 * minute);
        assert_eq!(offsets(), expected);
    } else {
        h.settle_until("six scheduled refreshes", || {
            runs.lock().unwrap().len() >= 6
        });
        let offsets = offsets();
        for (k, offset) in offsets.iter().enumerate() {
            let earliest = (k as u32 + 1) * interval;
            assert!(*offset >= earliest, "run {k} came early: {offsets:?}");
        }
    }

    let mut expected_events = Vec::new();
    for k in 1..=6 {
        expected_events.push(DioEvent::Refreshing);
        expected_events.push(if k == 2 {
            DioEvent::RefreshFailed {
                error: Error::failed("second run fails"),
            }
        } else {
            DioEvent::Invalidated
        });
    }
    let mut seen = drain(&mut events);
    if !h.virtual_clock() {
        // A real clock may have started a seventh run meanwhile.
        seen.truncate(expected_events.len());
    }
    assert_eq!(seen, expected_events);

    drop(dio);
    h.settle();
    let after_drop = runs.lock().unwrap().len();
    h.advance(60 * minute);
    assert_eq!(
        runs.lock().unwrap().len(),
        after_drop,
        "the loop ends with the Dio"
    );
    if h.virtual_clock() {
        assert_eq!(after_drop, 6);
    }
}

/// A refresh dropped while `on_refresh` runs still ends in one outcome,
/// `RefreshFailed` with `Cancelled`, and invalidates nothing; the next
/// refresh runs as usual.
pub fn a_dropped_refresh_still_ends_in_an_outcome<H: Harness>(h: &H) {
    let calls = Counter::default();
    let lens = lens_on(h)
        .on_refresh({
            let calls = calls.clone();
            move |_dio| {
                let first = calls.hit() == 0;
                async move {
                    if first {
                        // The first refresh never finishes on its own.
                        future::pending::<()>().await;
                    }
                    Ok(())
                }
            }
        })
        .build()
        .unwrap();
    let dio = h
        .block_on(lens.make_dio(Vista::new(products("products", 2))))
        .unwrap();
    let mut events = dio.subscribe_events();
    let invalidated_at = dio.invalidated_at();

    h.block_on(async {
        let mut refresh = Box::pin(dio.refresh());
        assert!(
            future::poll_once(&mut refresh).await.is_none(),
            "on_refresh is running"
        );
        drop(refresh);
    });
    assert_eq!(
        drain(&mut events),
        vec![
            DioEvent::Refreshing,
            DioEvent::RefreshFailed {
                error: Error::new(
                    ErrorKind::Cancelled,
                    "the refresh was dropped before it finished"
                ),
            }
        ]
    );
    assert_eq!(dio.invalidated_at(), invalidated_at, "nothing invalidated");

    h.block_on(dio.refresh()).unwrap();
    assert_eq!(
        drain(&mut events),
        vec![DioEvent::Refreshing, DioEvent::Invalidated]
    );
    assert_eq!(calls.get(), 2);
}

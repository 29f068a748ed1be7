//! The two clocks: `now` never goes back, the wall clock is plausible and
//! follows a virtual clock exactly.

use std::time::Duration;

use futures_lite::future::yield_now;

use diorama_core::RuntimeExt;
use diorama_core::runtime::Timestamp;

use super::support::assert_span;
use crate::harness::Harness;

/// 2021-01-01T00:00:00Z and 2200-01-01T00:00:00Z in Unix milliseconds: a
/// wall clock outside them is not Unix milliseconds of this era.
const PLAUSIBLE: (Timestamp, Timestamp) = (
    Timestamp::from_millis(1_609_459_200_000),
    Timestamp::from_millis(7_258_118_400_000),
);

/// A long span on a virtual clock (it costs no wall time), a short one on
/// a real clock.
fn span<H: Harness>(h: &H) -> Duration {
    if h.virtual_clock() {
        Duration::from_secs(3_600)
    } else {
        h.scaled(Duration::from_secs(60))
    }
}

/// `now` never goes back: over many readings, between the test and a task
/// (each reading after the other), from another thread; a sleep moves it by
/// at least its span, exactly on a virtual clock.
pub fn now_is_monotonic<H: Harness>(h: &H) {
    let rt = h.runtime();
    let mut last = rt.now();
    for _ in 0..1_000 {
        let now = rt.now();
        assert!(now >= last, "now went back: {now:?} after {last:?}");
        last = now;
    }

    let before = rt.now();
    let reader_rt = rt.clone();
    let seen = h
        .block_on(rt.spawn("reader", async move {
            yield_now().await;
            reader_rt.now()
        }))
        .expect("the reader finishes");
    assert!(seen >= before, "a task read {seen:?} after {before:?}");
    let after = rt.now();
    assert!(after >= seen, "read {after:?} after a task's {seen:?}");

    let thread_rt = rt.clone();
    let from_thread = std::thread::spawn(move || thread_rt.now())
        .join()
        .expect("reading now from another thread does not panic");
    assert!(from_thread >= after, "another thread read {from_thread:?}");
    assert!(rt.now() >= from_thread);

    let span = span(h);
    let before = rt.now();
    h.block_on(rt.sleep(span));
    let after = rt.now();
    assert!(after >= before);
    assert_span(h, after - before, span, "now across a sleep");
}

/// The wall clock is Unix milliseconds of this era and never goes back
/// over readings and sleeps; on a virtual clock it moves exactly as `now`
/// does (through a sleep and through `advance`) and not at all otherwise.
pub fn the_wall_clock_is_plausible_and_follows_time<H: Harness>(h: &H) {
    let rt = h.runtime();
    let first = rt.wall_clock();
    assert!(
        first >= PLAUSIBLE.0 && first < PLAUSIBLE.1,
        "{first:?} is not Unix milliseconds of this era"
    );
    let mut last = first;
    for _ in 0..100 {
        let wall = rt.wall_clock();
        assert!(
            wall >= last,
            "the wall clock went back: {wall:?} after {last:?}"
        );
        last = wall;
    }

    let span = span(h);
    let (wall_before, now_before) = (rt.wall_clock(), rt.now());
    h.block_on(rt.sleep(span));
    let (wall_after, now_after) = (rt.wall_clock(), rt.now());
    assert!(
        wall_after >= wall_before,
        "the wall clock went back over a sleep"
    );
    if h.virtual_clock() {
        assert_eq!(
            wall_after.saturating_duration_since(wall_before),
            now_after - now_before,
            "the wall clock follows virtual time through a sleep"
        );

        let (wall_before, now_before) = (rt.wall_clock(), rt.now());
        h.settle();
        assert_eq!(rt.wall_clock(), wall_before, "nothing moves it but time");
        let day = Duration::from_secs(86_400);
        h.advance(day);
        assert_eq!(rt.now() - now_before, day);
        assert_eq!(
            rt.wall_clock().saturating_duration_since(wall_before),
            day,
            "the wall clock follows virtual time through advance"
        );
    }
}

//! Behaviour of `core::sync::watch`: bump/changed/closed, waking, monotonicity.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use diorama_core::sync::watch::{self, Closed, Generation};
use futures_lite::future::block_on;

#[test]
fn changed_returns_the_latest_generation_once() {
    let (tx, mut rx) = watch::generation();
    assert_eq!(tx.get(), Generation(0));
    assert!(!rx.has_changed());
    assert_eq!(tx.bump(), Generation(1));
    assert_eq!(tx.bump(), Generation(2));
    assert!(rx.has_changed());
    assert_eq!(rx.get(), Generation(2));
    // Two bumps collapse into one change carrying the latest value.
    assert_eq!(block_on(rx.changed()), Ok(Generation(2)));
    assert!(!rx.has_changed());
    assert_eq!(rx.seen(), Generation(2));
}

#[test]
fn changed_waits_for_the_next_bump() {
    let (tx, mut rx) = watch::generation();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut changed = pin!(rx.changed());
    assert!(changed.as_mut().poll(&mut cx).is_pending());
    tx.bump();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        changed.as_mut().poll(&mut cx),
        Poll::Ready(Ok(Generation(1)))
    );
}

#[test]
fn a_subscriber_has_seen_the_current_generation() {
    let (tx, _rx) = watch::generation();
    tx.bump();
    let mut sub = tx.subscribe();
    assert!(!sub.has_changed());
    assert_eq!(sub.seen(), Generation(1));
    tx.bump();
    assert_eq!(block_on(sub.changed()), Ok(Generation(2)));
}

#[test]
fn closing_delivers_the_last_change_then_closed() {
    let (tx, mut rx) = watch::generation();
    let mut caught_up = rx.clone();
    tx.bump();
    assert_eq!(caught_up.mark_seen(), Generation(1));
    drop(tx);
    assert!(rx.is_closed());
    assert_eq!(block_on(rx.changed()), Ok(Generation(1)));
    assert_eq!(block_on(rx.changed()), Err(Closed));
    assert_eq!(block_on(caught_up.changed()), Err(Closed));
}

#[test]
fn dropping_the_sender_wakes_a_waiter_with_closed() {
    let (tx, mut rx) = watch::generation();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut changed = pin!(rx.changed());
    assert!(changed.as_mut().poll(&mut cx).is_pending());
    drop(tx);
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert_eq!(changed.as_mut().poll(&mut cx), Poll::Ready(Err(Closed)));
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn one_bump_wakes_every_waiter() {
    let (tx, rx) = watch::generation();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut receivers: Vec<_> = (0..50).map(|_| rx.clone()).collect();
    let mut futures: Vec<_> = receivers
        .iter_mut()
        .map(|r| Box::pin(r.changed()))
        .collect();
    for future in &mut futures {
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    tx.bump();
    assert_eq!(counter.0.load(Ordering::SeqCst), 50);
    for future in &mut futures {
        assert_eq!(
            future.as_mut().poll(&mut cx),
            Poll::Ready(Ok(Generation(1)))
        );
    }
}

#[test]
fn generations_never_go_back_under_concurrent_bumps() {
    const THREADS: u64 = 4;
    const BUMPS: u64 = 5_000;
    let (tx, rx) = watch::generation();
    let tx = Arc::new(tx);
    let watchers: Vec<_> = (0..2)
        .map(|_| {
            let mut rx = rx.clone();
            std::thread::spawn(move || {
                let mut last = Generation(0);
                let mut changes = 0u64;
                while let Ok(generation) = block_on(rx.changed()) {
                    assert!(generation > last, "{generation:?} after {last:?}");
                    last = generation;
                    changes += 1;
                }
                (last, changes)
            })
        })
        .collect();
    let bumpers: Vec<_> = (0..THREADS)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut previous = Generation(0);
                let mut mine = Vec::with_capacity(BUMPS as usize);
                for _ in 0..BUMPS {
                    let generation = tx.bump();
                    assert!(generation > previous);
                    previous = generation;
                    mine.push(generation.0);
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<u64> = bumpers
        .into_iter()
        .flat_map(|b| b.join().unwrap())
        .collect();
    all.sort_unstable();
    // Every bump got its own generation: 1..=THREADS*BUMPS, none repeated.
    assert_eq!(all, (1..=THREADS * BUMPS).collect::<Vec<_>>());
    drop(Arc::into_inner(tx).expect("bumpers are done"));
    for watcher in watchers {
        let (last, changes) = watcher.join().unwrap();
        assert_eq!(
            last,
            Generation(THREADS * BUMPS),
            "the final generation is always seen"
        );
        assert!((1..=THREADS * BUMPS).contains(&changes));
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<watch::GenerationSender>();
    assert_send_sync::<watch::GenerationReceiver>();
}

#[test]
fn changed_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (_tx, mut rx) = watch::generation();
    assert_send(&rx.changed());
}

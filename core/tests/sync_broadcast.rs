//! Behaviour of `core::sync::broadcast`: order, subscription, lag, closing, fan-out.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use diorama_core::sync::broadcast::{self, RecvError, TryRecvError};
use futures_lite::future::block_on;

#[test]
fn every_receiver_sees_every_event_in_send_order() {
    let (tx, mut rx1) = broadcast::channel::<u32>(16);
    let mut rx2 = tx.subscribe();
    for i in 0..10 {
        assert_eq!(tx.send(i), 2);
    }
    let got1: Vec<u32> = (0..10).map(|_| block_on(rx1.recv()).unwrap()).collect();
    let got2: Vec<u32> = (0..10).map(|_| rx2.try_recv().unwrap()).collect();
    assert_eq!(got1, (0..10).collect::<Vec<_>>());
    assert_eq!(got2, got1);
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_late_subscriber_sees_only_later_events() {
    let (tx, mut early) = broadcast::channel::<&str>(8);
    tx.send("before");
    let mut late = tx.subscribe();
    tx.send("after");
    assert_eq!(early.try_recv(), Ok("before"));
    assert_eq!(early.try_recv(), Ok("after"));
    assert_eq!(late.try_recv(), Ok("after"));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_clone_starts_at_the_same_position() {
    let (tx, mut rx) = broadcast::channel::<u32>(8);
    tx.send(1);
    tx.send(2);
    assert_eq!(rx.try_recv(), Ok(1));
    let mut clone = rx.clone();
    assert_eq!(tx.receiver_count(), 2);
    assert_eq!(clone.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_lagging_receiver_gets_the_missed_count_once_then_continues() {
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    for i in 0..10 {
        tx.send(i);
    }
    // 10 sent, 4 retained (6..=9): 6 missed.
    assert_eq!(rx.len(), 4);
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(6)));
    let rest: Vec<u32> = (0..4).map(|_| block_on(rx.recv()).unwrap()).collect();
    assert_eq!(rest, vec![6, 7, 8, 9]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    // Lag again, partially read in between: try_recv reports it the same way.
    tx.send(10);
    assert_eq!(rx.try_recv(), Ok(10));
    for i in 11..17 {
        tx.send(i);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(rx.try_recv(), Ok(13));
}

#[test]
fn closed_after_every_sender_drops_and_retained_events_drain() {
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    let tx2 = tx.clone();
    tx.send(1);
    drop(tx);
    assert!(!rx.is_closed());
    tx2.send(2);
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(block_on(rx.recv()), Ok(1));
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn sending_with_no_receiver_is_fine_and_stores_nothing() {
    let (tx, rx) = broadcast::channel::<Arc<()>>(4);
    drop(rx);
    let payload = Arc::new(());
    assert_eq!(tx.send(payload.clone()), 0);
    assert_eq!(
        Arc::strong_count(&payload),
        1,
        "nothing kept without receivers"
    );
    let mut rx = tx.subscribe();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.send(payload.clone()), 1);
    assert!(rx.try_recv().is_ok());
}

#[test]
fn overwritten_and_unreadable_events_are_released() {
    let (tx, rx) = broadcast::channel::<Arc<()>>(2);
    let payload = Arc::new(());
    for _ in 0..5 {
        tx.send(payload.clone());
    }
    assert_eq!(
        Arc::strong_count(&payload),
        3,
        "one copy per retained event"
    );
    drop(rx);
    assert_eq!(
        Arc::strong_count(&payload),
        1,
        "last receiver gone releases the ring"
    );
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn one_send_wakes_every_waiting_receiver() {
    let (tx, rx) = broadcast::channel::<u32>(8);
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut receivers: Vec<_> = (0..100).map(|_| tx.subscribe()).collect();
    drop(rx);
    {
        let mut futures: Vec<_> = receivers.iter_mut().map(|rx| Box::pin(rx.recv())).collect();
        for future in &mut futures {
            assert!(future.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(tx.send(42), 100);
        assert_eq!(counter.0.load(Ordering::SeqCst), 100);
        for future in &mut futures {
            assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(Ok(42)));
        }
    }
}

#[test]
fn many_receivers_on_threads_each_see_every_event() {
    let (tx, rx) = broadcast::channel::<u64>(1024);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let mut rx = rx.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match block_on(rx.recv()) {
                        Ok(value) => got.push(value),
                        Err(RecvError::Closed) => return got,
                        Err(RecvError::Lagged(n)) => panic!("lagged by {n} with a large ring"),
                    }
                }
            })
        })
        .collect();
    drop(rx);
    for i in 0..1000 {
        assert_eq!(tx.send(i), 8);
    }
    drop(tx);
    for handle in handles {
        assert_eq!(handle.join().unwrap(), (0..1000).collect::<Vec<_>>());
    }
}

#[test]
fn a_dropped_recv_future_loses_no_event() {
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter);
    let mut cx = Context::from_waker(&waker);
    {
        let mut recv = pin!(rx.recv());
        assert!(recv.as_mut().poll(&mut cx).is_pending());
    }
    tx.send(5);
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<broadcast::BroadcastSender<String>>();
    assert_send_sync::<broadcast::BroadcastReceiver<String>>();
}

#[test]
fn recv_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (_tx, mut rx) = broadcast::channel::<String>(1);
    assert_send(&rx.recv());
}

//! Behaviour of `core::sync::queue`: backpressure, try_send errors, draining after close.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use diorama_core::sync::queue::{self, RecvError, SendError, TryRecvError, TrySendError};
use futures_lite::future::block_on;

/// A waker that counts how often it was woken.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    (counter, waker)
}

#[test]
fn send_waits_while_full_and_completes_when_a_slot_frees() {
    let (tx, rx) = queue::channel::<u32>(2);
    block_on(tx.send(1)).unwrap();
    block_on(tx.send(2)).unwrap();
    assert_eq!(tx.len(), 2);
    assert!(tx.is_full());

    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut send = pin!(tx.send(3));
    assert!(
        send.as_mut().poll(&mut cx).is_pending(),
        "full queue must make send wait"
    );
    assert_eq!(wakes.0.load(Ordering::SeqCst), 0);

    assert_eq!(block_on(rx.recv()), Ok(1));
    assert!(
        wakes.0.load(Ordering::SeqCst) >= 1,
        "freeing a slot wakes the waiting sender"
    );
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));

    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(block_on(rx.recv()), Ok(3));
    assert!(rx.is_empty());
}

#[test]
fn try_send_reports_full_then_closed_and_returns_the_item() {
    let (tx, rx) = queue::channel::<String>(1);
    assert_eq!(tx.capacity(), 1);
    tx.try_send("a".into()).unwrap();
    match tx.try_send("b".into()) {
        Err(TrySendError::Full(item)) => assert_eq!(item, "b"),
        other => panic!("expected Full, got {other:?}"),
    }
    assert!(tx.close());
    assert!(!tx.close(), "second close reports it was already closed");
    match tx.try_send("c".into()) {
        Err(error @ TrySendError::Closed(_)) => {
            assert!(error.is_closed());
            assert_eq!(error.into_inner(), "c");
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    let SendError(item) = block_on(tx.send("d".into())).unwrap_err();
    assert_eq!(item, "d");
    // The item queued before close is still delivered.
    assert_eq!(rx.try_recv(), Ok("a".to_string()));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn items_queued_before_the_last_sender_drops_are_drained() {
    let (tx, rx) = queue::channel::<u32>(8);
    let tx2 = tx.clone();
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    tx2.try_send(5).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "one sender still lives");
    assert_eq!(rx.try_recv(), Ok(0));
    drop(tx2);
    assert!(rx.is_closed());
    let drained: Vec<u32> = std::iter::from_fn(|| block_on(rx.recv()).ok()).collect();
    assert_eq!(drained, vec![1, 2, 3, 4, 5]);
    assert_eq!(block_on(rx.recv()), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_recv_on_an_open_empty_queue_is_empty() {
    let (_tx, rx) = queue::channel::<u32>(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn capacity_zero_is_treated_as_one() {
    let (tx, rx) = queue::channel::<u32>(0);
    assert_eq!(tx.capacity(), 1);
    assert_eq!(rx.capacity(), 1);
    tx.try_send(7).unwrap();
    assert!(tx.try_send(8).unwrap_err().is_full());
    assert_eq!(rx.try_recv(), Ok(7));
}

#[test]
fn dropping_every_receiver_closes_the_queue_for_senders() {
    let (tx, rx) = queue::channel::<u32>(4);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
}

#[test]
fn many_producers_and_consumers_deliver_every_item_once() {
    let (tx, rx) = queue::channel::<u64>(4);
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..1000 {
                    block_on(tx.send(p * 1000 + i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(item) = block_on(rx.recv()) {
                    got.push(item);
                }
                got
            })
        })
        .collect();
    drop(rx);
    for producer in producers {
        producer.join().unwrap();
    }
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..4000).collect::<Vec<_>>());
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<queue::QueueSender<String>>();
    assert_send_sync::<queue::QueueReceiver<String>>();
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (tx, rx) = queue::channel::<String>(1);
    assert_send(&tx.send(String::new()));
    assert_send(&rx.recv());
}

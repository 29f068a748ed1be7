//! The sync channels driven by the simulator: backpressure and wakes on virtual time, across seeds.
#![cfg(feature = "sim")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::RuntimeExt;
use diorama_core::sim::SimRuntime;
use diorama_core::sync::{broadcast, queue, watch};

#[test]
fn a_full_queue_holds_the_producer_back_until_the_consumer_frees_a_slot() {
    for seed in 0..8 {
        let sim = SimRuntime::new(seed);
        let rt = sim.runtime();
        let (tx, rx) = queue::channel::<u32>(2);
        let rt2 = rt.clone();
        let producer = rt.spawn("producer", async move {
            let mut sent_at = Vec::new();
            for i in 0..10 {
                tx.send(i).await.unwrap();
                sent_at.push(rt2.now().since_origin().as_secs());
            }
            sent_at
        });
        let rt3 = rt.clone();
        let consumer = rt.spawn("consumer", async move {
            let mut got = Vec::new();
            loop {
                rt3.sleep(Duration::from_secs(1)).await;
                match rx.recv().await {
                    Ok(item) => got.push(item),
                    Err(_) => return got,
                }
            }
        });
        let (sent_at, got) =
            sim.block_on(async move { (producer.await.unwrap(), consumer.await.unwrap()) });
        assert_eq!(got, (0..10).collect::<Vec<_>>(), "seed {seed}");
        // Two slots: items 0 and 1 go at once, item i waits for item i-2 to be
        // taken at second i-1.
        assert_eq!(sent_at, vec![0, 0, 1, 2, 3, 4, 5, 6, 7, 8], "seed {seed}");
    }
}

#[test]
fn broadcast_receivers_at_different_speeds_see_order_and_lag() {
    for seed in 0..8 {
        let sim = SimRuntime::new(seed);
        let rt = sim.runtime();
        let (tx, rx) = broadcast::channel::<u32>(4);
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        for (name, pause_ms) in [("fast", 0u64), ("slow", 2_500)] {
            let (rt2, mut rx, outcomes) = (rt.clone(), rx.clone(), outcomes.clone());
            rt.spawn_boxed(
                name,
                Box::pin(async move {
                    let mut seen = Vec::new();
                    loop {
                        rt2.sleep(Duration::from_millis(pause_ms)).await;
                        match rx.recv().await {
                            Ok(value) => seen.push(Ok(value)),
                            Err(broadcast::RecvError::Lagged(n)) => seen.push(Err(n)),
                            Err(broadcast::RecvError::Closed) => break,
                        }
                    }
                    outcomes.lock().unwrap().push((name, seen));
                }),
            );
        }
        drop(rx);
        let rt2 = rt.clone();
        sim.block_on(async move {
            for i in 0..10 {
                tx.send(i);
                rt2.sleep(Duration::from_secs(1)).await;
            }
        });
        // Let the slow receiver drain what is retained (it naps between reads).
        sim.advance(Duration::from_secs(60));
        assert!(sim.live_tasks().is_empty(), "seed {seed}");
        let mut outcomes = outcomes.lock().unwrap().clone();
        outcomes.sort();
        let (fast, slow) = (&outcomes[0].1, &outcomes[1].1);
        assert_eq!(outcomes[0].0, "fast");
        assert_eq!(*fast, (0..10).map(Ok).collect::<Vec<_>>(), "seed {seed}");
        // The slow receiver reads every 2.5 s while one event comes per
        // second: whatever it missed is reported, so every event is either
        // received, in order, or counted as missed.
        let received: Vec<u32> = slow.iter().filter_map(|o| o.ok()).collect();
        let missed: u64 = slow.iter().filter_map(|o| o.err()).sum();
        assert!(missed > 0, "seed {seed}: the slow receiver must lag");
        assert!(received.windows(2).all(|w| w[0] < w[1]), "seed {seed}");
        assert_eq!(received.len() as u64 + missed, 10, "seed {seed}");
        assert_eq!(
            received.last(),
            Some(&9),
            "seed {seed}: retained events drain"
        );
    }
}

#[test]
fn every_watcher_wakes_on_a_bump_and_ends_on_the_last_generation() {
    for seed in 0..8 {
        let sim = SimRuntime::new(seed);
        let rt = sim.runtime();
        let (tx, rx) = watch::generation();
        let watchers: Vec<_> = (0..5)
            .map(|_| {
                let mut rx = rx.clone();
                rt.spawn("watcher", async move {
                    let mut last = watch::Generation(0);
                    while let Ok(generation) = rx.changed().await {
                        assert!(generation > last);
                        last = generation;
                    }
                    last
                })
            })
            .collect();
        let rt2 = rt.clone();
        let bumper = rt.spawn("bumper", async move {
            for _ in 0..20 {
                tx.bump();
                rt2.sleep(Duration::from_millis(10)).await;
            }
        });
        let lasts = sim.block_on(async move {
            bumper.await.unwrap();
            let mut lasts = Vec::new();
            for watcher in watchers {
                lasts.push(watcher.await.unwrap());
            }
            lasts
        });
        assert_eq!(lasts, vec![watch::Generation(20); 5], "seed {seed}");
    }
}

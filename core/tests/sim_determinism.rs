//! The simulator's schedule is a function of its seed: same seed, same trace;
//! other seeds, other interleavings.
#![cfg(feature = "sim")]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::RuntimeExt;
use diorama_core::sim::{SimRuntime, TraceEntry};
use diorama_core::sync::queue;
use futures_lite::future::yield_now;

const WORKERS: [&str; 4] = ["worker-0", "worker-1", "worker-2", "worker-3"];

/// A racy program: four workers interleave log lines, yields, short sleeps
/// and sends on a small queue drained by a consumer. Returns the trace and
/// the order in which things happened.
fn racy_program(seed: u64) -> (Vec<TraceEntry>, Vec<String>) {
    let sim = SimRuntime::new(seed);
    let rt = sim.runtime();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = queue::channel::<u64>(2);
    let mut workers = Vec::new();
    for (w, name) in WORKERS.iter().enumerate() {
        let (rt2, log, tx) = (rt.clone(), log.clone(), tx.clone());
        workers.push(rt.spawn(name, async move {
            for step in 0..5u64 {
                log.lock().unwrap().push(format!("{name} step {step}"));
                if step % 2 == 0 {
                    yield_now().await;
                } else {
                    rt2.sleep(Duration::from_millis(10 * (w as u64 % 2 + 1)))
                        .await;
                }
                tx.send(w as u64 * 10 + step).await.unwrap();
            }
        }));
    }
    drop(tx);
    let consumer_log = log.clone();
    let consumer = rt.spawn("consumer", async move {
        while let Ok(item) = rx.recv().await {
            consumer_log.lock().unwrap().push(format!("got {item}"));
        }
    });
    sim.block_on(async move {
        for worker in workers {
            worker.await.unwrap();
        }
        consumer.await.unwrap();
    });
    let log = log.lock().unwrap().clone();
    (sim.trace(), log)
}

#[test]
fn the_same_seed_replays_the_identical_trace() {
    for seed in [0, 1, 42, u64::MAX] {
        let (trace_a, log_a) = racy_program(seed);
        let (trace_b, log_b) = racy_program(seed);
        assert!(trace_a.len() > 20, "the program polls many times");
        assert_eq!(trace_a, trace_b, "seed {seed} replays its schedule");
        assert_eq!(log_a, log_b, "seed {seed} replays its events");
        assert_eq!(
            log_a.len(),
            4 * 5 * 2,
            "every step logged and every item received"
        );
    }
}

#[test]
fn different_seeds_explore_different_interleavings() {
    let logs: HashSet<Vec<String>> = (0..16).map(|seed| racy_program(seed).1).collect();
    assert!(
        logs.len() > 1,
        "16 seeds produced one single interleaving of a racy program"
    );
    let traces: HashSet<Vec<TraceEntry>> = (0..16).map(|seed| racy_program(seed).0).collect();
    assert!(traces.len() > 1);
}

#[test]
fn the_trace_names_tasks_and_virtual_times() {
    let sim = SimRuntime::new(9);
    let rt = sim.runtime();
    let rt2 = rt.clone();
    let first = rt.spawn("first", async move {
        rt2.sleep(Duration::from_secs(2)).await;
    });
    let second = rt.spawn("second", async {});
    sim.block_on(async move {
        first.await.unwrap();
        second.await.unwrap();
    });
    let trace = sim.take_trace();
    assert!(sim.trace().is_empty(), "take_trace starts a fresh record");
    let first_polls: Vec<_> = trace.iter().filter(|e| e.name == "first").collect();
    assert_eq!(
        first_polls.len(),
        2,
        "polled once to sleep, once after the timer"
    );
    assert_eq!(first_polls[0].task, 1);
    assert_eq!(first_polls[0].at.since_origin(), Duration::ZERO);
    assert_eq!(first_polls[1].at.since_origin(), Duration::from_secs(2));
    assert_eq!(
        trace
            .iter()
            .filter(|e| e.name == "second")
            .map(|e| e.task)
            .collect::<Vec<_>>(),
        vec![2]
    );
    assert!(trace.iter().any(|e| e.task == 0 && e.name == "main"));

    sim.set_tracing(false);
    sim.block_on(async {});
    assert!(
        sim.trace().is_empty(),
        "nothing recorded while tracing is off"
    );
}

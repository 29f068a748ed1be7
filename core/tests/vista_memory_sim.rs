//! MemoryVista latency and hold on the simulator's virtual clock.
#![cfg(feature = "sim")]

use std::time::Duration;

use diorama_core::RuntimeExt;
use diorama_core::record;
use diorama_core::sim::SimRuntime;
use diorama_core::vista::{MemoryVista, Query, TableShell, Vista, VistaOp};

fn master() -> MemoryVista {
    MemoryVista::new("t").with_rows([("a", record! { "v" => 1 }), ("b", record! { "v" => 2 })])
}

#[test]
fn latency_sleeps_on_virtual_time() {
    let sim = SimRuntime::new(1);
    let rt = sim.runtime();
    let m = master();
    m.set_latency(Duration::from_millis(200), rt.clone());
    let task = rt.spawn("list", {
        let (m, rt) = (m.clone(), rt.clone());
        async move {
            let rows = m.list(&Query::new()).await;
            (rows.map(|r| r.len()), rt.now().since_origin())
        }
    });
    sim.run_until_idle();
    assert_eq!(m.calls(VistaOp::List), 1);
    assert_eq!(m.in_flight(), 1);
    assert!(!task.is_finished());
    sim.advance(Duration::from_millis(199));
    assert!(!task.is_finished(), "answered before its latency");
    sim.advance(Duration::from_millis(1));
    assert!(task.is_finished());
    let (rows, at) = sim.block_on(task).unwrap();
    assert_eq!(rows.unwrap(), 2);
    assert_eq!(at, Duration::from_millis(200));
    assert_eq!(m.in_flight(), 0);
}

#[test]
fn every_call_pays_the_latency_and_clear_latency_stops_it() {
    let sim = SimRuntime::new(2);
    let m = master();
    m.set_latency(Duration::from_secs(1), sim.runtime());
    let vista = Vista::new(m.clone());
    sim.block_on(async {
        vista.count().await.unwrap();
        vista.insert(None, record! {}).await.unwrap();
        vista.fetch_window(0, 1).await.unwrap();
    });
    assert_eq!(sim.now().since_origin(), Duration::from_secs(3));
    m.clear_latency();
    sim.block_on(vista.list()).unwrap();
    assert_eq!(sim.now().since_origin(), Duration::from_secs(3));
}

#[test]
fn held_calls_wait_then_pay_latency_after_release() {
    let sim = SimRuntime::new(3);
    let rt = sim.runtime();
    let m = master();
    m.set_latency(Duration::from_millis(50), rt.clone());
    m.hold();
    let task = rt.spawn("delete", {
        let (m, rt) = (m.clone(), rt.clone());
        async move {
            m.delete("a").await.unwrap();
            rt.now().since_origin()
        }
    });
    sim.advance(Duration::from_secs(10));
    assert!(
        !task.is_finished(),
        "a held call stays pending however long we wait"
    );
    assert_eq!(m.len(), 2);
    assert_eq!(m.calls(VistaOp::Delete), 1);
    m.release();
    let done_at = sim.block_on(task).unwrap();
    assert_eq!(done_at, Duration::from_millis(10_050));
    assert_eq!(m.len(), 1);
}

#[test]
fn a_held_master_stalls_a_simulation_that_waits_on_it() {
    let sim = SimRuntime::new(4);
    let m = master();
    m.hold();
    let stalled = sim.try_block_on(m.get("a"));
    assert!(stalled.is_err());
    m.release();
    assert!(sim.block_on(m.get("a")).unwrap().is_some());
}

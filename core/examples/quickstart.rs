//! Quickstart on the deterministic simulator: a slow master, a Lens with a
//! memory cache, a Dio, a facade read, a paged table scenery scrolled to the
//! middle, and a write shown pending then fresh.
//!
//! Run: `cargo run -p diorama-core --features sim --example quickstart`

use std::time::Duration;

use diorama_core::scenery::RowStatus;
use diorama_core::sim::SimRuntime;
use diorama_core::{Lens, MemoryBackend, MemoryVista, Vista, record};

fn main() {
    // Virtual time: the 80 ms master latency costs no wall time.
    let sim = SimRuntime::new(42);
    let master = MemoryVista::generate("products", 10_000, |i| {
        (
            format!("p{i:05}"),
            record! { "name" => format!("Product {i}"), "price" => 1.0 + i as f64 / 100.0 },
        )
    });
    master.set_latency(Duration::from_millis(80), sim.runtime());

    let lens = Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(sim.runtime())
        // Views page the master: its row count per query, then one
        // `fetch_window` per chunk a viewport needs.
        .page_from_master()
        .build()
        .expect("a valid Lens");

    sim.block_on(async {
        let dio = lens
            .make_dio(Vista::new(master.clone()))
            .await
            .expect("make_dio");
        let view = dio
            .table_scenery()
            .page_size(50)
            .open()
            .await
            .expect("open");
        println!(
            "opened: {} rows, load state {:?}",
            view.row_count(),
            view.load_state()
        );

        // Let the first chunk land (virtual time).
        dio.runtime().sleep(Duration::from_millis(200)).await;
        println!(
            "row 0: {}",
            view.row(0)
                .map(|r| r.record.to_string())
                .unwrap_or_default()
        );

        // Scroll to the middle: one chunk for the viewport, nothing else.
        view.set_viewport(5_000..5_020);
        dio.runtime().sleep(Duration::from_millis(200)).await;
        let row = view.row(5_010).expect("loaded");
        println!("row 5010: {} {} ({:?})", row.id, row.record, row.status);
        println!(
            "master windows fetched: {:?}",
            master
                .windows()
                .iter()
                .map(|w| w.1..w.1 + w.2)
                .collect::<Vec<_>>()
        );

        // A write: pending at once, fresh once the master accepted it.
        dio.try_patch(row.id.clone(), record! { "price" => 9.99 })
            .expect("queued");
        dio.runtime().sleep(Duration::from_millis(1)).await;
        let pending = view.row(5_010).expect("loaded");
        assert_eq!(pending.status, RowStatus::PendingWrite);
        println!("after the write: {} ({:?})", pending.record, pending.status);
        dio.runtime().sleep(Duration::from_millis(200)).await;
        let fresh = view.row(5_010).expect("loaded");
        println!("once written:    {} ({:?})", fresh.record, fresh.status);

        // The facade reads the cache: no master call.
        let calls = master.total_calls();
        let cached = dio.vista().get(&row.id).await.expect("read");
        assert_eq!(master.total_calls(), calls);
        println!(
            "facade read from the cache: {:?}",
            cached.map(|r| r.to_string())
        );
        dio.shutdown().await.expect("shutdown");
    });
    println!("virtual time elapsed: {:?}", sim.now().since_origin());
}

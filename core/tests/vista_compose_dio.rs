//! A Dio over a composition, on the simulator: a paged, sorted view of
//! drafts over a remote table shows the combined rows in order, and a
//! write through the Dio lands in the drafts, never in the remote table.
#![cfg(feature = "sim")]

use std::sync::Arc;
use std::time::Duration;

use diorama_core::scenery::RowStatus;
use diorama_core::sim::SimRuntime;
use diorama_core::vista::compose::is_tombstone;
use diorama_core::vista::{SortDir, VistaOp};
use diorama_core::{Lens, MemoryBackend, MemoryVista, Vista, record};

#[test]
fn a_dio_over_an_overlay_pages_the_combined_rows_and_writes_to_the_overlay() {
    let sim = SimRuntime::new(3);
    let remote = MemoryVista::generate("products", 500, |i| {
        (format!("p{i:03}"), record! { "price" => i as i64 })
    });
    remote.set_latency(Duration::from_millis(40), sim.runtime());
    let drafts = MemoryVista::new("drafts").with_rows([
        ("p100", record! { "price" => 1_000 }),
        ("d1", record! { "price" => 250 }),
    ]);
    let lens = Lens::builder()
        .cache_source(Arc::new(MemoryBackend::new()))
        .runtime(sim.runtime())
        .page_from_master()
        .build()
        .unwrap();
    let vista = Vista::overlay(Vista::new(remote.clone()), Vista::new(drafts.clone()));
    sim.block_on(async {
        let dio = lens.make_dio(vista).await.unwrap();
        let view = dio
            .table_scenery()
            .page_size(50)
            .sort("price", SortDir::Desc)
            .open()
            .await
            .unwrap();
        dio.runtime().sleep(Duration::from_millis(500)).await;
        assert_eq!(view.row_count(), 501);
        assert_eq!(view.row(0).unwrap().id, "p100", "the draft's price leads");
        assert_eq!(view.row(1).unwrap().id, "p499");
        // Deep in the list: d1 (250) right after p250 (ties by id).
        view.set_viewport(245..260);
        dio.runtime().sleep(Duration::from_millis(500)).await;
        let ids: Vec<_> = (249..253)
            .map(|i| view.row(i).unwrap().id.clone())
            .collect();
        assert_eq!(ids, ["p251", "d1", "p250", "p249"]);

        // Writes go to the drafts.
        let calls = remote.calls(VistaOp::Patch) + remote.calls(VistaOp::Delete);
        dio.try_patch("p251", record! { "price" => 5 })
            .unwrap()
            .outcome()
            .await
            .unwrap();
        dio.try_delete("p249").unwrap().outcome().await.unwrap();
        assert_eq!(drafts.get_row("p251"), Some(record! { "price" => 5 }));
        assert!(is_tombstone(&drafts.get_row("p249").unwrap()));
        assert_eq!(
            remote.calls(VistaOp::Patch) + remote.calls(VistaOp::Delete),
            calls
        );
        assert_eq!(remote.get_row("p251"), Some(record! { "price" => 251 }));
        // The facade reads what the composition holds.
        let row = dio.vista().get("p251").await.unwrap().unwrap();
        assert_eq!(row.get("price"), Some(&5.into()));
        assert_eq!(dio.vista().get("p249").await.unwrap(), None);
        // A draft of a row in view, keeping its place: shown fresh there.
        dio.try_patch("p250", record! { "name" => "edited" })
            .unwrap()
            .outcome()
            .await
            .unwrap();
        dio.runtime().sleep(Duration::from_millis(100)).await;
        let at = view.index_of("p250").expect("still in view");
        let row = view.row(at).unwrap();
        assert_eq!(row.status, RowStatus::Fresh);
        assert_eq!(row.record, record! { "price" => 250, "name" => "edited" });
        assert_eq!(drafts.get_row("p250"), Some(row.record.clone()));
        dio.shutdown().await.unwrap();
    });
}

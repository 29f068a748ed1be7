//! The facade never passes a row known only in part off as the whole record.
#![cfg(feature = "sim")]

use std::sync::Arc;

use diorama_core::sim::SimRuntime;
use diorama_core::vista::VistaOp;
use diorama_core::{Lens, MemoryBackend, MemoryVista, Value, Vista, record};

#[test]
fn a_patched_uncached_row_is_read_through_whole() {
    let sim = SimRuntime::new(3);
    let master =
        MemoryVista::new("m").with_rows([("a", record! { "name" => "Lamp", "price" => 5 })]);
    let lens = Lens::builder()
        .cache_source(Arc::new(MemoryBackend::new()))
        .runtime(sim.runtime())
        .build()
        .unwrap();
    let dio = sim
        .block_on(lens.make_dio(Vista::new(master.clone())))
        .unwrap();
    let ticket = dio.try_patch("a", record! { "price" => 7 }).unwrap();
    sim.block_on(ticket.outcome()).unwrap();

    let row = sim.block_on(dio.vista().get("a")).unwrap().unwrap();
    assert_eq!(row, record! { "name" => "Lamp", "price" => 7 });
    assert_eq!(master.calls(VistaOp::Get), 1);
    // Now cached whole: the next read stays in the cache.
    let again = sim.block_on(dio.vista().get("a")).unwrap().unwrap();
    assert_eq!(again.get("name"), Some(&Value::from("Lamp")));
    assert_eq!(master.calls(VistaOp::Get), 1);
}

//! The change tap (`Dio::set_change_tap`): told of every change applied
//! outside the write queue, with its data, in order; not of the Dio's own
//! writes or refreshes; one tap per Dio.
#![cfg(feature = "sim")]

use std::sync::{Arc, Mutex};

use diorama_core::dio::{ChangeTap, LocalChange};
use diorama_core::sim::SimRuntime;
use diorama_core::{ChangeEvent, ErrorKind, Lens, MemoryBackend, MemoryVista, Vista, record};

/// Every change told, rendered as text.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<String>>);

impl ChangeTap for Recorder {
    fn applied(&self, table: &str, change: LocalChange<'_>) {
        self.0.lock().unwrap().push(format!("{table}: {change:?}"));
    }
}

#[test]
fn every_change_outside_the_queue_is_told_with_its_data_and_own_writes_are_not() {
    let sim = SimRuntime::new(7);
    let master = MemoryVista::new("products").with_rows([("a", record! { "price" => 5 })]);
    let lens = Lens::builder()
        .cache_source(MemoryBackend::new())
        .runtime(sim.runtime())
        .on_refresh(|_dio| async { Ok(()) })
        .build()
        .unwrap();
    let dio = sim.block_on(lens.make_dio(Vista::new(master))).unwrap();
    let tap = Arc::new(Recorder::default());
    dio.set_change_tap(tap.clone()).unwrap();
    let again = dio.set_change_tap(tap.clone()).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InvalidInput);

    // The Dio's own write and a refresh: not told.
    let ticket = sim
        .block_on(dio.patch("a", record! { "price" => 6 }))
        .unwrap();
    sim.block_on(ticket.outcome()).unwrap();
    sim.block_on(dio.refresh()).unwrap();
    assert!(tap.0.lock().unwrap().is_empty());

    let fields = record! { "price" => 7 };
    dio.patched("a", fields.clone()).unwrap();
    sim.block_on(dio.handle_event(ChangeEvent::Inserted {
        id: "b".into(),
        record: Some(record! { "price" => 1 }),
    }))
    .unwrap();
    dio.invalidate_record("a");
    sim.block_on(dio.handle_event(ChangeEvent::Removed { id: "b".into() }))
        .unwrap();
    sim.block_on(dio.handle_event(ChangeEvent::Reset)).unwrap();
    let seen = tap.0.lock().unwrap().clone();
    let record_b = record! { "price" => 1 };
    assert_eq!(
        seen,
        vec![
            format!(
                "products: {:?}",
                LocalChange::Patched {
                    id: "a",
                    fields: &fields
                }
            ),
            format!(
                "products: {:?}",
                LocalChange::Inserted {
                    id: "b",
                    record: &record_b
                }
            ),
            format!("products: {:?}", LocalChange::InvalidatedRecord { id: "a" }),
            format!("products: {:?}", LocalChange::Removed { id: "b" }),
            format!("products: {:?}", LocalChange::InvalidatedAll),
        ]
    );
    assert_eq!(LocalChange::InvalidatedAll.id(), None);
    assert_eq!(LocalChange::Removed { id: "b" }.id(), Some("b"));
    sim.block_on(dio.shutdown()).unwrap();
}

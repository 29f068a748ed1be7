//! Value sceneries: aggregates kept current (issue 5, test 12).

use diorama_core::dio::DioEvent;
use diorama_core::scenery::ValueStatus;
use diorama_core::vista::CmpOp;
use diorama_core::{MemoryVista, Value, record};

use super::support::*;
use crate::harness::Harness;

/// A sum over ints and floats skips nulls and missing fields, bumps only
/// when its value changes, and keeps its last value when a row makes it
/// fail.
pub fn value_scenery_sums_ints_and_floats_and_bumps_only_on_change<H: Harness>(h: &H) {
    let master = MemoryVista::new("m").with_rows([
        ("a", record! { "n" => 1 }),
        ("b", record! { "n" => 2.5 }),
        ("c", record! { "n" => Value::Null }),
        ("d", record! { "x" => 1 }),
    ]);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let sum = h.block_on(dio.value_scenery().sum("n").open()).unwrap();
    assert_eq!(sum.value(), Some(Value::Float(3.5)));
    assert_eq!(sum.status(), ValueStatus::Ready);
    let count = h.block_on(dio.value_scenery().count().open()).unwrap();
    assert_eq!(count.value(), Some(Value::from(4)));

    let generation = sum.generation();
    dio.patched("d", record! { "x" => 2 }).unwrap();
    h.settle();
    assert_eq!(sum.generation(), generation, "unchanged value, no bump");

    dio.patched("a", record! { "n" => 3 }).unwrap();
    h.settle();
    assert_eq!(sum.value(), Some(Value::Float(5.5)));
    assert!(sum.generation() > generation);

    dio.patched("c", record! { "n" => "oops" }).unwrap();
    h.settle();
    assert!(matches!(sum.status(), ValueStatus::Failed { .. }));
    assert_eq!(
        sum.value(),
        Some(Value::Float(5.5)),
        "an error keeps the last value"
    );
}

/// Min, max, a filtered count, a filtered sum and a custom aggregate; a
/// viewport event is not relevant to them, a removal is.
pub fn other_aggregates<H: Harness>(h: &H) {
    let master = MemoryVista::new("m").with_rows([
        ("a", record! { "n" => 3, "kind" => "x" }),
        ("b", record! { "n" => -2.5, "kind" => "y" }),
        ("c", record! { "n" => 7, "kind" => "x" }),
        ("d", record! { "kind" => "x" }),
    ]);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let min = h.block_on(dio.value_scenery().min("n").open()).unwrap();
    let max = h.block_on(dio.value_scenery().max("n").open()).unwrap();
    let xs = h
        .block_on(
            dio.value_scenery()
                .count_where("kind", CmpOp::Eq, "x")
                .open(),
        )
        .unwrap();
    let ints = h
        .block_on(dio.value_scenery().where_eq("kind", "x").sum("n").open())
        .unwrap();
    let ids = dio.value_scenery().custom(|rows| {
        Ok(Value::Array(
            rows.iter()
                .map(|(id, _)| Value::from(id.as_str()))
                .collect(),
        ))
    });
    let ids = h.block_on(ids.open()).unwrap();
    assert_eq!(min.value(), Some(Value::Float(-2.5)));
    assert_eq!(max.value(), Some(Value::from(7)));
    assert_eq!(xs.value(), Some(Value::from(3)));
    assert_eq!(ints.value(), Some(Value::from(10)));
    assert_eq!(
        ids.value(),
        Some(Value::Array(vec![
            "a".into(),
            "b".into(),
            "c".into(),
            "d".into()
        ]))
    );
    assert_eq!(min.status(), ValueStatus::Ready);

    let generation = xs.generation();
    // A table view of the same Dio announces its viewport on the bus.
    let mut events = dio.subscribe_events();
    let table = h.block_on(dio.table_scenery().open()).unwrap();
    table.set_viewport(0..1);
    settle(h);
    let mut viewports = 0;
    while let Ok(event) = events.try_recv() {
        viewports += matches!(event, DioEvent::ViewportChanged { .. }) as usize;
    }
    assert_eq!(viewports, 1, "the table view committed its viewport");
    assert_eq!(
        xs.generation(),
        generation,
        "viewport events are not relevant"
    );
    dio.removed("a").unwrap();
    h.settle();
    assert_eq!(xs.value(), Some(Value::from(2)));
    assert_eq!(ints.value(), Some(Value::from(7)));
}

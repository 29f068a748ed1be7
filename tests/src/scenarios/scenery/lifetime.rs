//! Scenery lifetimes: tasks end with their sceneries, sceneries do not pin
//! the Dio, sinks refuse pushes after their scenery went (issue 5, test 13).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_core::scenery::ChunkSink;
use diorama_core::{ErrorKind, MemoryVista, record};

use super::support::*;
use crate::harness::Harness;

/// Dropping sceneries ends their tasks; dropping the Dio ends its worker
/// while a table scenery lives on harmlessly (reads work, loads do
/// nothing); dropping that too leaves no task.
///
/// Needs [`Harness::live_tasks`]. The Dio's worker flushes the cache as it
/// ends, on another thread for sled, hence `settle_until`.
pub fn dropping_a_scenery_ends_its_tasks_and_sceneries_do_not_pin_the_dio<H: Harness>(h: &H) {
    let live = || {
        h.live_tasks()
            .expect("this scenario needs a harness that lists live tasks")
    };
    let master = products(300);
    let lens = paged_lens(h, h.backend(), true)
        .cache_ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &master);
    h.settle();
    let baseline = live().len();
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    let record = h
        .block_on(dio.record_scenery(product_id(1)).open())
        .unwrap();
    let value = h.block_on(dio.value_scenery().count().open()).unwrap();
    h.settle();
    assert!(live().len() > baseline);
    drop((view, record, value));
    h.settle_until("the sceneries' tasks end", || live().len() == baseline);

    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    drop(dio);
    h.settle_until("the Dio's worker ends", || {
        live().iter().all(|name| name.starts_with("diorama.table"))
    });
    // The view outlives its Dio harmlessly: reads work, loads do nothing.
    assert!(view.row(0).is_some());
    view.set_viewport(200..300);
    settle(h);
    assert!(view.row(250).is_none());
    drop(view);
    h.settle_until("no task is left", || live().is_empty());
}

/// A chunk sink kept past its scenery refuses pushes with `Closed`.
pub fn a_push_after_the_scenery_dropped_is_refused<H: Harness>(h: &H) {
    let kept: Arc<Mutex<Option<ChunkSink>>> = Arc::default();
    let keep = kept.clone();
    let lens = lens_over(h, h.backend())
        .on_load_chunk(move |_dio, _range, _query, sink| {
            *keep.lock().unwrap() = Some(sink.clone());
            async move { sink.push(0, "a", record! { "n" => 1 }) }
        })
        .build()
        .unwrap();
    let dio = open_dio(h, &lens, &MemoryVista::new("t"));
    let view = h.block_on(dio.table_scenery().open()).unwrap();
    h.settle();
    assert_eq!(view.row(0).unwrap().id, "a");
    drop(view);
    let sink = kept.lock().unwrap().take().unwrap();
    let err = sink.push(1, "b", record! { "n" => 2 }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}

//! Auto-trait pins for the sceneries: a UI thread and executor workers can
//! share them. Checked at compile time; the futures are never run.

use diorama_core::Dio;
use diorama_core::scenery::{
    ChunkSink, EnrichedRecord, RecordScenery, RecordSceneryBuilder, TableScenery,
    TableSceneryBuilder, ValueScenery, ValueSceneryBuilder,
};
use diorama_core::sync::watch::GenerationReceiver;

fn send<T: Send>(_: &T) {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn sceneries_are_send_and_sync() {
    send_sync::<TableScenery>();
    send_sync::<RecordScenery>();
    send_sync::<ValueScenery>();
    send_sync::<EnrichedRecord>();
    send_sync::<ChunkSink>();
    send_sync::<TableSceneryBuilder>();
    send_sync::<ValueSceneryBuilder>();
    send_sync::<RecordSceneryBuilder>();
    send_sync::<GenerationReceiver>();
}

#[test]
fn scenery_futures_are_send() {
    // Referenced, never called: it only has to type-check.
    let _: fn(&Dio, &TableScenery) = pin_futures;
}

fn pin_futures(dio: &Dio, table: &TableScenery) {
    send(&dio.table_scenery().open());
    send(&dio.record_scenery("id").open());
    send(&dio.value_scenery().count().open());
    send(&dio.value_scenery().sum("n").open());
    let mut generation = table.subscribe();
    send(&generation.changed());
}

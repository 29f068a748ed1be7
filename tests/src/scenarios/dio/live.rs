//! Tests 9 and 10: changes learned from outside (`patched`, `removed`,
//! `handle_event`) update the cache and publish the matching event.

use std::sync::{Arc, Mutex};

use diorama_core::cache::RowState;
use diorama_core::vista::VistaOp;
use diorama_core::{ChangeEvent, Dio, DioEvent, Error, Vista, record};

use super::support::{copy_master, drain, lens_on, product, products};
use crate::harness::Harness;

/// Test 9: `patched` merges into the cached row and publishes `RecordChanged`
/// (an uncached row is stored as incomplete); `removed` deletes and
/// publishes `RecordRemoved`, an absent id included. The master is never
/// called.
pub fn patched_and_removed_update_cache<H: Harness>(h: &H) {
    let master = products("products", 3);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        master.reset_calls();
        let mut events = dio.subscribe_events();

        dio.patched("p001", record! { "price" => 50, "tag" => "hot" })
            .unwrap();
        let mut expected = product(1).1;
        expected.merge(&record! { "price" => 50, "tag" => "hot" });
        let row = dio.cache().get("p001").unwrap().unwrap();
        assert_eq!(row.record, expected);
        assert_eq!(row.state, RowState::Complete);

        dio.patched("zzz", record! { "name" => "only this" })
            .unwrap();
        let row = dio.cache().get("zzz").unwrap().unwrap();
        assert_eq!(row.record, record! { "name" => "only this" });
        assert_eq!(row.state, RowState::Incomplete);

        dio.removed("p002").unwrap();
        assert_eq!(dio.cache().get("p002").unwrap(), None);
        dio.removed("never-there").unwrap();

        assert_eq!(
            drain(&mut events),
            vec![
                DioEvent::RecordChanged { id: "p001".into() },
                DioEvent::RecordChanged { id: "zzz".into() },
                DioEvent::RecordRemoved { id: "p002".into() },
                DioEvent::RecordRemoved {
                    id: "never-there".into()
                },
            ]
        );
        assert_eq!(dio.cache().count().unwrap(), 3);
        assert_eq!(master.total_calls(), 0);
        assert_eq!(master.len(), 3, "the master is not written");
        dio.shutdown().await.unwrap();
    });
}

/// Test 10: `handle_event` hands each change to `on_event` in order; an
/// `on_event` that calls `patched` / `removed` updates the cache, and its
/// error is returned to the caller without stopping the Dio.
pub fn handle_event_dispatches_to_on_event<H: Harness>(h: &H) {
    let master = products("products", 3);
    let seen: Arc<Mutex<Vec<ChangeEvent>>> = Arc::default();
    let lens = lens_on(h)
        .on_start(copy_master)
        .on_event({
            let seen = seen.clone();
            move |dio: Dio, event: ChangeEvent| {
                seen.lock().unwrap().push(event.clone());
                async move {
                    match event {
                        ChangeEvent::Updated {
                            id,
                            fields: Some(fields),
                        } => dio.patched(id, fields),
                        ChangeEvent::Removed { id } => dio.removed(id),
                        _ => Err(Error::failed("unexpected event")),
                    }
                }
            }
        })
        .build()
        .unwrap();
    let changes = [
        ChangeEvent::Updated {
            id: "p000".into(),
            fields: Some(record! { "price" => 7 }),
        },
        ChangeEvent::Removed { id: "p001".into() },
        ChangeEvent::Reset,
    ];
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let mut events = dio.subscribe_events();
        dio.handle_event(changes[0].clone()).await.unwrap();
        dio.handle_event(changes[1].clone()).await.unwrap();
        let error = dio.handle_event(changes[2].clone()).await.unwrap_err();
        assert_eq!(error, Error::failed("unexpected event"));

        assert_eq!(*seen.lock().unwrap(), changes);
        let row = dio.cache().get("p000").unwrap().unwrap();
        assert_eq!(row.record.get("price"), Some(&7.into()));
        assert_eq!(dio.cache().get("p001").unwrap(), None);
        assert_eq!(
            drain(&mut events),
            vec![
                DioEvent::RecordChanged { id: "p000".into() },
                DioEvent::RecordRemoved { id: "p001".into() },
            ]
        );
        // Still working after the callback's error.
        dio.handle_event(changes[1].clone()).await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 4);
        dio.shutdown().await.unwrap();
    });
}

/// Test 10b: Without `on_event`, changes are applied directly: data → cache,
/// no data → the row is marked stale, `Removed` → deleted, `Reset` →
/// `Invalidated`. No master call.
pub fn handle_event_default_applies_changes<H: Harness>(h: &H) {
    let master = products("products", 3);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        master.reset_calls();
        let mut events = dio.subscribe_events();
        let changes = [
            ChangeEvent::Inserted {
                id: "n1".into(),
                record: Some(record! { "name" => "pushed" }),
            },
            ChangeEvent::Updated {
                id: "p000".into(),
                fields: Some(record! { "price" => 8 }),
            },
            ChangeEvent::Updated {
                id: "p001".into(),
                fields: None,
            },
            ChangeEvent::Removed { id: "p002".into() },
            ChangeEvent::Reset,
        ];
        for change in changes {
            dio.handle_event(change).await.unwrap();
        }
        let cache = dio.cache();
        assert_eq!(
            cache.get("n1").unwrap().unwrap().record,
            record! { "name" => "pushed" }
        );
        let p000 = cache.get("p000").unwrap().unwrap();
        assert_eq!(p000.record.get("price"), Some(&8.into()));
        assert_eq!(cache.get("p001").unwrap().unwrap().state, RowState::Stale);
        assert_eq!(cache.get("p002").unwrap(), None);
        assert_eq!(
            drain(&mut events),
            vec![
                DioEvent::RecordInserted { id: "n1".into() },
                DioEvent::RecordChanged { id: "p000".into() },
                DioEvent::RecordChanged { id: "p001".into() },
                DioEvent::RecordRemoved { id: "p002".into() },
                DioEvent::Invalidated,
            ]
        );
        assert_eq!(master.calls(VistaOp::Get), 0);
        assert_eq!(master.total_calls(), 0);
        dio.shutdown().await.unwrap();
    });
}

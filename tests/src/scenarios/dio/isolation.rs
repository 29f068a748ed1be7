//! Test 12: Dios under one Lens keep their events and caches apart.

use diorama_core::{DioEvent, MemoryVista, Vista, record};

use super::support::{cache_rows, copy_master, drain, lens_on, master_rows, products};
use crate::harness::Harness;

/// Test 12a: Two Dios over different vistas under one Lens: each one's
/// subscribers see only its own events, and each cache holds only its
/// master's rows.
pub fn dios_do_not_see_each_others_events<H: Harness>(h: &H) {
    let products = products("products", 4);
    let orders = MemoryVista::new("orders").with_rows([("o1", record! { "total" => 10 })]);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let p = lens.make_dio(Vista::new(products.clone())).await.unwrap();
        let o = lens.make_dio(Vista::new(orders.clone())).await.unwrap();
        let mut p_events = p.subscribe_events();
        let mut o_events = o.subscribe_events();

        p.try_delete("p000").unwrap().outcome().await.unwrap();
        o.patched("o1", record! { "total" => 12 }).unwrap();
        o.refresh().await.unwrap();

        assert_eq!(
            drain(&mut p_events),
            vec![
                DioEvent::WriteQueued {
                    id: Some("p000".into())
                },
                DioEvent::RecordRemoved { id: "p000".into() },
                DioEvent::WriteCompleted {
                    id: Some("p000".into())
                },
            ]
        );
        assert_eq!(
            drain(&mut o_events),
            vec![
                DioEvent::RecordChanged { id: "o1".into() },
                DioEvent::Refreshing,
                DioEvent::Invalidated,
            ]
        );
        assert_eq!(cache_rows(p.cache()), master_rows(&products));
        assert_eq!(
            cache_rows(o.cache()),
            vec![("o1".to_string(), record! { "total" => 12 })]
        );
        p.shutdown().await.unwrap();
        o.shutdown().await.unwrap();
    });
}

/// Test 12b: `make_dio_as` caches two masters that share a name in two tables;
/// `make_dio` would have put both in one.
pub fn make_dio_as_keeps_same_named_masters_apart<H: Harness>(h: &H) {
    let east = MemoryVista::new("customers").with_rows([("c1", record! { "region" => "east" })]);
    let west = MemoryVista::new("customers").with_rows([("c2", record! { "region" => "west" })]);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let e = lens
            .make_dio_as(Vista::new(east.clone()), "customers-east")
            .await
            .unwrap();
        let w = lens
            .make_dio_as(Vista::new(west.clone()), "customers-west")
            .await
            .unwrap();
        assert_eq!(e.table_name(), "customers-east");
        assert_eq!(w.table_name(), "customers-west");
        assert_eq!(e.vista().list().await.unwrap(), master_rows(&east));
        assert_eq!(w.vista().list().await.unwrap(), master_rows(&west));

        let mut w_events = w.subscribe_events();
        e.try_delete("c1").unwrap().outcome().await.unwrap();
        assert_eq!(drain(&mut w_events), vec![]);
        assert_eq!(e.cache().count().unwrap(), 0);
        assert_eq!(w.vista().list().await.unwrap(), master_rows(&west));
        e.shutdown().await.unwrap();
        w.shutdown().await.unwrap();

        // Under the master's own name, the two share one table: both
        // on_starts copied into it.
        east.put_row("c3", record! { "region" => "east" });
        let shared = lens.make_dio(Vista::new(east.clone())).await.unwrap();
        let again = lens.make_dio(Vista::new(west.clone())).await.unwrap();
        assert_eq!(shared.table_name(), again.table_name());
        assert_eq!(again.cache().count().unwrap(), 2);
        shared.shutdown().await.unwrap();
        again.shutdown().await.unwrap();
    });
}

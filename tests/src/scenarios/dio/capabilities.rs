//! The facade's capabilities are re-derived from the master and `on_write`,
//! and honest: a write it does not advertise is refused at once.

use diorama_core::vista::{VistaCapabilities, VistaOp};
use diorama_core::{ErrorKind, Vista, WriteOp, record};

use super::support::{copy_master, drain, lens_on, master_rows, products};
use crate::harness::Harness;

/// Over a read-only master without `on_write`, the facade advertises no
/// write and refuses each with `Unsupported` at once (nothing queued, no
/// event); reads are answered locally whatever the master offers. With
/// `on_write`, every write is advertised and routed.
pub fn facade_capabilities_are_honest<H: Harness>(h: &H) {
    let read_only = VistaCapabilities {
        can_insert: false,
        can_update: false,
        can_delete: false,
        can_order: false,
        can_search: false,
        can_count: false,
        can_fetch_page: false,
        ..VistaCapabilities::NONE
    };
    let master = products("csv", 5).with_capabilities(read_only);
    let lens = lens_on(h).on_start(copy_master).build().unwrap();
    h.block_on(async {
        let dio = lens.make_dio(Vista::new(master.clone())).await.unwrap();
        let facade = dio.vista();
        let caps = facade.capabilities();
        assert!(!caps.can_insert && !caps.can_update && !caps.can_delete);
        assert!(caps.can_order && caps.can_search && caps.can_count && caps.can_fetch_page);

        let mut events = dio.subscribe_events();
        let refusals = [
            facade.insert(Some("n".into()), record! {}).await.map(drop),
            facade.replace("p000", record! {}).await,
            facade.patch("p000", record! {}).await,
            facade.delete("p000").await,
            facade.delete_all().await,
        ];
        for refusal in refusals {
            assert_eq!(refusal.unwrap_err().kind(), ErrorKind::Unsupported);
        }
        assert_eq!(drain(&mut events), vec![]);
        assert_eq!(dio.pending_writes(), 0);

        // Advertised reads really work, over the cache.
        let sorted = facade
            .clone()
            .with_sort("price", diorama_core::vista::SortDir::Desc)
            .with_search("product 4");
        assert_eq!(sorted.list().await.unwrap().len(), 1);
        assert_eq!(facade.count().await.unwrap(), 5);
        assert_eq!(
            facade.fetch_window(1, 2).await.unwrap().rows,
            master_rows(&master)[1..3].to_vec()
        );
        assert_eq!(master.calls(VistaOp::Count), 0);
        dio.shutdown().await.unwrap();
    });

    let routed = lens_on(h)
        .on_write(|_dio, _op: WriteOp| async { Ok(()) })
        .build()
        .unwrap();
    h.block_on(async {
        let dio = routed.make_dio(Vista::new(master.clone())).await.unwrap();
        let facade = dio.vista();
        let caps = facade.capabilities();
        assert!(caps.can_insert && caps.can_update && caps.can_delete);
        facade.patch("p000", record! { "x" => 1 }).await.unwrap();
        facade.delete_all().await.unwrap();
        dio.shutdown().await.unwrap();
    });
}

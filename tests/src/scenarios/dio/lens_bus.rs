//! The Lens-wide event bus: every Dio's events tagged with its name,
//! filterable, with a Dio's lag and closing rules.

use diorama_core::dio::LensEvent;
use diorama_core::sync::broadcast::{RecvError, TryRecvError};
use diorama_core::{DioEvent, Vista, record};

use super::support::{lens_on, products};
use crate::harness::Harness;

fn changed(dio: &str, id: &str) -> LensEvent {
    LensEvent {
        dio: dio.into(),
        event: DioEvent::RecordChanged { id: id.into() },
    }
}

/// Two Dios of one Lens: a Lens-wide subscriber sees both Dios' events in
/// publication order, each tagged with its Dio's name (`make_dio_as`'s
/// name where given); a filtered one sees only its Dio's; a Dio's own bus
/// is unchanged. A subscriber that falls behind the bus capacity learns by
/// how much it lagged and goes on; once the Lens and every Dio are gone the
/// bus closes after what it retained.
pub fn the_lens_bus_carries_every_dios_events_tagged_and_filterable<H: Harness>(h: &H) {
    let lens = lens_on(h).event_bus_capacity(4).build().unwrap();
    let mut all = lens.subscribe_events();
    let mut orders_only = lens.subscribe_events().only(["orders"]);
    let mut slow = lens.subscribe_events();
    h.block_on(async {
        let orders = lens
            .make_dio(Vista::new(products("orders", 0)))
            .await
            .unwrap();
        let clients = lens
            .make_dio_as(Vista::new(products("customers", 0)), "clients")
            .await
            .unwrap();
        let mut own = clients.subscribe_events();

        orders.patched("o1", record! { "client" => "c1" }).unwrap();
        clients.patched("c1", record! { "orders" => 1 }).unwrap();
        assert_eq!(all.recv().await, Ok(changed("orders", "o1")));
        assert_eq!(all.recv().await, Ok(changed("clients", "c1")));
        assert_eq!(orders_only.recv().await, Ok(changed("orders", "o1")));
        assert_eq!(orders_only.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(
            own.try_recv(),
            Ok(DioEvent::RecordChanged { id: "c1".into() })
        );

        // Four more: `slow` (which read nothing) has lost the first two of six.
        for i in 2..6 {
            clients
                .patched(format!("c{i}"), record! { "orders" => i as i64 })
                .unwrap();
        }
        assert_eq!(slow.recv().await, Err(RecvError::Lagged(2)));
        for i in 2..6 {
            assert_eq!(slow.recv().await, Ok(changed("clients", &format!("c{i}"))));
        }
        assert_eq!(orders_only.try_recv(), Err(TryRecvError::Empty));
        orders.shutdown().await.unwrap();
        clients.shutdown().await.unwrap();
    });
    drop(lens);
    h.settle();
    // What the bus retained first, then closed.
    for i in 2..6 {
        assert_eq!(all.try_recv(), Ok(changed("clients", &format!("c{i}"))));
    }
    assert_eq!(all.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(slow.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(orders_only.try_recv(), Err(TryRecvError::Closed));
}

//! Test 11: a slow subscriber learns it lagged, by how much, and continues.

use diorama_core::sync::broadcast::{RecvError, TryRecvError};
use diorama_core::{DioEvent, Vista};

use super::support::{drain, lens_on, products};
use crate::harness::Harness;

fn removed(i: usize) -> DioEvent {
    DioEvent::RecordRemoved {
        id: format!("e{i}"),
    }
}

/// Test 11: On a bus of capacity 4, a subscriber that reads nothing while 6
/// events are published gets `Lagged(2)`, then the 4 retained events in
/// order, then the next event published; a subscriber that keeps up sees
/// all of them.
pub fn slow_subscriber_learns_it_lagged<H: Harness>(h: &H) {
    let lens = lens_on(h).event_bus_capacity(4).build().unwrap();
    h.block_on(async {
        let dio = lens
            .make_dio(Vista::new(products("products", 0)))
            .await
            .unwrap();
        let mut slow = dio.subscribe_events();
        let mut fast = dio.subscribe_events();
        let mut fast_seen = Vec::new();
        for i in 0..6 {
            dio.removed(format!("e{i}")).unwrap();
            fast_seen.extend(drain(&mut fast));
        }

        assert_eq!(slow.recv().await, Err(RecvError::Lagged(2)));
        for i in 2..6 {
            assert_eq!(slow.recv().await, Ok(removed(i)));
        }
        assert_eq!(slow.try_recv(), Err(TryRecvError::Empty));
        dio.removed("e6").unwrap();
        assert_eq!(slow.recv().await, Ok(removed(6)));

        fast_seen.extend(drain(&mut fast));
        assert_eq!(fast_seen, (0..7).map(removed).collect::<Vec<_>>());
        dio.shutdown().await.unwrap();
    });
}

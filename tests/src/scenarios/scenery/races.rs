//! Reads racing changes: a change that reaches the Dio while a read of the
//! master is on its way (a change feed's event, a replica's change, a
//! write the queue completed) is newer than what that read brings back.
//! The cache and the views end with the change, never with the read's
//! older value shown as fresh.

use diorama_core::cache::RowState;
use diorama_core::scenery::{RecordStatus, RowStatus};
use diorama_core::vista::{MemoryVista, TableShell};
use diorama_core::{Value, record};

use super::support::*;
use crate::harness::Harness;

/// A Lens whose chunks are read from `master` at once and delivered only
/// once `barrier` lets them through: the window is read before anything
/// the test does while the barrier is held. With `with_total` the sink is
/// told the window's total too (as read then).
fn late_chunks<H: Harness>(h: &H, barrier: &MemoryVista, with_total: bool) -> diorama_core::Lens {
    let barrier = barrier.clone();
    lens_over(h, h.backend())
        .on_load_chunk(move |dio, range, query, sink| {
            let barrier = barrier.clone();
            async move {
                let page = dio
                    .master()
                    .shell()
                    .fetch_window(&query, range.start, range.len())
                    .await?;
                barrier.get("wait").await?;
                if let (true, Some(total)) = (with_total, page.total) {
                    sink.set_total(total)?;
                }
                for (i, (id, record)) in page.rows.into_iter().enumerate() {
                    sink.push(range.start + i, id, record)?;
                }
                Ok(())
            }
        })
        .build()
        .unwrap()
}

/// A paged view of 60 products whose first chunk has been read from the
/// master and waits at the (held) barrier.
fn first_chunk_on_its_way<H: Harness>(
    h: &H,
) -> (
    MemoryVista,
    MemoryVista,
    diorama_core::Dio,
    diorama_core::TableScenery,
) {
    let master = products(60);
    let barrier = MemoryVista::new("barrier");
    barrier.hold();
    let lens = late_chunks(h, &barrier, false);
    let dio = open_dio(h, &lens, &master);
    let view = h
        .block_on(dio.table_scenery().page_size(20).open())
        .unwrap();
    settle(h);
    assert!(
        barrier.calls(diorama_core::vista::VistaOp::Get) >= 1,
        "the chunk is on its way"
    );
    (master, barrier, dio, view)
}

fn price(row: &diorama_core::Record) -> Option<&Value> {
    row.get("price")
}

/// The master changes a row's price while a chunk holding its old value
/// is on the way, and its change feed tells the Dio (`patched`): once the
/// chunk lands, the cache and the view show the new price, the row whole
/// (the chunk completes the fields the change did not name).
pub fn a_change_arriving_during_a_chunk_load_wins_over_the_chunk<H: Harness>(h: &H) {
    let (master, barrier, dio, view) = first_chunk_on_its_way(h);

    let changed = product_id(3);
    let mut now = master.get_row(&changed).unwrap();
    now.merge(&record! { "price" => 999 });
    master.put_row(changed.clone(), now);
    dio.patched(changed.clone(), record! { "price" => 999 })
        .unwrap();
    barrier.release();
    settle(h);
    h.settle();

    let cached = dio.cache().get(&changed).unwrap().expect("cached");
    assert_eq!(price(&cached.record), Some(&Value::from(999)));
    assert_eq!(cached.state, RowState::Complete, "completed by the chunk");
    assert_eq!(cached.record.get("name"), product(3).get("name"));
    h.settle_until("the view shows the change", || {
        view.row(3)
            .is_some_and(|row| price(&row.record) == Some(&Value::from(999)))
    });
    let row = view.row(3).unwrap();
    assert_eq!(row.status, RowStatus::Fresh);
    // The rows nothing changed landed as read.
    assert_eq!(view.row(4).unwrap().record, product(4));
    assert_eq!(
        dio.cache().get(&product_id(4)).unwrap().unwrap().record,
        product(4)
    );
}

/// A row removed at the master (and reported removed) while a chunk
/// holding it is on the way is not brought back by the chunk.
pub fn a_removal_during_a_chunk_load_is_not_undone_by_the_chunk<H: Harness>(h: &H) {
    let (master, barrier, dio, view) = first_chunk_on_its_way(h);

    let gone = product_id(5);
    master.remove_row(&gone);
    dio.removed(gone.clone()).unwrap();
    barrier.release();
    settle(h);
    h.settle();

    assert_eq!(dio.cache().get(&gone).unwrap(), None, "not cached again");
    h.settle_until("the view no longer shows the removed row as fresh", || {
        (0..view.row_count()).all(|i| {
            view.row(i)
                .is_none_or(|row| row.id != gone || row.status != RowStatus::Fresh)
        })
    });
}

/// A write in flight while another change of its row is reported (a
/// live source's event): which the master applied last is unknown, so the
/// cache records neither and reads the row again from the master; every
/// view, an aggregate over the cache included, ends with the master's row.
pub fn a_change_reported_during_a_write_leaves_the_row_to_be_refetched<H: Harness>(h: &H) {
    let master = products(10);
    let lens = local_lens(h, h.backend()).build().unwrap();
    let dio = open_dio(h, &lens, &master);
    let count = h.block_on(dio.value_scenery().count().open()).unwrap();
    h.settle();
    assert_eq!(count.value(), Some(Value::from(10)));
    let id = product_id(7);

    master.hold();
    let ticket = dio
        .try_replace(id.clone(), record! { "name" => "Replaced", "price" => 1 })
        .unwrap();
    h.settle();
    dio.patched(id.clone(), record! { "price" => 2 }).unwrap();
    master.release();
    h.block_on(ticket.outcome()).unwrap();
    h.settle();

    let truth = master.get_row(&id).unwrap();
    h.settle_until("the Dio read the row again", || {
        dio.cache()
            .get(&id)
            .unwrap()
            .is_some_and(|row| row.record == truth && row.state == RowState::Complete)
    });
    h.settle_until("the aggregate has the row back", || {
        count.value() == Some(Value::from(10))
    });
    let record = h.block_on(dio.record_scenery(id.clone()).open()).unwrap();
    h.settle();
    assert_eq!(record.status(), RecordStatus::Fresh);
    assert_eq!(record.record().unwrap().record, truth);
}

/// A row that starts matching a filtered view's condition while the
/// view's first chunk (read before the change) is on its way is in the
/// view once that chunk has landed, and the count includes it.
pub fn a_row_entering_a_filter_during_a_chunk_load_is_not_lost<H: Harness>(h: &H) {
    let master = products(700);
    let barrier = MemoryVista::new("barrier");
    barrier.hold();
    let lens = late_chunks(h, &barrier, true);
    let dio = open_dio(h, &lens, &master);
    let view = open_stock_3_by_price(h, &dio);
    settle(h);
    let ticket = dio
        .try_patch(product_id(11), record! { "stock" => 3 })
        .unwrap();
    h.block_on(ticket.outcome()).unwrap();
    h.settle();
    barrier.release();
    settle(h);
    h.settle();
    h.settle_until("the entered row is shown", || {
        view.index_of(&product_id(11)).is_some()
    });
    assert_eq!(view.row_count(), 101);
}

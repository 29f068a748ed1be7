//! The checks: a Lens + Dio + table scenery on the memory cache, scrolled
//! and written through, every row shown compared with the master.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::time::Duration;

use cortex_m_semihosting::hprintln;
use diorama_core::scenery::{RowStatus, TableScenery};
use diorama_core::{Lens, MemoryBackend, MemoryVista, Runtime, Vista, record};
use diorama_embassy::EmbassyRuntime;

use crate::heap::CountingHeap;
use crate::products::{product, product_id};

/// Rows in the master.
const ROWS: usize = 300;
/// The viewport the heap figure is taken with.
const VIEWPORT: usize = 100;
/// DESIGN budget for Lens + Dio + table scenery with the viewport above.
const HEAP_BUDGET: usize = 128 * 1024;
/// Longest a check waits (on the emulated clock) before it fails.
const PATIENCE: Duration = Duration::from_secs(10);

type Check = Result<(), String>;

fn check(holds: bool, what: impl FnOnce() -> String) -> Check {
    if holds { Ok(()) } else { Err(what()) }
}

/// Sleep a millisecond at a time until `condition` holds.
async fn until(rt: &Arc<dyn Runtime>, what: &str, mut condition: impl FnMut() -> bool) -> Check {
    let start = rt.now();
    while !condition() {
        if rt.now() - start > PATIENCE {
            return Err(format!("never true: {what}"));
        }
        rt.sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// Every row in `range` is shown, fresh, and equals the master's.
fn rows_match(view: &TableScenery, master: &MemoryVista, range: core::ops::Range<usize>) -> Check {
    for index in range {
        let Some(row) = view.row(index) else {
            return Err(format!("row {index} not loaded"));
        };
        check(row.id == product_id(index), || {
            format!("row {index} shows {}", row.id)
        })?;
        check(row.status == RowStatus::Fresh, || {
            format!("row {index} is {:?}", row.status)
        })?;
        let truth = master.get_row(&row.id);
        check(truth.as_ref() == Some(&row.record), || {
            format!("row {index} differs from the master")
        })?;
    }
    Ok(())
}

pub async fn run(embassy: Arc<EmbassyRuntime>, heap: &CountingHeap) -> Check {
    let rt: Arc<dyn Runtime> = embassy.clone();
    let boot = heap.used();
    let master = MemoryVista::generate("products", ROWS, product);
    let with_master = heap.used();
    hprintln!("master: {} rows, {} B of heap", ROWS, with_master - boot);
    heap.reset_peak();

    let lens = Lens::builder()
        .cache_source(Arc::new(MemoryBackend::new()))
        .runtime(rt.clone())
        .page_from_master()
        .build()
        .map_err(|e| format!("build: {e}"))?;
    let dio = lens
        .make_dio(Vista::new(master.clone()))
        .await
        .map_err(|e| format!("make_dio: {e}"))?;
    let view = dio
        .table_scenery()
        .page_size(VIEWPORT)
        .initial_range(0..VIEWPORT)
        .open()
        .await
        .map_err(|e| format!("open: {e}"))?;
    until(&rt, "the first viewport", || {
        (0..VIEWPORT).all(|i| view.row(i).is_some())
    })
    .await?;
    check(view.row_count() == ROWS, || {
        format!("row_count {}", view.row_count())
    })?;
    rows_match(&view, &master, 0..VIEWPORT)?;
    let setup_peak = heap.peak() - with_master;
    check(setup_peak <= HEAP_BUDGET, || {
        format!("heap {setup_peak} B over the {HEAP_BUDGET} B budget")
    })?;
    hprintln!(
        "heap: Lens + Dio + table scenery, {}-row viewport: peak {} B, in use {} B (beyond the master)",
        VIEWPORT,
        setup_peak,
        heap.used() - with_master
    );

    // A tick raised while thread mode holds a core lock waits for it.
    crate::interrupt_reader::probe().map_err(String::from)?;
    // From here on the SysTick handler reads the view every millisecond,
    // preempting the tasks that drive it.
    crate::interrupt_reader::watch(view.clone());

    // Scroll: the new viewport loads, the rows shown are the master's.
    view.set_viewport(180..280);
    until(&rt, "the scrolled viewport", || {
        (180..280).all(|i| view.row(i).is_some())
    })
    .await?;
    rows_match(&view, &master, 180..280)?;
    let windows = master.windows();
    for (i, a) in windows.iter().enumerate() {
        for b in &windows[i + 1..] {
            check(a.0 != b.0 || a.1 != b.1, || {
                format!("window at {} fetched twice", a.1)
            })?;
        }
    }

    // A write through the queue, the master held: the row shows pending
    // (and the master's old value stays unwritten); released, it is fresh
    // with the master's new truth.
    let id = product_id(200);
    master.hold();
    let ticket = dio
        .try_patch(id.clone(), record! { "price" => 9.99, "stock" => 0 })
        .map_err(|e| format!("try_patch: {e}"))?;
    until(&rt, "the row shown pending", || {
        view.row(200)
            .is_some_and(|r| r.status == RowStatus::PendingWrite)
    })
    .await?;
    check(
        master.get_row(&id).and_then(|r| r.get("stock").cloned()) != Some(0.into()),
        || String::from("the master was written while held"),
    )?;
    master.release();
    ticket.outcome().await.map_err(|e| format!("write: {e}"))?;
    until(&rt, "the written row fresh", || {
        view.row(200).is_some_and(|r| r.status == RowStatus::Fresh)
    })
    .await?;
    let truth = master
        .get_row(&id)
        .ok_or_else(|| String::from("the row left the master"))?;
    check(truth.get("price") == Some(&9.99.into()), || {
        String::from("the master missed the write")
    })?;
    rows_match(&view, &master, 180..280)?;

    // A second Dio handle reads the cache, not the master.
    let calls = master.total_calls();
    let cached = dio
        .vista()
        .get(&id)
        .await
        .map_err(|e| format!("get: {e}"))?;
    check(cached.as_ref() == Some(&truth), || {
        String::from("facade read differs")
    })?;
    check(master.total_calls() == calls, || {
        String::from("facade read reached the master")
    })?;

    // Let the handler read the settled view a while too.
    rt.sleep(Duration::from_millis(50)).await;
    drop(crate::interrupt_reader::stop());
    let (reads, loaded, wrong) = crate::interrupt_reader::counts();
    hprintln!(
        "interrupt reads of the view: {} ({} rows loaded, {} misplaced)",
        reads,
        loaded,
        wrong
    );
    check(loaded > 0 && wrong == 0, || {
        format!("interrupt reads: {reads}, {loaded} loaded, {wrong} misplaced")
    })?;

    dio.shutdown().await.map_err(|e| format!("shutdown: {e}"))?;
    drop(view);
    drop(dio);
    let tasks = embassy.stats();
    hprintln!(
        "heap: peak {} B of {} B over the whole run; tasks: peak {} of {} slots, {} refused",
        heap.peak(),
        crate::heap::HEAP_SIZE,
        tasks.peak,
        tasks.capacity,
        tasks.rejected
    );
    check(tasks.rejected == 0, || String::from("a spawn was refused"))
}

//! Interrupt context against thread mode: the SysTick handler takes a core
//! lock and reads the table scenery every millisecond while thread-mode
//! tasks load, scroll and write it, and [`probe`] raises a tick while
//! holding a core lock.
//!
//! This is the single-core case the core's locks are built for: had they
//! been spin locks, a tick arriving while a task held one would spin in the
//! handler forever, the holder it preempted never running again. Held
//! inside a critical section, no tick can arrive while one is held.

use core::cell::RefCell;

use diorama_core::TableScenery;
use embassy_sync::blocking_mutex::CriticalSectionMutex;
use portable_atomic::{AtomicU32, Ordering};

use crate::products::product_id;

static VIEW: CriticalSectionMutex<RefCell<Option<TableScenery>>> =
    CriticalSectionMutex::new(RefCell::new(None));
static READS: AtomicU32 = AtomicU32::new(0);
static LOADED: AtomicU32 = AtomicU32::new(0);
static WRONG: AtomicU32 = AtomicU32::new(0);

/// Taken by every tick and, in [`probe`], by thread mode across a
/// SysTick it raises itself: the core's own lock type.
static PROBE: diorama_core::sync::Mutex<u32> = diorama_core::sync::Mutex::new(0);

/// The deterministic case: thread mode holds a core lock and pends SysTick.
/// With interrupts masked while a guard lives, the handler runs only after
/// the guard drops (and then takes the lock at once). A spin lock would let
/// it run at once and spin forever on the lock its preempted holder keeps.
pub fn probe() -> Result<(), &'static str> {
    let before = {
        let held = PROBE.lock();
        let before = *held;
        cortex_m::peripheral::SCB::set_pendst();
        cortex_m::asm::isb();
        if *held != before {
            return Err("the handler ran while thread mode held the lock");
        }
        before
    };
    // Released: the pending tick has run by now and taken the lock.
    cortex_m::asm::isb();
    if *PROBE.lock() == before {
        return Err("the pended tick never took the lock");
    }
    Ok(())
}

/// Start reading `view` from every tick.
pub fn watch(view: TableScenery) {
    critical_section::with(|cs| *VIEW.borrow(cs).borrow_mut() = Some(view));
}

/// Stop, handing the view back so thread mode (not the handler) drops it.
pub fn stop() -> Option<TableScenery> {
    critical_section::with(|cs| VIEW.borrow(cs).borrow_mut().take())
}

/// Reads so far, how many found their row loaded, and how many showed a row
/// at the wrong index (must stay 0).
pub fn counts() -> (u32, u32, u32) {
    (
        READS.load(Ordering::Relaxed),
        LOADED.load(Ordering::Relaxed),
        WRONG.load(Ordering::Relaxed),
    )
}

/// Called by the SysTick handler: take the probe lock, read one row of the
/// watched view.
pub fn on_tick() {
    *PROBE.lock() += 1;
    critical_section::with(|cs| {
        let view = VIEW.borrow(cs).borrow();
        let Some(view) = view.as_ref() else {
            return;
        };
        let reads = READS.fetch_add(1, Ordering::Relaxed);
        let count = view.row_count().max(1);
        let index = reads as usize * 7 % count;
        if let Some(row) = view.row(index) {
            LOADED.fetch_add(1, Ordering::Relaxed);
            if row.id != product_id(index) {
                WRONG.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
}

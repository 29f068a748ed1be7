//! An embassy-time driver on the Cortex-M SysTick timer: one interrupt a
//! millisecond (embassy-time's `tick-hz-1_000`), each advancing the tick
//! count and waking the timers due.
//!
//! No HAL of embassy's covers the MPS2, and SysTick is the one timer
//! every Cortex-M has (and QEMU emulates), so the driver is written here:
//! the tick counter and embassy's own timer queue behind a
//! critical-section mutex.

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use embassy_sync::blocking_mutex::CriticalSectionMutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

/// The core clock of the MPS2 (QEMU models it at 25 MHz).
const CORE_HZ: u32 = 25_000_000;

struct SysTickDriver {
    ticks: CriticalSectionMutex<Cell<u64>>,
    queue: CriticalSectionMutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    ticks: CriticalSectionMutex::new(Cell::new(0)),
    queue: CriticalSectionMutex::new(RefCell::new(Queue::new())),
});

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.ticks.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let now = self.ticks.borrow(cs).get();
            let mut queue = self.queue.borrow(cs).borrow_mut();
            queue.schedule_wake(at, waker);
            // Already due (the tick moved between the timer's check and
            // here): fire now rather than a tick late.
            queue.next_expiration(now);
        });
    }
}

/// Start the millisecond tick. Call once, before the executor runs.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CORE_HZ / 1_000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        let ticks = DRIVER.ticks.borrow(cs);
        ticks.set(ticks.get() + 1);
        DRIVER
            .queue
            .borrow(cs)
            .borrow_mut()
            .next_expiration(ticks.get());
    });
    // The scenario's interrupt-context reader (see `interrupt_reader`).
    crate::interrupt_reader::on_tick();
}

//! Diorama on an emulated Cortex-M3 (QEMU's `mps2-an385`, ARM's MPS2 board
//! with the AN385 image: 4 MiB code SRAM, 4 MiB data SRAM):
//! `EmbassyRuntime` on embassy's thread-mode executor, a SysTick time
//! driver, a fixed 512 KiB heap. It builds a Lens with the
//! memory cache, a Dio over a `MemoryVista` of sample product rows, opens a
//! table scenery, scrolls its viewport, writes through the queue, checks
//! every row shown against the master, prints the figures and exits through
//! semihosting: status 0 when every check held.
//!
//! Run: `cd tests/qemu-cortex-m && cargo run --release` (needs
//! `qemu-system-arm` and the `thumbv7m-none-eabi` target).
#![no_std]
#![no_main]

extern crate alloc;

mod heap;
mod interrupt_reader;
mod products;
mod scenario;
mod time_driver;

use alloc::sync::Arc;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use diorama_core::RuntimeExt;
use diorama_embassy::{EmbassyRuntime, TaskPool};
use embassy_executor::Executor;
// Links the panic handler: a panic prints and exits with a failure status.
use panic_semihosting as _;

#[global_allocator]
static HEAP: heap::CountingHeap = heap::CountingHeap::new();

/// Slots for every task Diorama spawns here (the run prints the peak).
static POOL: TaskPool<16> = TaskPool::new();

#[entry]
fn main() -> ! {
    HEAP.init();
    let peripherals = cortex_m::Peripherals::take().expect("taken once, at boot");
    time_driver::start(peripherals.SYST);

    let executor: &'static mut Executor =
        cortex_m::singleton!(: Executor = Executor::new()).expect("created once, at boot");
    executor.run(|spawner| {
        let runtime = Arc::new(EmbassyRuntime::new(spawner.make_send(), &POOL));
        let task_runtime = runtime.clone();
        // The scenario runs as a task of the runtime itself; it ends the
        // program, so its handle is not awaited.
        drop(runtime.spawn("scenario", async move {
            let outcome = scenario::run(task_runtime, &HEAP).await;
            match outcome {
                Ok(()) => {
                    hprintln!("qemu-cortex-m: all checks passed");
                    debug::exit(debug::EXIT_SUCCESS);
                }
                Err(failure) => {
                    hprintln!("qemu-cortex-m: FAILED: {}", failure);
                    debug::exit(debug::EXIT_FAILURE);
                }
            }
        }));
    })
}

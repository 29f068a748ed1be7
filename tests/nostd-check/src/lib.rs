//! A `no_std` staticlib that uses diorama-core and defines its own panic
//! handler. If anything in the core's dependency graph links `std`, std's
//! `panic_impl` lang item collides with ours and the build fails with
//! E0152, which is the point: this crate exists only to be built.
#![no_std]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec;
use core::alloc::{GlobalAlloc, Layout};

use diorama_core::cache::CachedRow;
use diorama_core::sim::SimRuntime;
use diorama_core::{CacheBackend, MemoryBackend, Record, RuntimeExt, Timestamp};

/// Defining this lang item is what makes a linked `std` fail the build
/// (E0152, duplicate `panic_impl`). Never reached: the library is never run.
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// A staticlib is a final artifact, so rustc demands a global allocator
/// once `alloc` is used. This crate only proves that no `std` is linked and
/// is never run, so the allocator just reports failure; an embedded user
/// supplies a real one (for example `embedded-alloc`).
struct NoAllocator;

// SAFETY: returning null is how `GlobalAlloc::alloc` reports failure, which
// is always allowed; `dealloc` can then never receive a pointer from us.
unsafe impl GlobalAlloc for NoAllocator {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: NoAllocator = NoAllocator;

/// Exercises a few core items so they are compiled and linked: a record
/// encoded to CBOR and decoded back, a memory cache table, and the
/// simulator running a spawned task. Returns the number of cached rows.
#[unsafe(no_mangle)]
pub extern "C" fn diorama_nostd_check() -> usize {
    let record = Record::new().with("name", "probe").with("n", 1u64);
    let Ok(decoded) = Record::from_cbor(&record.to_cbor()) else {
        return 0;
    };

    let backend: Arc<dyn CacheBackend> = Arc::new(MemoryBackend::new());
    let Ok(table) = backend.open_table("probe") else {
        return 0;
    };
    let row = CachedRow::complete(decoded, Some(Timestamp::from_millis(0)));
    if table.insert_batch(vec![("a".into(), row)]).is_err() {
        return 0;
    }

    let sim = SimRuntime::new(7);
    let count = sim.block_on(
        sim.runtime()
            .spawn("probe", async move { table.count().unwrap_or(0) }),
    );
    count.unwrap_or(0)
}

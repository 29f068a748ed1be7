//! The global allocator: embedded-alloc's linked-list heap over a fixed
//! static region, counting bytes in use and their high-water mark.

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;

use embedded_alloc::LlffHeap;
use portable_atomic::{AtomicUsize, Ordering};

/// Bytes of RAM given to the heap. The master's rows live here too (300
/// sample rows take about 150 KB); Diorama's own share is what the run
/// prints beyond them.
pub const HEAP_SIZE: usize = 512 * 1024;

/// A heap that knows its peak: what the heap figure in the README reports.
pub struct CountingHeap {
    heap: LlffHeap,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl CountingHeap {
    pub const fn new() -> Self {
        CountingHeap {
            heap: LlffHeap::empty(),
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Hand the heap its region. Call once, first thing in `main`.
    pub fn init(&self) {
        static mut MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
        // SAFETY: called once at boot, before any allocation; MEMORY is
        // used by nothing else.
        unsafe { self.heap.init(&raw mut MEMORY as usize, HEAP_SIZE) }
    }

    /// Bytes allocated now (requested sizes, not allocator overhead).
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most bytes allocated at once since the last [`reset_peak`].
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Start a new high-water measurement from what is in use now.
    pub fn reset_peak(&self) {
        self.peak.store(self.used(), Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to LlffHeap, a GlobalAlloc; the counters
// only observe sizes.
unsafe impl GlobalAlloc for CountingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { self.heap.alloc(layout) };
        if !ptr.is_null() {
            let used = self.used.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(used, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { self.heap.dealloc(ptr, layout) };
        self.used.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

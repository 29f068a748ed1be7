//! Locks held inside a critical section: [`Mutex`] and [`RwLock`] for
//! targets without threads, where the context that contends is an
//! interrupt.
//!
//! On one core, a spin lock taken by thread-mode code and then wanted by an
//! interrupt handler (an interrupt-priority executor's task) deadlocks: the
//! handler spins, and the holder it preempted never runs again to release
//! it. These locks instead enter a `critical-section` for as long as a guard
//! lives (on a single-core Cortex-M: interrupts masked), so nothing can
//! preempt the holder and there is never a second contender on the core;
//! on multi-core chips the critical-section implementation also keeps the
//! other cores out. Holds are the core's usual short, synchronous sections.
//!
//! embassy-sync's `blocking_mutex::Mutex<CriticalSectionRawMutex, _>` has
//! these semantics but a closure-shaped API (`lock(|v| …)`), while the core
//! and its users hold guards (`lock()`, `read()`, `write()`); and
//! `critical-section`'s guard-less `acquire`/`release` must be released in
//! strict nesting order, which independent guards cannot promise. So this
//! file keeps one critical section open for all guards alive at once: the
//! first guard opens it, the last one to drop (in any order) closes it.
//!
//! A lock found held here can only be held by the same context (nothing
//! else runs while a guard lives), so taking it again is a re-entrant
//! lock: it panics with a clear message where a spin lock would hang.
#![allow(unsafe_code)]

use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use critical_section::{CriticalSection, RestoreState};

/// Guards alive on this core and the restore state of the section they share.
static OPEN: critical_section::Mutex<Cell<(usize, Option<RestoreState>)>> =
    critical_section::Mutex::new(Cell::new((0, None)));

/// Run `f` on the shared state inside a fresh, properly nested section.
fn with_open(f: impl FnOnce(&Cell<(usize, Option<RestoreState>)>)) {
    critical_section::with(|cs| f(OPEN.borrow(cs)));
}

/// One more guard: opens the shared section if it is the first.
fn enter() {
    // SAFETY: the section acquired here is either kept as the shared one
    // (released by `leave` when the last guard goes, with nothing of ours
    // nested inside it still open) or released at once below, innermost
    // first: every acquire/release pair is properly nested.
    let restore = unsafe { critical_section::acquire() };
    let mut keep = false;
    // SAFETY: inside the section acquired above.
    let cs = unsafe { CriticalSection::new() };
    let open = OPEN.borrow(cs);
    let (depth, outer) = open.get();
    if depth == 0 {
        open.set((1, Some(restore)));
        keep = true;
    } else {
        open.set((depth + 1, outer));
    }
    if !keep {
        // SAFETY: `restore` came from the acquire above, the innermost
        // section open; the shared section stays open around it.
        unsafe { critical_section::release(restore) };
    }
}

/// One guard fewer: closes the shared section after the last.
fn leave() {
    let mut close = None;
    with_open(|open| {
        let (depth, outer) = open.get();
        if depth <= 1 {
            open.set((0, None));
            close = outer;
        } else {
            open.set((depth - 1, outer));
        }
    });
    if let Some(restore) = close {
        // SAFETY: `restore` is the shared section's, opened by the first
        // guard's `enter`; every section nested in it was released already.
        unsafe { critical_section::release(restore) };
    }
}

fn reentrant(what: &str) -> ! {
    panic!(
        "diorama_core::sync::{what} taken again by the context that holds it (re-entrant locking)"
    )
}

/// A mutual-exclusion lock held inside a critical section (see the module docs).
pub struct Mutex<T: ?Sized> {
    locked: Cell<bool>,
    value: UnsafeCell<T>,
}

// SAFETY: `locked` and `value` are only touched while a guard holds the
// critical section, which excludes every other context; `T: Send` because
// the value may be reached from whichever context takes the lock.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: as above; moving the lock moves the value.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Mutex {
            locked: Cell::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, the lock consumed.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Lock: the guard holds the critical section until dropped. Panics if
    /// the calling context already holds it (a spin lock would hang).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.try_lock().unwrap_or_else(|| reentrant("Mutex"))
    }

    /// Lock unless the calling context already holds it.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        enter();
        if self.locked.replace(true) {
            leave();
            return None;
        }
        Some(MutexGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.try_lock() {
            Some(guard) => f.debug_struct("Mutex").field("data", &&*guard).finish(),
            None => f.write_str("Mutex { <locked> }"),
        }
    }
}

/// Access to a [`Mutex`]'s value; unlocks (and may end the critical
/// section) when dropped. Not `Send`: it must end where it began.
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only holder (`locked`), inside the section.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes the access unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.set(false);
        leave();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// A reader-writer lock held inside a critical section (see the module
/// docs). Several read guards may live at once in one context.
pub struct RwLock<T: ?Sized> {
    /// Read guards alive, or `WRITING`.
    state: Cell<usize>,
    value: UnsafeCell<T>,
}

const WRITING: usize = usize::MAX;

// SAFETY: as for `Mutex`; readers share `&T` within one context, so `T: Sync`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: moving the lock moves the value.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub const fn new(value: T) -> Self {
        RwLock {
            state: Cell::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, the lock consumed.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared access. Panics if the calling context holds the write guard.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.try_read().unwrap_or_else(|| reentrant("RwLock::read"))
    }

    /// Shared access unless the calling context holds the write guard.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        enter();
        let state = self.state.get();
        if state >= WRITING - 1 {
            leave();
            return None;
        }
        self.state.set(state + 1);
        Some(RwLockReadGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }

    /// Exclusive access. Panics if the calling context holds any guard.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.try_write()
            .unwrap_or_else(|| reentrant("RwLock::write"))
    }

    /// Exclusive access unless the calling context holds any guard.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        enter();
        if self.state.get() != 0 {
            leave();
            return None;
        }
        self.state.set(WRITING);
        Some(RwLockWriteGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.try_read() {
            Some(guard) => f.debug_struct("RwLock").field("data", &&*guard).finish(),
            None => f.write_str("RwLock { <locked> }"),
        }
    }
}

/// Shared access to an [`RwLock`]'s value. Not `Send`.
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: no write guard lives while a read guard does.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.state.set(self.lock.state.get() - 1);
        leave();
    }
}

/// Exclusive access to an [`RwLock`]'s value. Not `Send`.
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one alive.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard is the only one alive; `&mut self` is unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.state.set(0);
        leave();
    }
}

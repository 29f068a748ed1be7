//! # diorama-embassy
//!
//! Diorama on [embassy]: [`EmbassyRuntime`] implements the core's `Runtime`
//! over an `embassy-executor` executor, a [`TaskPool`] whose size the user
//! sets, and `embassy-time`. `no_std`; it allocates only what the core does
//! (the boxed task futures).
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use diorama_core::{Lens, MemoryBackend, MemoryVista, Vista};
//! use diorama_embassy::{EmbassyRuntime, TaskPool};
//!
//! /// Slots for every task of every Dio and scenery (see "Sizing the pool").
//! static POOL: TaskPool<16> = TaskPool::new();
//!
//! #[embassy_executor::main]
//! async fn main(spawner: embassy_executor::Spawner) {
//!     let runtime = EmbassyRuntime::new(spawner.make_send(), &POOL).arc();
//!     let lens = Lens::builder()
//!         .cache_source(Arc::new(MemoryBackend::new()))
//!         .runtime(runtime.clone())
//!         .page_from_master()
//!         .build()
//!         .expect("a valid Lens");
//!     let dio = lens
//!         .make_dio(Vista::new(MemoryVista::new("products")))
//!         .await
//!         .expect("a Dio");
//!     let view = dio.table_scenery().open().await.expect("a view");
//!     view.set_viewport(0..20);
//! }
//! ```
//!
//! (The example is the host's `#[embassy_executor::main]`; on a board it is
//! the HAL's, and the rest is the same. `tests/qemu-cortex-m` is a complete
//! firmware.)
//!
//! # Sizing the pool
//!
//! embassy tasks live in fixed slots, never on the heap. Every task Diorama
//! spawns takes one slot while it runs: each Dio runs a write worker (and a
//! refresh task when a refresh interval is set), each table scenery a
//! viewport loop and an event listener, each in-flight chunk load a task.
//! [`EmbassyRuntime::stats`] reports the peak; size `N` above it. A spawn
//! on a full pool is refused, not a panic: the task never runs and its
//! `JoinHandle` yields `JoinError::Rejected`.
//!
//! # Time
//!
//! `sleep` and `now` use embassy-time, so the binary links one embassy-time
//! driver (a HAL's, a SysTick driver, the `std` driver). Wall time, which
//! ages cached rows, comes from a [`WallClock`]: [`Uptime`] by default for
//! boards without an RTC, an RTC closure, or a [`SettableClock`]; the
//! [`wall`] module says what happens without a real one.
//!
//! # Locks on one core
//!
//! On `target_os = "none"` the core's short critical sections run inside
//! `critical-section` (interrupts masked), so a task of an interrupt-priority
//! executor never spins on a lock that preempted thread-mode code holds: the
//! binary provides a critical-section implementation (for Cortex-M,
//! `cortex-m`'s `critical-section-single-core`), as embassy itself needs.
//! See `diorama_core::sync` for the rule.
//!
//! # Features
//!
//! - `std`: a panicking task is caught and reported lost instead of
//!   unwinding through the executor.
//! - `host`: `host::HostExecutor`, embassy's std executor on a thread of
//!   its own with embassy-time's std driver, for tests and Linux tools.
//!
//! [embassy]: https://embassy.dev
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "host")]
pub mod host;
mod pool;
mod runtime;
#[cfg(feature = "host")]
mod sleep;
pub mod wall;

pub use pool::{Pool, PoolStats, PooledTask, TaskPool};
pub use runtime::EmbassyRuntime;
#[cfg(feature = "std")]
pub use wall::SystemClock;
pub use wall::{SettableClock, Uptime, WallClock};

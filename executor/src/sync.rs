//! The only module that touches atomics, locks and threads. Normal builds use `std`; under the
//! `shuttle` feature the shuttle crate's deterministic scheduler drives every one of them, so that
//! tests can explore thread interleavings and replay a failing one from its seed.

#[cfg(not(feature = "shuttle"))]
mod imp {
    pub use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
    pub use std::sync::{
        Mutex as RawMutex, MutexGuard, RwLock as RawRwLock, RwLockReadGuard, RwLockWriteGuard,
    };
    pub use std::thread::yield_now;
}

#[cfg(feature = "shuttle")]
mod imp {
    pub use shuttle::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
    pub use shuttle::sync::{
        Mutex as RawMutex, MutexGuard, RwLock as RawRwLock, RwLockReadGuard, RwLockWriteGuard,
    };
    pub use shuttle::thread::{scope, yield_now};
}

pub use imp::{AtomicBool, AtomicU64, AtomicUsize, MutexGuard, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::atomic::Ordering;

/// A mutual-exclusion lock whose `lock` ignores poisoning (a panicking worker fails the whole
/// block anyway, so the data behind a poisoned lock is never used for a result).
#[derive(Debug, Default)]
pub struct Mutex<T>(imp::RawMutex<T>);

impl<T> Mutex<T> {
    /// A new lock holding `value`.
    pub fn new(value: T) -> Self {
        Mutex(imp::RawMutex::new(value))
    }

    /// Locks, waiting for the lock if another thread holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A reader-writer lock whose guards ignore poisoning, like [`Mutex`].
#[derive(Debug, Default)]
pub struct RwLock<T>(imp::RawRwLock<T>);

impl<T> RwLock<T> {
    /// A new lock holding `value`.
    pub fn new(value: T) -> Self {
        RwLock(imp::RawRwLock::new(value))
    }

    /// Shared access.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `worker` on `threads` threads (at least one) and waits for all of them: the calling
/// thread is one of them, the others come from a pool kept per calling thread and thread count,
/// as a node keeps its executor's threads from block to block (starting threads for every
/// block would cost more than executing a small one).
#[cfg(not(feature = "shuttle"))]
pub fn run_workers<F>(threads: usize, worker: F)
where
    F: Fn() + Sync,
{
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    thread_local! {
        static POOLS: RefCell<HashMap<usize, Rc<rayon::ThreadPool>>> = RefCell::default();
    }

    let helpers = threads.max(1) - 1;
    if helpers == 0 {
        worker();
        return;
    }
    let pool = POOLS.with(|pools| {
        if let Some(pool) = pools.borrow().get(&helpers) {
            return Some(Rc::clone(pool));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(helpers)
            .thread_name(|i| format!("lockstep-worker-{i}"))
            .build()
            .ok()
            .map(Rc::new)?;
        pools.borrow_mut().insert(helpers, Rc::clone(&pool));
        Some(pool)
    });
    let worker = &worker;
    match pool {
        Some(pool) => pool.in_place_scope(|scope| {
            for _ in 0..helpers {
                scope.spawn(move |_| worker());
            }
            worker();
        }),
        // No pool could be started: scoped threads do the same work.
        None => std::thread::scope(|scope| {
            for _ in 0..helpers {
                scope.spawn(worker);
            }
            worker();
        }),
    }
}

/// Runs `worker` on `threads` shuttle threads (at least one) and waits for all of them.
#[cfg(feature = "shuttle")]
pub fn run_workers<F>(threads: usize, worker: F)
where
    F: Fn() + Sync,
{
    let worker = &worker;
    imp::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(worker);
        }
    });
}

/// Lets other threads run: an idle worker calls this between polls, with the number of polls
/// in a row that found nothing and the number of workers of its run. With no more workers than
/// cores it only yields, so that it takes new work the moment there is some; with more, after
/// a few yields it sleeps briefly, so that idle workers (or a mostly serial block) do not take
/// the cores from the ones with work. Under shuttle it always yields.
pub fn relax(idle_polls: u32, workers: usize) {
    if cfg!(feature = "shuttle") || idle_polls < 32 || workers <= cores() {
        imp::yield_now();
    } else {
        std::thread::sleep(std::time::Duration::from_micros(20));
    }
}

/// The cores this process may use (looked up once).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

//! The only module that touches atomics, locks and threads. Normal builds use `std`; under the
//! `shuttle` feature the shuttle crate's deterministic scheduler drives every one of them, so that
//! tests can explore thread interleavings and replay a failing one from its seed.

#[cfg(not(feature = "shuttle"))]
mod imp {
    pub use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
    pub use std::sync::{
        Mutex as RawMutex, MutexGuard, RwLock as RawRwLock, RwLockReadGuard, RwLockWriteGuard,
    };
    pub use std::thread::yield_now;
}

#[cfg(feature = "shuttle")]
mod imp {
    pub use shuttle::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
    pub use shuttle::sync::{
        Mutex as RawMutex, MutexGuard, RwLock as RawRwLock, RwLockReadGuard, RwLockWriteGuard,
    };
    pub use shuttle::thread::{scope, yield_now};
}

pub use imp::{
    AtomicBool, AtomicU32, AtomicU64, AtomicUsize, MutexGuard, RwLockReadGuard, RwLockWriteGuard,
};
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

    /// The value, once no thread can lock it any more.
    pub fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// A value on a cache line of its own (one of a vector of per-transaction slots that different
/// cores write: neighbours sharing a line would move it between the cores on every write).
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct Aligned<T>(pub T);

impl<T> std::ops::Deref for Aligned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
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
/// thread is one of them, the others come from a crew of helper threads kept from block to
/// block, as a node keeps its executor's threads (starting threads for every block would cost
/// more than executing a small one).
///
/// The workers must share the work by claiming it (whoever comes for a piece takes it), or
/// wait for each other (a [`Barrier`]): a helper that has not started when the calling
/// thread's share is done is not started at all (on a small block, waking a helper takes
/// longer than the whole work).
///
/// A crew serves one run at a time: it is taken from the idle crews for the run and given
/// back after it. Workers of one run wait for each other (the end of a block, the barriers of
/// the sharded merge), so two runs sharing helpers could each hold
/// some helpers while waiting for the others. Crews outlive the threads that call this, so a
/// harness running each block on a fresh thread still reuses them.
#[cfg(not(feature = "shuttle"))]
pub fn run_workers<F>(threads: usize, worker: F)
where
    F: Fn() + Sync,
{
    let helpers = threads.max(1) - 1;
    if helpers == 0 {
        worker();
        return;
    }
    match crews::take(helpers) {
        Some(crew) => {
            crew.run(&worker);
            crews::give_back(helpers, crew);
        }
        // No crew could be started: scoped threads do the same work.
        None => std::thread::scope(|scope| {
            for _ in 0..helpers {
                scope.spawn(&worker);
            }
            worker();
        }),
    }
}

/// Runs `first` and `second` on up to two of `threads` workers ([`run_workers`]) and returns
/// both results: the first worker to start (usually the calling thread, the helper being
/// still asleep) takes `first`, then `second` unless the other worker has taken it
/// meanwhile. A panic in either is passed on once both are over.
pub fn join<A, B>(
    threads: usize,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B + Send,
) -> (A, B)
where
    A: Send,
    B: Send,
{
    if threads < 2 {
        return (first(), second());
    }
    let first = Mutex::new(Some(first));
    let second = Mutex::new(Some(second));
    let results = Mutex::new((None, None));
    let panic: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);
    let next = AtomicUsize::new(0);
    run_workers(2, || loop {
        let task = next.fetch_add(1, Ordering::SeqCst);
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match task {
            0 => {
                let task = first.lock().take();
                if let Some(first) = task {
                    let result = first();
                    results.lock().0 = Some(result);
                }
            }
            1 => {
                let task = second.lock().take();
                if let Some(second) = task {
                    let result = second();
                    results.lock().1 = Some(result);
                }
            }
            _ => {}
        }));
        if let Err(payload) = ran {
            panic.lock().get_or_insert(payload);
        }
        if task >= 1 {
            break;
        }
    });
    if let Some(payload) = panic.into_inner() {
        std::panic::resume_unwind(payload);
    }
    match results.into_inner() {
        (Some(a), Some(b)) => (a, b),
        // Every task ran once, or panicked (passed on above).
        _ => unreachable!("a task of `join` neither ran nor panicked"),
    }
}

/// Tells the helpers of a coming [`run_workers`] on `threads` threads to stay awake for it:
/// called before a block's serial set-up, it saves the run the time helpers take to wake up.
#[cfg(not(feature = "shuttle"))]
pub fn wake_helpers(threads: usize) {
    tell_helpers(threads, crew::Crew::wake);
}

/// Calls `tell` on the crew that a coming [`run_workers`] on `threads` threads will take,
/// if the run has helpers.
#[cfg(not(feature = "shuttle"))]
fn tell_helpers(threads: usize, tell: impl FnOnce(&crew::Crew)) {
    let helpers = threads.max(1) - 1;
    if helpers == 0 {
        return;
    }
    if let Some(crew) = crews::take(helpers) {
        tell(&crew);
        crews::give_back(helpers, crew);
    }
}

/// Under shuttle threads are started per run: nothing to wake.
#[cfg(feature = "shuttle")]
pub fn wake_helpers(_threads: usize) {}

/// Tells the helpers that [`wake_helpers`] woke for a run on `threads` threads that the run
/// will not come (the block runs on the calling thread alone), so that they sleep instead
/// of polling beside it.
#[cfg(not(feature = "shuttle"))]
pub fn rest_helpers(threads: usize) {
    tell_helpers(threads, crew::Crew::rest);
}

/// Under shuttle threads are started per run: nothing to rest.
#[cfg(feature = "shuttle")]
pub fn rest_helpers(_threads: usize) {}

#[cfg(not(feature = "shuttle"))]
mod crew;

/// The idle crews of [`run_workers`], by helper count.
#[cfg(not(feature = "shuttle"))]
mod crews {
    use super::crew::Crew;
    use std::sync::Mutex;

    /// Idle crews kept per helper count; more are dropped (their threads exit) when given
    /// back: enough for every run a harness has in flight at once.
    const MAX_IDLE_PER_SIZE: usize = 16;

    static IDLE: Mutex<Vec<(usize, Crew)>> = Mutex::new(Vec::new());

    /// An idle crew of `helpers` threads, the one given back last (the one
    /// [`super::wake_helpers`] woke), or a new one (`None` if threads cannot start).
    pub(super) fn take(helpers: usize) -> Option<Crew> {
        {
            let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(at) = idle.iter().rposition(|(size, _)| *size == helpers) {
                return Some(idle.remove(at).1);
            }
        }
        Crew::new(helpers)
    }

    /// Returns a crew taken with [`take`] once its run is over.
    pub(super) fn give_back(helpers: usize, crew: Crew) {
        let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
        if idle.iter().filter(|(size, _)| *size == helpers).count() < MAX_IDLE_PER_SIZE {
            idle.push((helpers, crew));
        }
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

/// A meeting point for the `parties` workers of one run, used once: each waits there until
/// all have arrived, unless one of them gave up (it panicked), in which case the others stop
/// waiting too.
#[derive(Debug)]
pub struct Barrier {
    arrived: AtomicUsize,
    parties: usize,
    abandoned: AtomicBool,
}

impl Barrier {
    /// A barrier for `parties` workers.
    pub fn new(parties: usize) -> Self {
        Barrier {
            arrived: AtomicUsize::new(0),
            parties,
            abandoned: AtomicBool::new(false),
        }
    }

    /// Waits for every other party; false when one of them abandoned the run instead (the
    /// caller stops too).
    pub fn wait(&self) -> bool {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let mut polls = 0u32;
        loop {
            if self.abandoned.load(Ordering::SeqCst) {
                return false;
            }
            if self.arrived.load(Ordering::SeqCst) >= self.parties {
                return true;
            }
            relax(polls, self.parties);
            polls = polls.saturating_add(1);
        }
    }

    /// Releases every party waiting now or later: this one will never arrive.
    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst);
    }
}

/// Lets other threads run: an idle worker calls this between polls, with the number of polls
/// in a row that found nothing and the number of workers of its run. The first few polls only
/// pause the core briefly: an empty poll is usually a task claimed a moment too early (a
/// validation of a transaction still executing), and the next poll finds work, while a
/// `sched_yield` system call costs about as much as a plain transfer. Then, with no more
/// workers than cores, it yields, so that it takes new work the moment there is some; with
/// more, after a few yields it sleeps briefly, so that idle workers (or a mostly serial block)
/// do not take the cores from the ones with work. Under shuttle it always yields.
pub fn relax(idle_polls: u32, workers: usize) {
    if cfg!(feature = "shuttle") {
        imp::yield_now();
    } else if idle_polls < SPIN_POLLS {
        std::hint::spin_loop();
    } else if idle_polls < 32 || workers <= cores() {
        imp::yield_now();
    } else {
        std::thread::sleep(std::time::Duration::from_micros(20));
    }
}

/// Empty polls in a row that only pause the core before a worker starts yielding.
const SPIN_POLLS: u32 = 8;

/// The cores this process may use (looked up once).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(all(test, not(feature = "shuttle")))]
mod tests {
    use super::join;

    #[test]
    fn join_returns_both_results_and_passes_a_panic_on() {
        for threads in [1, 2, 4] {
            let (a, b) = join(threads, || 6 * 7, || String::from("both ran"));
            assert_eq!((a, b.as_str()), (42, "both ran"));
        }
        let ran = std::panic::catch_unwind(|| {
            join(2, || 1, || -> u8 { panic!("the second task fails") })
        });
        assert!(ran.is_err());
        // The crew it ran on serves the next join.
        assert_eq!(join(2, || 1, || 2), (1, 2));
    }
}

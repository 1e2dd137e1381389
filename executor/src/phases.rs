//! Wall-clock lengths of a block's phases in the parallel executors, for work on their speed
//! (feature `phase-timer`; without it every call here is empty and compiles to nothing).
//!
//! A [`Timer`] marks the end of each phase with [`Timer::lap`]; the laps of every thread are
//! kept until the block is done and then written to stderr by [`flush`] (which the block's own
//! timer, [`Timer::block`], calls when it is dropped, on every way out of the block), one line
//! per lap (`phase NAME NANOSECONDS`) and `phase-block` after the block's last, so that writing
//! them (a system call each) falls in no phase. `scripts/phase-medians.py` sums the laps of each
//! block and prints each phase's median over the blocks (see `executor/PERFORMANCE.md`).

#[cfg(feature = "phase-timer")]
mod on {
    use std::sync::Mutex;
    use std::time::Instant;

    /// Laps of the block being executed, from every thread. `std`'s lock, not `crate::sync`'s:
    /// it orders nothing the executors depend on, and under shuttle it must add no scheduling
    /// points of its own.
    static LAPS: Mutex<Vec<(String, u128)>> = Mutex::new(Vec::new());

    /// Times consecutive phases on one thread.
    #[derive(Debug)]
    pub struct Timer {
        at: Instant,
        /// Whether dropping the timer flushes the laps (the block's own timer).
        flushes: bool,
    }

    impl Timer {
        /// A timer whose first phase starts now.
        pub fn start() -> Self {
            Timer {
                at: Instant::now(),
                flushes: false,
            }
        }

        /// The timer of a whole block, whose first phase starts now: dropped, it flushes the
        /// block's laps.
        pub fn block() -> Self {
            Timer {
                at: Instant::now(),
                flushes: true,
            }
        }

        /// Ends phase `name` (and starts the next one).
        pub fn lap(&mut self, name: &str) {
            let now = Instant::now();
            record(name.to_string(), (now - self.at).as_nanos());
            self.at = now;
        }

        /// Ends phase `name` of worker `worker`.
        pub fn lap_of(&mut self, name: &str, worker: usize) {
            let now = Instant::now();
            record(format!("{name}.w{worker}"), (now - self.at).as_nanos());
            self.at = now;
        }
    }

    impl Drop for Timer {
        fn drop(&mut self) {
            if self.flushes {
                flush();
            }
        }
    }

    fn record(name: String, nanos: u128) {
        LAPS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name, nanos));
    }

    /// Writes the laps kept so far to stderr and forgets them.
    pub fn flush() {
        let laps = std::mem::take(&mut *LAPS.lock().unwrap_or_else(|e| e.into_inner()));
        let mut out = String::new();
        for (name, nanos) in laps {
            out.push_str(&format!("phase {name} {nanos}\n"));
        }
        out.push_str("phase-block\n");
        eprint!("{out}");
    }

    /// The laps kept so far (for tests).
    pub fn laps() -> Vec<(String, u128)> {
        LAPS.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(not(feature = "phase-timer"))]
mod on {
    /// Times consecutive phases on one thread (a no-op: feature `phase-timer` is off).
    #[derive(Debug)]
    pub struct Timer;

    impl Timer {
        /// A timer whose first phase starts now.
        #[inline(always)]
        pub fn start() -> Self {
            Timer
        }

        /// The timer of a whole block, whose first phase starts now.
        #[inline(always)]
        pub fn block() -> Self {
            Timer
        }

        /// Ends phase `name` (and starts the next one).
        #[inline(always)]
        pub fn lap(&mut self, _name: &str) {}

        /// Ends phase `name` of worker `worker`.
        #[inline(always)]
        pub fn lap_of(&mut self, _name: &str, _worker: usize) {}
    }

    /// Writes the laps kept so far to stderr and forgets them.
    #[inline(always)]
    pub fn flush() {}
}

pub use on::*;

#[cfg(all(test, feature = "phase-timer"))]
mod tests {
    use super::*;

    // The laps are process-wide: a test that ran a block beside this one would flush them
    // midway. No other unit test of this crate runs a block, and CI runs this one alone
    // (`--lib phases`).
    #[test]
    fn laps_are_consecutive_and_named_per_worker() {
        let before = std::time::Instant::now();
        let mut timer = Timer::start();
        std::thread::sleep(std::time::Duration::from_millis(2));
        timer.lap("first");
        timer.lap_of("second", 3);
        let total = before.elapsed().as_nanos();
        let laps = laps();
        let first = laps.iter().find(|(name, _)| name == "first");
        let second = laps.iter().find(|(name, _)| name == "second.w3");
        let (Some((_, first)), Some((_, second))) = (first, second) else {
            panic!("laps missing: {laps:?}");
        };
        assert!(*first >= 2_000_000, "the first lap covers the sleep");
        assert!(first + second <= total, "laps do not overlap");
        // A block's timer flushes the laps when it goes, however the block ends.
        drop(Timer::block());
        let left = super::laps();
        assert!(left.is_empty(), "laps left after the block: {left:?}");
    }
}

//! Per-block counters of the parallel executor: incarnations, aborts, validations and
//! dependency waits. Each worker counts in its own [`Tally`] and adds it to the shared
//! [`Counters`] now and then: a shared counter bumped by every task would move one cache line
//! between the cores on every transaction.

use crate::sync::{AtomicU64, Ordering};
use crossbeam_utils::CachePadded;
use lockstep_spec::types::ExecStats;

/// Counters shared by the workers of one block, each on its own cache line.
#[derive(Debug, Default)]
pub struct Counters {
    incarnations: CachePadded<AtomicU64>,
    aborts: CachePadded<AtomicU64>,
    failed_validations: CachePadded<AtomicU64>,
    validations: CachePadded<AtomicU64>,
    dependency_waits: CachePadded<AtomicU64>,
}

/// Events a worker counts before it adds them to the shared counters.
pub const FLUSH_EVERY: u64 = 16;

/// One worker's counts not yet added to the shared [`Counters`] (added when it is dropped).
#[derive(Debug)]
pub struct Tally<'a> {
    shared: &'a Counters,
    incarnations: u64,
    validations: u64,
    dependency_waits: u64,
}

impl Tally<'_> {
    /// An incarnation started executing.
    pub fn incarnation(&mut self) {
        self.incarnations += 1;
        if self.incarnations >= FLUSH_EVERY {
            self.flush();
        }
    }

    /// A read set was validated.
    pub fn validation(&mut self) {
        self.validations += 1;
        if self.validations >= FLUSH_EVERY {
            self.flush();
        }
    }

    /// A transaction was parked on an unfinished dependency.
    pub fn dependency_wait(&mut self) {
        self.dependency_waits += 1;
    }

    /// An incarnation was aborted (failed validation or met an unfinished dependency). Aborts
    /// are counted at once, with this worker's other counts, so that the abort rate read next
    /// is up to date as far as this worker goes.
    pub fn abort(&mut self) {
        self.flush();
        self.shared.aborts.fetch_add(1, Ordering::Relaxed);
    }

    /// An incarnation was aborted by a failed validation (it ran to its end for nothing).
    pub fn failed_validation(&mut self) {
        self.abort();
        self.shared
            .failed_validations
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Adds the counts to the shared counters.
    pub fn flush(&mut self) {
        let add = |counter: &AtomicU64, count: &mut u64| {
            if *count > 0 {
                counter.fetch_add(std::mem::take(count), Ordering::Relaxed);
            }
        };
        add(&self.shared.incarnations, &mut self.incarnations);
        add(&self.shared.validations, &mut self.validations);
        add(&self.shared.dependency_waits, &mut self.dependency_waits);
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Counters {
    /// A worker's tally, added to these counters as it goes and when dropped.
    pub fn tally(&self) -> Tally<'_> {
        Tally {
            shared: self,
            incarnations: 0,
            validations: 0,
            dependency_waits: 0,
        }
    }

    /// Incarnations aborted so far.
    pub fn aborts(&self) -> u64 {
        self.aborts.load(Ordering::Relaxed)
    }

    /// Incarnations aborted by a failed validation so far.
    pub fn failed_validations(&self) -> u64 {
        self.failed_validations.load(Ordering::Relaxed)
    }

    /// Incarnations started so far (as far as the workers have added their tallies).
    pub fn incarnations(&self) -> u64 {
        self.incarnations.load(Ordering::Relaxed)
    }

    /// The counters as the data model reports them, for a block that ran in parallel.
    pub fn to_exec_stats(&self) -> ExecStats {
        ExecStats {
            parallel: true,
            fallback: None,
            incarnations: self.incarnations.load(Ordering::Relaxed),
            aborts: self.aborts.load(Ordering::Relaxed),
            validations: self.validations.load(Ordering::Relaxed),
            dependency_waits: self.dependency_waits.load(Ordering::Relaxed),
            mode: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_reach_the_shared_counters() {
        let counters = Counters::default();
        {
            let mut tally = counters.tally();
            for _ in 0..FLUSH_EVERY + 3 {
                tally.incarnation();
            }
            // Flushed once on the way.
            assert_eq!(counters.incarnations(), FLUSH_EVERY);
            tally.validation();
            tally.dependency_wait();
            tally.abort();
            assert_eq!(counters.incarnations(), FLUSH_EVERY + 3);
            assert_eq!(counters.aborts(), 1);
            tally.failed_validation();
            assert_eq!((counters.aborts(), counters.failed_validations()), (2, 1));
        }
        let stats = counters.to_exec_stats();
        assert_eq!(
            (stats.incarnations, stats.aborts, stats.validations),
            (FLUSH_EVERY + 3, 2, 1)
        );
        assert_eq!(stats.dependency_waits, 1);
    }
}

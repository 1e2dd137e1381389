//! Per-block counters of the parallel executor: incarnations, aborts, validations and
//! dependency waits, gathered with relaxed atomics and turned into [`ExecStats`].

use crate::sync::{AtomicU64, Ordering};
use lockstep_spec::types::ExecStats;

/// Counters shared by the workers of one block.
#[derive(Debug, Default)]
pub struct Counters {
    incarnations: AtomicU64,
    aborts: AtomicU64,
    validations: AtomicU64,
    dependency_waits: AtomicU64,
}

impl Counters {
    /// An incarnation started executing.
    pub fn incarnation(&self) {
        self.incarnations.fetch_add(1, Ordering::Relaxed);
    }

    /// An incarnation was aborted (failed validation or met an unfinished dependency).
    pub fn abort(&self) {
        self.aborts.fetch_add(1, Ordering::Relaxed);
    }

    /// A read set was validated.
    pub fn validation(&self) {
        self.validations.fetch_add(1, Ordering::Relaxed);
    }

    /// A transaction was parked on an unfinished dependency.
    pub fn dependency_wait(&self) {
        self.dependency_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Incarnations aborted so far.
    pub fn aborts(&self) -> u64 {
        self.aborts.load(Ordering::Relaxed)
    }

    /// Incarnations started so far.
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

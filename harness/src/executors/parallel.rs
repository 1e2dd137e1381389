//! `parallel`: the Block-STM executor in `lockstep-executor`, the system under test. Runs with
//! forced parallelism, so that no size heuristic quietly compares sequential with sequential.

use super::BlockExecutor;
use lockstep_executor::ParallelExecutor;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, ExecStats, WorldState};
use lockstep_spec::Fork;

/// The Block-STM executor with a fixed number of worker threads.
#[derive(Debug)]
pub struct ParallelAdapter {
    inner: ParallelExecutor,
    name: String,
}

impl ParallelAdapter {
    /// An adapter running `threads` workers, parallel path forced.
    pub fn new(threads: usize) -> Self {
        let mut inner = ParallelExecutor::new(threads);
        inner.force_parallel = true;
        ParallelAdapter {
            inner,
            name: "parallel".into(),
        }
    }

    /// An adapter that keeps the executor's own size heuristics (it may run small blocks
    /// sequentially), for benchmarks that allow it.
    pub fn with_fallback(threads: usize) -> Self {
        let mut adapter = ParallelAdapter::new(threads);
        adapter.inner.force_parallel = false;
        adapter
    }

    /// The executor with one seeded bug switched on (feature `faults`), named
    /// `parallel+FAULT`: mutation tests show that the harness names the divergence it causes.
    #[cfg(feature = "faults")]
    pub fn with_fault(threads: usize, fault: lockstep_executor::faults::Fault) -> Self {
        let mut adapter = ParallelAdapter::new(threads);
        adapter.inner = adapter.inner.with_fault(fault);
        adapter.name = format!("parallel+{fault:?}");
        adapter
    }

    /// The same executor under another name, for `--repeat` runs (`parallel@THREADS#RUN`).
    pub fn named(threads: usize, name: String) -> Self {
        ParallelAdapter {
            name,
            ..ParallelAdapter::new(threads)
        }
    }
}

impl BlockExecutor for ParallelAdapter {
    fn name(&self) -> &str {
        &self.name
    }

    fn parallel_forced(&self) -> bool {
        self.inner.force_parallel
    }

    fn unsupported(&self, fork: Fork, block: &Block) -> Option<String> {
        ParallelExecutor::unsupported(fork, block)
    }

    fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        self.inner.execute(fork, pre, block)
    }

    fn prepare<'a>(
        &'a self,
        fork: Fork,
        pre: &'a WorldState,
        block: &'a Block,
    ) -> Box<dyn Fn() -> Result<ExecStats, BlockError> + 'a> {
        super::engine::prepare_engine(&self.inner, fork, pre, block)
    }
}

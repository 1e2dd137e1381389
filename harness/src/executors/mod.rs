//! Executors: the [`BlockExecutor`] trait and one adapter per engine. An adapter only
//! translates lockstep's data model to its engine and back.

mod engine;
#[cfg(feature = "faults")]
mod faulty;
mod parallel;
mod registry;
mod revm;
mod spec;
pub mod t8n;

pub use self::engine::EngineAdapter;
#[cfg(feature = "faults")]
pub use self::faulty::{
    DropLastSlotWrite, FeesOutOfOrder, HangOnInvalid, DROP_LAST_SLOT_WRITE, FEES_OUT_OF_ORDER,
    HANG_ON_INVALID,
};
pub use self::parallel::ParallelAdapter;
pub use self::registry::{register, Factory, Registry};
pub use self::revm::RevmExecutor;
pub use self::spec::SpecExecutor;
pub use self::t8n::T8nExecutor;

use lockstep_spec::types::{Block, BlockError, BlockOutcome, ExecStats, WorldState};
use lockstep_spec::Fork;
use std::sync::Arc;

/// An engine that executes a block on a pre-state. Object-safe, so that adapters can be
/// listed and chosen at run time.
pub trait BlockExecutor: Send + Sync {
    /// The name used on the command line and in reports (`revm`, `spec`, `parallel`).
    fn name(&self) -> &str;

    /// Why this executor cannot run `fork` or `block`, if it cannot: the case is then skipped
    /// for this executor with that reason.
    fn unsupported(&self, fork: Fork, block: &Block) -> Option<String>;

    /// Executes `block` on `pre` under `fork`.
    fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError>;

    /// Executes `block`, or says why the engine itself failed (an external tool that crashed,
    /// hung or printed something else): the runner reports that as the case's error, never as
    /// a rejection of the block. The default never fails by itself.
    fn try_execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<Result<BlockOutcome, BlockError>, String> {
        Ok(self.execute(fork, pre, block))
    }

    /// Whether the executor promises to run its parallel path on every block (no size or
    /// contention heuristic may fall back): a run in which it never did is then an error.
    /// Executors that choose (`auto`) or cannot always split a block (`sharded`) say no.
    fn parallel_forced(&self) -> bool {
        false
    }

    /// Readies `block` for timing: what `lockstep bench` measures is the returned closure,
    /// the executor's own work. The default times [`BlockExecutor::execute`] whole; an
    /// engine with a state database of its own converts `pre` into it here, once, as a
    /// client's database would already hold it, and leaves the post-state as its changes.
    fn prepare<'a>(
        &'a self,
        fork: Fork,
        pre: &'a WorldState,
        block: &'a Block,
    ) -> Box<dyn Fn() -> Result<ExecStats, BlockError> + 'a> {
        Box::new(move || self.execute(fork, pre, block).map(|outcome| outcome.stats))
    }
}

/// Options that shape executors built from names.
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    /// Worker threads for parallel executors.
    pub threads: usize,
}

/// The executor names lockstep knows, run by default (`t8n:CMD` executors are named with
/// their command).
pub const EXECUTOR_NAMES: &[&str] = &[
    "revm",
    "spec",
    "parallel",
    "sharded",
    "sharded-batched",
    "auto",
];

/// Builds an executor from its name: a built-in one, `t8n:CMD` (see [`t8n`]), or one
/// registered with [`register`].
pub fn by_name(name: &str, options: &ExecutorOptions) -> Result<Arc<dyn BlockExecutor>, String> {
    Registry::global().build(name, options)
}

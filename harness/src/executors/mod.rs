//! Executors: the [`BlockExecutor`] trait and one adapter per engine. An adapter only
//! translates lockstep's data model to its engine and back.

mod engine;
#[cfg(feature = "faults")]
mod faulty;
mod parallel;
mod revm;
mod spec;

pub use self::engine::EngineAdapter;
#[cfg(feature = "faults")]
pub use self::faulty::{
    DropLastSlotWrite, FeesOutOfOrder, HangOnInvalid, DROP_LAST_SLOT_WRITE, FEES_OUT_OF_ORDER,
    HANG_ON_INVALID,
};
pub use self::parallel::ParallelAdapter;
pub use self::revm::RevmExecutor;
pub use self::spec::SpecExecutor;

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

/// The executor names lockstep knows.
pub const EXECUTOR_NAMES: &[&str] = &["revm", "spec", "parallel", "sharded", "auto"];

/// Builds an executor from its name.
pub fn by_name(name: &str, options: &ExecutorOptions) -> Result<Arc<dyn BlockExecutor>, String> {
    match name {
        "revm" => Ok(Arc::new(RevmExecutor)),
        "spec" => Ok(Arc::new(SpecExecutor)),
        "parallel" => Ok(Arc::new(ParallelAdapter::new(options.threads))),
        "sharded" => Ok(Arc::new(EngineAdapter::new(
            lockstep_executor::sharded::ShardedExecutor::new(options.threads),
            "sharded",
        ))),
        "auto" => Ok(Arc::new(EngineAdapter::new(
            lockstep_executor::auto::AutoExecutor::new(options.threads),
            "auto",
        ))),
        #[cfg(feature = "faults")]
        DROP_LAST_SLOT_WRITE => Ok(Arc::new(DropLastSlotWrite)),
        #[cfg(feature = "faults")]
        HANG_ON_INVALID => Ok(Arc::new(HangOnInvalid)),
        #[cfg(feature = "faults")]
        FEES_OUT_OF_ORDER => Ok(Arc::new(FeesOutOfOrder)),
        #[cfg(feature = "faults")]
        other if other.starts_with("parallel+") => lockstep_executor::faults::Fault::ALL
            .into_iter()
            .find(|f| format!("parallel+{f:?}") == other)
            .map(|f| {
                Arc::new(ParallelAdapter::with_fault(options.threads, f)) as Arc<dyn BlockExecutor>
            })
            .ok_or_else(|| format!("unknown seeded fault `{other}`")),
        other => Err(format!(
            "unknown executor `{other}` (known: {})",
            EXECUTOR_NAMES.join(", ")
        )),
    }
}

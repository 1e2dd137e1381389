//! `sharded` and `auto`: the executors of `lockstep-executor` that need nothing but an
//! [`Engine`] and a name. The parallel path is what they choose: `sharded` always partitions
//! (a block whose transactions all fall into one group runs as one shard, reported as a
//! fallback), `auto` picks per block and says why in the block's statistics.

use super::BlockExecutor;
use lockstep_executor::state::PreState;
use lockstep_executor::{sequential, Engine};
use lockstep_spec::types::{Block, BlockError, BlockOutcome, ExecStats, WorldState};
use lockstep_spec::Fork;

/// An [`Engine`] under a name.
#[derive(Debug)]
pub struct EngineAdapter<E> {
    engine: E,
    name: String,
}

impl<E: Engine> EngineAdapter<E> {
    /// `engine`, reported as `name`.
    pub fn new(engine: E, name: impl Into<String>) -> Self {
        EngineAdapter {
            engine,
            name: name.into(),
        }
    }
}

impl<E: Engine> BlockExecutor for EngineAdapter<E> {
    fn name(&self) -> &str {
        &self.name
    }

    fn unsupported(&self, fork: Fork, _block: &Block) -> Option<String> {
        sequential::unsupported(fork)
    }

    fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        self.engine.execute(fork, pre, block)
    }

    fn prepare<'a>(
        &'a self,
        fork: Fork,
        pre: &'a WorldState,
        block: &'a Block,
    ) -> Box<dyn Fn() -> Result<ExecStats, BlockError> + 'a> {
        prepare_engine(&self.engine, fork, pre, block)
    }
}

/// [`BlockExecutor::prepare`] for an [`Engine`]: the pre-state is converted once, outside the
/// timed closure, which runs the engine's own work.
pub fn prepare_engine<'a, E: Engine>(
    engine: &'a E,
    fork: Fork,
    pre: &'a WorldState,
    block: &'a Block,
) -> Box<dyn Fn() -> Result<ExecStats, BlockError> + 'a> {
    let prepared = PreState::new(pre, &block.env);
    Box::new(move || {
        engine
            .execute_prepared(fork, &prepared, block)
            .map(|executed| executed.stats)
    })
}

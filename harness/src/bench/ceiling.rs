//! `ceiling:N` in `lockstep bench`: sequential revm's work on a block cut into `N` chunks run
//! at once with no coordination ([`lockstep_executor::ceiling`]). Not an executor (its outcome
//! is discarded, and `lockstep run` does not know it): the bound beside which a parallel
//! executor's speedup is read.

use crate::executors::BlockExecutor;
use lockstep_executor::ceiling;
use lockstep_executor::state::PreState;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, BlockRule, ExecStats, WorldState};
use lockstep_spec::Fork;

/// The bench's name for the ceiling.
pub const NAME: &str = "ceiling";

/// The ceiling on `threads` threads.
#[derive(Clone, Copy, Debug)]
pub struct Ceiling {
    /// Chunks, and threads to run them.
    pub threads: usize,
}

impl BlockExecutor for Ceiling {
    fn name(&self) -> &str {
        NAME
    }

    fn unsupported(&self, fork: Fork, _block: &Block) -> Option<String> {
        lockstep_executor::sequential::unsupported(fork)
    }

    fn execute(
        &self,
        _fork: Fork,
        _pre: &WorldState,
        _block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        Err(BlockError::Block {
            rule: BlockRule::Other,
            message: "the ceiling is a bound for `lockstep bench`: it has no outcome".into(),
        })
    }

    fn prepare<'a>(
        &'a self,
        fork: Fork,
        pre: &'a WorldState,
        block: &'a Block,
    ) -> Box<dyn Fn() -> Result<ExecStats, BlockError> + 'a> {
        let prepared = PreState::new(pre, &block.env);
        let chunks = ceiling::chunks(block, self.threads);
        Box::new(move || ceiling::run(fork, &prepared, block, &chunks, self.threads))
    }
}

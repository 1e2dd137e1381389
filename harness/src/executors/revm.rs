//! `revm`: sequential revm, the industry baseline.

use super::BlockExecutor;
use lockstep_executor::sequential;
use lockstep_executor::state::PreState;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, ExecStats, WorldState};
use lockstep_spec::Fork;

/// Executes blocks one transaction after another with revm.
#[derive(Clone, Copy, Debug, Default)]
pub struct RevmExecutor;

impl BlockExecutor for RevmExecutor {
    fn name(&self) -> &str {
        "revm"
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
        sequential::execute_block(fork, pre, block)
    }

    fn prepare<'a>(
        &'a self,
        fork: Fork,
        pre: &'a WorldState,
        block: &'a Block,
    ) -> Box<dyn Fn() -> Result<ExecStats, BlockError> + 'a> {
        let prepared = PreState::new(pre, &block.env);
        Box::new(move || sequential::execute(fork, &prepared, block).map(|executed| executed.stats))
    }
}

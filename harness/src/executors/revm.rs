//! `revm`: sequential revm, the industry baseline.

use super::BlockExecutor;
use lockstep_executor::sequential;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, WorldState};
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
}

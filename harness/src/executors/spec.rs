//! `spec`: lockstep's reference interpreter, the semantics every other executor is held to.

use super::BlockExecutor;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, WorldState};
use lockstep_spec::Fork;

/// Executes blocks with the reference interpreter in `lockstep-spec`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpecExecutor;

impl BlockExecutor for SpecExecutor {
    fn name(&self) -> &str {
        "spec"
    }

    fn unsupported(&self, fork: Fork, block: &Block) -> Option<String> {
        lockstep_spec::unsupported(fork, block)
    }

    fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        lockstep_spec::execute_block(fork, pre, block)
    }
}

//! `split:N` in `lockstep bench`: sequential revm's work on a block, as the baseline does it,
//! cut into `N` chunks run at once with no coordination ([`lockstep_executor::split`]): how
//! revm itself scales across threads in one process. Not an executor (its outcome is
//! discarded, and `lockstep run` does not know it).

use crate::executors::BlockExecutor;
use lockstep_executor::split;
use lockstep_executor::state::PreState;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, BlockRule, ExecStats, WorldState};
use lockstep_spec::Fork;

/// The bench's name for the split baseline.
pub const NAME: &str = "split";

/// The baseline split into `threads` chunks on as many threads.
#[derive(Clone, Copy, Debug)]
pub struct SplitBaseline {
    /// Chunks, and threads to run them.
    pub threads: usize,
}

impl BlockExecutor for SplitBaseline {
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
            message: "the split baseline only times blocks in `lockstep bench`: it has no outcome"
                .into(),
        })
    }

    fn prepare<'a>(
        &'a self,
        fork: Fork,
        pre: &'a WorldState,
        block: &'a Block,
    ) -> Box<dyn Fn() -> Result<ExecStats, BlockError> + 'a> {
        let chunks = split::chunks(block, self.threads);
        let pres: Vec<PreState> = chunks
            .iter()
            .map(|_| PreState::new(pre, &block.env))
            .collect();
        Box::new(move || split::run(fork, &pres, block, &chunks, self.threads))
    }
}

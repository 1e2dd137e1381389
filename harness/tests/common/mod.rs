//! Helpers shared by the runner's integration tests: one-block in-memory cases and a runner
//! over chosen executors.

#![allow(dead_code)]

use lockstep::case::{BlockExpect, Case, CaseBlock, CaseKind, FinalExpect};
use lockstep::executors::BlockExecutor;
use lockstep::expectations::Expectations;
use lockstep::run::Runner;
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use std::sync::Arc;
use std::time::Duration;

/// A generated case of one block under `fork`, with no fixture expectations: the executors
/// are only compared with each other.
pub fn one_block_case(id: &str, fork: Fork, pre: WorldState, block: Block) -> Case {
    Case {
        id: id.into(),
        file: "mem".into(),
        test: id.into(),
        fork,
        kind: CaseKind::Generated,
        pre,
        blocks: vec![CaseBlock {
            fork,
            block: Ok(block),
            hash: None,
            expect: BlockExpect::default(),
        }],
        expect: FinalExpect::default(),
        skip: None,
    }
}

/// A runner over `executors` with a per-block watchdog of `timeout` and no expectations file.
pub fn runner(executors: Vec<Arc<dyn BlockExecutor>>, timeout: Duration) -> Runner {
    Runner {
        executors,
        timeout,
        expectations: Arc::new(Expectations::default()),
    }
}

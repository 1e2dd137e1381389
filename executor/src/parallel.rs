//! A block through Block-STM: the pre-block system calls run sequentially, the transactions
//! in parallel, then the run's workers check the final outputs with the sequential executor's
//! rules (block gas and blob limits, then each transaction's own error), build the receipts
//! and the state from the final writes ([`crate::finish`]), and the rewards and withdrawals
//! follow.

use crate::block_end;
use crate::block_stm;
use crate::env;
use crate::executed::Executed;
use crate::finish::{self, Receipts};
use crate::phases::Timer;
use crate::sequential;
use crate::state::{BlockState, PreState};
use crate::vm::BlockContext;
use crate::ParallelExecutor;
use lockstep_spec::types::{Block, BlockError, BlockRule};
use lockstep_spec::Fork;

/// Executes `block` on the prepared pre-state `pre` with Block-STM, as `executor` is
/// configured (threads, and the seeded fault under the `faults` feature).
pub fn execute<'a>(
    fork: Fork,
    pre: &'a PreState,
    block: &Block,
    executor: &ParallelExecutor,
) -> Result<Executed<'a>, BlockError> {
    let spec = env::spec_id(fork).ok_or_else(|| BlockError::Block {
        rule: BlockRule::Other,
        message: sequential::unsupported(fork).unwrap_or_default(),
    })?;
    let mut timer = Timer::block();
    let size = block.transactions.len();
    let beneficiary = block.env.beneficiary;
    let threads = executor.threads.min(size);
    // The helpers wake while the set-up below runs, and one of them builds the run's memory
    // meanwhile.
    crate::sync::wake_helpers(threads);
    let (setup, memory) = crate::sync::join(
        threads,
        || -> Result<_, BlockError> {
            // About two accounts change per transaction (sender and recipient).
            let mut state = BlockState::with_capacity(pre, 2 * size + 16);
            block_end::pre_block(fork, &mut state, block)?;
            let prediction =
                block_stm::predict(&block.transactions, beneficiary, pre.balances_fit());
            Ok((state, prediction))
        },
        || block_stm::Memory::new(size, beneficiary),
    );
    let (mut state, prediction) = setup?;
    timer.lap("setup");
    let ctx = BlockContext {
        fork,
        pre: &state,
        cfg: env::cfg_env(spec, fork, block),
        block_env: env::block_env(fork, block),
        txs: &block.transactions,
        credit_recipients: prediction.credits,
        #[cfg(feature = "faults")]
        fault: executor.fault,
    };
    let outcome = block_stm::run(
        &ctx,
        memory,
        prediction.depends_on,
        executor.threads,
        !executor.force_parallel,
    );
    drop(ctx);
    timer.lap("run");
    let run = match outcome {
        block_stm::Outcome::Done(run) => run,
        block_stm::Outcome::GaveUp(counters) => {
            let mut executed =
                sequential::execute_with(fork, pre, block, sequential::Transfers::Direct)?;
            executed.stats.parallel = false;
            executed.stats.fallback = Some(
                format!(
                    "too much contention: {} of the first {} incarnations failed validation",
                    counters.failed_validations(),
                    counters.incarnations()
                )
                .into(),
            );
            return Ok(executed);
        }
    };
    let stats = run.counters().to_exec_stats();
    #[cfg(feature = "faults")]
    let keep_wiped = executor.fault == Some(crate::faults::Fault::KeepWipedStorage);
    #[cfg(not(feature = "faults"))]
    let keep_wiped = false;
    // Every transaction valid: the block's state is the final writes.
    let Receipts {
        receipts,
        gas_used,
        blob_gas_used,
    } = finish::finish(fork, block, &mut state, *run, executor.threads, keep_wiped)?;
    timer.lap("finish");
    let requests = block_end::post_block(fork, &mut state, block, &receipts)?;
    timer.lap("post");
    Ok(Executed {
        state,
        receipts,
        gas_used,
        blob_gas_used,
        requests,
        stats,
    })
}

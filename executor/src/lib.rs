//! lockstep-executor: block executors over revm. `sequential` is the baseline; the Block-STM
//! parallel executor ([`ParallelExecutor`]) is the system under test.
//!
//! Block-STM's pieces, one file each: [`mv_memory`] (multi-version memory), [`scheduler`]
//! (execution and validation indices, dependencies), [`vm`] (revm reading through the
//! multi-version memory), [`transfer`] (plain transfers without revm), [`beneficiary`] (lazy
//! fee payments), [`block_stm`] (the worker loop), [`parallel`] (a whole block),
//! [`finish`] (receipts and the state after it, on the run's workers), [`materialize`] (applying
//! the final writes), [`contention`] (a block predicted too serial to run
//! in parallel), [`local_code`] (per-worker copies of contract code), [`sync`] (every atomic,
//! lock and thread; shuttle behind a feature) and [`stats`] (counters). Under the `faults`
//! feature, `faults` seeds concurrency bugs for mutation testing (absent from normal builds);
//! under `phase-timer`, [`phases`] writes each phase's length to stderr (`PERFORMANCE.md`
//! beside this crate's manifest says how to measure the executors' speed).
//!
//! # Design
//!
//! - **Locations.** The multi-version memory is keyed by an account's basic fields (balance,
//!   nonce, code hash and code, or absence), by one storage slot, and by an account's storage
//!   reset, written by a transaction that destroys the account, deletes it under EIP-161 or
//!   creates it. A storage read reads both the slot and the reset: a reset above the slot's
//!   latest write (or with no write at all) reads zero, a write by the resetting transaction
//!   itself survives. An account touched but left as it was read is not written, so calls
//!   to one contract do not conflict.
//! - **Lazy beneficiary.** Transactions run with a handler that computes the beneficiary's
//!   fee instead of paying it ([`beneficiary::DeferredFee`]); a transaction that does not
//!   otherwise access the beneficiary writes a lazy fee credit. A transaction that reads the
//!   beneficiary (BALANCE, a call, as sender or recipient) reads the latest full value below it
//!   plus every later fee, and is blocked on any lower transaction that has not finished
//!   executing, so it sees the exact sequential value; validation recomputes that value.
//! - **Lazy recipients.** Where no balance can overflow (the pre-state's balances sum to less
//!   than 2^256), a plain transfer of value to an account that sends nothing in the block
//!   credits it instead of writing its whole account ([`transfer::Creditable`]): it reads
//!   only the recipient's highest full write below (its code, which credits do not change),
//!   so payments to one deposit address do not wait for each other. A full read of a credited account (a sweep from it, BALANCE)
//!   reads that base plus every credit above it, and validation recomputes the value, as
//!   for the beneficiary.
//! - **Nonce and balance chains.** A transaction waits for the latest earlier transaction
//!   of the block predicted to write an account it writes, if that one has not executed yet
//!   (a dependency declared before running): its sender's, and, for a value transfer
//!   without call data, its recipient's (a deposit address paid hundreds of times) unless
//!   such transfers credit their recipient. It would otherwise run on a nonce or balance
//!   that transaction has not written and abort.
//! - **Plain transfers.** A value transfer between accounts without code (not the
//!   beneficiary, not a precompile) that revm's own checks find valid is run without revm's
//!   handler ([`transfer`]): its two accounts are read through the multi-version memory as
//!   revm would read them and its writes are the fixed effect of such a transfer. Anything
//!   else, an invalid transfer included, goes through revm.
//! - **Invalid transactions.** An incarnation rejected by revm (nonce, balance, fees...) is an
//!   ordinary result: its read set is validated like any other and it writes only a zero fee.
//!   After the parallel phase the final outputs are checked in block order with the
//!   sequential rules (block gas and blob limits first, then the transaction's own error), so
//!   the first invalid transaction yields the same [`BlockError`] as sequential execution.
//! - **Materialisation.** After the parallel phase, the same workers check each
//!   transaction's result in block order (block limits first, then its own error) and build
//!   the receipts, each a range of transactions with the gas used before it ([`finish`]); the
//!   state after the block is built from the final incarnations' write sets, applied in block
//!   order, each worker its share of the state's parts
//!   ([`materialize`]): a reset wipes the slots written below it, a later write replaces an
//!   earlier one, the beneficiary's lazy fees are credited after its last full value. A write
//!   set follows [`state::BlockState::commit`]'s rules, so EIP-161 and SELFDESTRUCT come out as
//!   in sequential execution, and no transaction's revm changes are kept. The pre-block
//!   system calls and the post-block rewards and withdrawals run sequentially around the
//!   parallel part ([`block_end`]).
//! - **No shared cache lines per transaction.** Accounts without code carry no bytecode
//!   ([`state::new_account`]: revm's default shares one reference-counted empty code), each
//!   worker hands revm its own copy of a hot contract's code ([`local_code`]), reads of
//!   locations nobody wrote skip the shard locks ([`mv_memory`]'s filter), a location one
//!   transaction alone writes never enters the shared table (its readers look in that
//!   transaction's write set), counters are per worker ([`stats::Tally`]), per-transaction
//!   slots sit on lines of their own, and in a block with few predicted dependencies each
//!   worker executes runs of consecutive transactions and validates the stretches of its own
//!   runs, each claimed in one step ([`scheduler::Scheduler::with_runs`]); revm is not asked
//!   to check a plain transfer's sender for code (its check clones revm's one shared empty
//!   bytecode).
//! - **Threads.** The helpers are lockstep's own ([`sync::run_workers`]): woken before a
//!   block's serial set-up, joined by polling, polling a moment after each job, so that the
//!   block's run and its end do not each wait 50-100 µs for a thread to wake.
//! - **Falling back.** Unless parallel execution is forced, a block runs sequentially when it
//!   is small ([`too_few`], [`too_light`]), when a look at its transactions finds many transactions of
//!   the beneficiary, many repeated identical calls or one long chain of dependencies
//!   ([`contention`], [`auto::MAX_REPEATED_CALLS`]), or when, running, more than two in five
//!   of its incarnations fail validation (`block_stm::too_contended`).
//! - **EIP-7610.** revm 43 does not treat an address with storage as a creation collision;
//!   both executors run revm with the frame loop of [`collision`], which does.

/// Whether Block-STM's invariants are checked while running: in debug builds and with the
/// `invariants` feature (release test runs and CI), never in a normal release build, where
/// every check compiles away.
pub const CHECK_INVARIANTS: bool = cfg!(any(debug_assertions, feature = "invariants"));

/// The message every invariant violation starts with; the harness reports such a panic as a
/// divergence of its own kind.
pub const INVARIANT_VIOLATED: &str = "Block-STM invariant violated";

/// Checks one of Block-STM's invariants when [`CHECK_INVARIANTS`] is on.
macro_rules! invariant {
    ($cond:expr, $($arg:tt)+) => {
        if $crate::CHECK_INVARIANTS && !$cond {
            panic!("{}: {}", $crate::INVARIANT_VIOLATED, format_args!($($arg)+));
        }
    };
}

pub mod auto;
pub mod beneficiary;
pub mod block_end;
pub mod block_stm;
pub mod collision;
pub mod contention;
pub mod env;
pub mod executed;
pub mod fast_hash;
#[cfg(feature = "faults")]
pub mod faults;
pub mod finish;
pub mod intrinsic;
pub mod local_code;
pub mod materialize;
pub mod mv_memory;
pub mod parallel;
pub mod phases;
pub mod prefetch;
pub mod requests;
pub mod scheduler;
pub mod sequential;
pub mod sharded;
pub mod split;
pub mod state;
pub mod stats;
pub mod sync;
pub mod transfer;
pub mod vm;

use executed::Executed;
use lockstep_spec::types::{Block, BlockError, BlockOutcome, ExecStats, WorldState};
use lockstep_spec::Fork;
use state::PreState;
use std::borrow::Cow;

/// A revm-based block executor over a prepared pre-state: what the harness adapters and the
/// benchmark drive (Block-STM, sharded, auto).
pub trait Engine: Send + Sync {
    /// Executes `block` on `pre`: the executor's whole work, without the conversions from
    /// and to lockstep's data model.
    fn execute_prepared<'a>(
        &self,
        fork: Fork,
        pre: &'a PreState,
        block: &Block,
    ) -> Result<Executed<'a>, BlockError>;

    /// Executes `block` on lockstep's pre-state; the outcome equals sequential execution's,
    /// `stats` aside.
    fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        let pre = PreState::new(pre, &block.env);
        self.execute_prepared(fork, &pre, block)
            .map(Executed::into_outcome)
    }
}

impl Engine for ParallelExecutor {
    fn execute_prepared<'a>(
        &self,
        fork: Fork,
        pre: &'a PreState,
        block: &Block,
    ) -> Result<Executed<'a>, BlockError> {
        ParallelExecutor::execute_prepared(self, fork, pre, block)
    }
}

impl Engine for sharded::ShardedExecutor {
    fn execute_prepared<'a>(
        &self,
        fork: Fork,
        pre: &'a PreState,
        block: &Block,
    ) -> Result<Executed<'a>, BlockError> {
        sharded::ShardedExecutor::execute_prepared(self, fork, pre, block)
    }
}

/// Blocks with fewer transactions than this run sequentially unless parallel execution is
/// forced: there is too little to overlap to pay for waking the workers (measured on
/// mainnet: such blocks take well under a millisecond, about what handing work to another
/// thread costs on a virtual machine).
pub const MIN_PARALLEL_TXS: usize = 32;

/// Blocks whose transactions' gas limits add up to less than this run sequentially unless
/// parallel execution is forced, for the same reason.
pub const MIN_PARALLEL_GAS: u64 = 8_000_000;

/// The reason a block under [`MIN_PARALLEL_TXS`] transactions runs sequentially.
const TOO_FEW_TXS: &str = "fewer transactions than the parallel threshold of 32";

/// Why `block` has too few transactions to run in parallel (see [`MIN_PARALLEL_TXS`]), if it
/// has.
pub fn too_few(block: &Block) -> Option<Cow<'static, str>> {
    // A fixed text, borrowed (the count is the block's own): formatting or even copying one
    // shows on the smallest blocks, which run here in 2-3 µs.
    (block.transactions.len() < MIN_PARALLEL_TXS).then_some(Cow::Borrowed(TOO_FEW_TXS))
}

/// Why a block whose transactions' gas limits add up to `gas` is too light to run in
/// parallel (see [`MIN_PARALLEL_GAS`]), if it is.
pub fn too_light(gas: u64) -> Option<Cow<'static, str>> {
    (gas < MIN_PARALLEL_GAS).then(|| {
        Cow::Owned(format!(
            "{:.1} Mgas of gas limits, under the parallel threshold of {} Mgas",
            gas as f64 / 1e6,
            MIN_PARALLEL_GAS / 1_000_000
        ))
    })
}

/// The Block-STM parallel block executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParallelExecutor {
    /// Worker threads (0 counts as 1; more than the cores is fine).
    pub threads: usize,
    /// Never fall back to sequential execution, neither on size nor on contention (a run
    /// whose transactions keep aborting gives up otherwise; see `block_stm::too_contended`).
    /// The default: correctness runs must exercise the parallel path.
    pub force_parallel: bool,
    /// The seeded bug to run with (mutation testing; `None`: the correct executor).
    #[cfg(feature = "faults")]
    pub fault: Option<faults::Fault>,
}

impl ParallelExecutor {
    /// An executor on `threads` threads, with parallel execution forced.
    pub fn new(threads: usize) -> Self {
        ParallelExecutor {
            threads,
            force_parallel: true,
            #[cfg(feature = "faults")]
            fault: None,
        }
    }

    /// This executor with the seeded bug `fault` switched on.
    #[cfg(feature = "faults")]
    pub fn with_fault(self, fault: faults::Fault) -> Self {
        ParallelExecutor {
            fault: Some(fault),
            ..self
        }
    }

    /// Executes `block` on `pre`; the outcome equals `sequential::execute_block`'s, `stats`
    /// aside.
    pub fn execute(
        &self,
        fork: Fork,
        pre: &WorldState,
        block: &Block,
    ) -> Result<BlockOutcome, BlockError> {
        Engine::execute(self, fork, pre, block)
    }

    /// Executes `block` on a prepared pre-state: the executor's whole work, without the
    /// conversions from and to lockstep's data model (what `lockstep bench` times).
    pub fn execute_prepared<'a>(
        &self,
        fork: Fork,
        pre: &'a PreState,
        block: &Block,
    ) -> Result<Executed<'a>, BlockError> {
        if !self.force_parallel {
            let serial = too_few(block).or_else(|| {
                let start = state::BlockState::new(pre);
                let facts = sharded::predict::facts(block, &start);
                let features = sharded::predict::features(&facts, 0);
                too_light(features.gas).or_else(|| {
                    contention::beneficiary_bound(&facts)
                        .or_else(|| auto::repeated_calls_bound(&features))
                        .or_else(|| contention::chain_bound(block, &facts))
                        .map(Cow::Owned)
                })
            });
            if let Some(reason) = serial {
                // Plain transfers without revm's handler: the sequential run that costs
                // least (the baseline, revm alone, runs them through it).
                let mut executed =
                    sequential::execute_with(fork, pre, block, sequential::Transfers::Direct)?;
                executed.stats = ExecStats {
                    parallel: false,
                    fallback: Some(reason),
                    ..executed.stats
                };
                return Ok(executed);
            }
        }
        parallel::execute(fork, pre, block, self)
    }

    /// Why the executor cannot run `fork` at all (the same reasons as sequential revm).
    pub fn unsupported(fork: Fork, _block: &Block) -> Option<String> {
        sequential::unsupported(fork)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixed_reason_names_the_threshold() {
        assert!(super::TOO_FEW_TXS.ends_with(&super::MIN_PARALLEL_TXS.to_string()));
    }
}

//! `auto`: picks, per block, how to run it (sequentially, sharded, or with Block-STM) from
//! cheap features of the block, and records the choice and its reason in the block's
//! statistics. Every choice gives the sequential outcome; the choice only decides the speed.

use crate::executed::Executed;
use crate::sharded::predict::{self, TxFacts};
use crate::sharded::{self, ShardedExecutor};
use crate::state::{BlockState, PreState};
use crate::{contention, sequential, Engine, ParallelExecutor};
use lockstep_spec::types::{Block, BlockError};
use lockstep_spec::Fork;
use std::borrow::Cow;

/// A block whose largest predicted group holds more than this share of the gas runs
/// sequentially: the shards beside that group would finish long before it.
pub const MAX_GROUP_SHARE: f64 = 0.75;

/// A mixed block in which one sender sends at least this share of the transactions is
/// sharded rather than given to Block-STM: the sender's nonce chain runs in order inside its
/// shard at no cost, while Block-STM makes each of its transactions wait for the previous one
/// and resumes it later (measured on mainnet block 4,370,000, a third from one sender:
/// Block-STM 0.84-1.07x, sharded 1.25-1.36x; no other mixed mainnet block has such a sender).
pub const MIN_SENDER_SHARE_TO_SHARD: f64 = 0.25;

/// A block in which more than this share of the transactions repeat an earlier call exactly
/// runs sequentially: such calls write the same storage, and re-executing them costs more
/// than running them in order.
pub const MAX_REPEATED_CALLS: f64 = 0.5;

/// A block in which at least this share of the transactions are plain transfers or calls of
/// one contract is sharded; a more mixed block goes to Block-STM, which finds its conflicts
/// while running. Measured: sharding pays on blocks of one kind of work (a block of
/// transfers, one token's transfers); on mainnet blocks with 80-95% such transactions the
/// rest conflicts often enough that settling them one by one costs more than Block-STM.
pub const MIN_UNIFORM_SHARE: f64 = 0.97;

/// A block of at least this many transactions wakes the helpers before the choice, and
/// puts them back to sleep if it then runs sequentially: the choice's serial passes over
/// it (about 60 ns per transaction) then hide the 50-100 µs a sleeping helper takes to wake.
/// Smaller blocks wake them after the choice, when they will run: a helper polling beside a
/// block run sequentially slows it (every block woke them early in session 20: the 62
/// mainnet blocks 1.33x -> 1.30x in total).
pub const WAKE_EARLY_TXS: usize = 1_000;

/// How `auto` runs one block.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    /// One transaction after another, for the reason given, plain transfers applied
    /// without revm's handler ([`sequential::Transfers::Direct`]).
    Sequential(Cow<'static, str>),
    /// In these shards.
    Sharded(sharded::Layout),
    /// With Block-STM (which may still give up on a block that keeps aborting and run it
    /// sequentially), for the reason given.
    BlockStm(String),
}

/// The executor that chooses per block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoExecutor {
    /// Worker threads (0 counts as 1). The choice does not depend on it: with one thread the
    /// shards run one after the other, so that every choice is tested at any thread count
    /// (one thread is no faster than sequential execution).
    pub threads: usize,
}

impl AutoExecutor {
    /// An executor choosing among runs on up to `threads` threads.
    pub fn new(threads: usize) -> Self {
        AutoExecutor { threads }
    }

    /// How `block` would be run on `pre`.
    pub fn choose(&self, pre: &PreState, block: &Block) -> Choice {
        if let Some(reason) = crate::too_few(block) {
            return Choice::Sequential(reason);
        }
        // One pass over the transactions; every question below is asked of their facts.
        let start = BlockState::new(pre);
        let facts = predict::facts(block, &start);
        if let Some(reason) = crate::too_light(predict::gas(&facts)) {
            return Choice::Sequential(reason);
        }
        let beneficiary_share = predict::beneficiary_share(&facts);
        if let Some(reason) = contention::beneficiary_share_bound(beneficiary_share) {
            return Choice::Sequential(reason.into());
        }
        // A transaction from or to the beneficiary is never sharded: it reads the balance
        // before the fees of the transactions before it, so its read never holds at
        // settlement, and one re-execution settles the whole block one transaction at a
        // time (mainnet 14,396,881, 23 payouts from its miner among 1,346 transactions:
        // sharded 0.84-0.99x, and 0.79x as one shard). Such a block runs sequentially or
        // with Block-STM, so its chain is looked at first: a serial one decides it without
        // the majority votes and the features.
        let touches_beneficiary = beneficiary_share > 0.0;
        if !touches_beneficiary {
            // A block of one sender, first, from a majority count alone (one sender's chain
            // is a group of its own, no partition needed to see it dominate): it runs
            // sequentially whatever its other features say.
            let top_sender_share = predict::majority_sender_share(&facts);
            if top_sender_share > MAX_GROUP_SHARE {
                return Choice::Sequential(
                    format!(
                        "one sender sends {:.0}% of the transactions",
                        100.0 * top_sender_share
                    )
                    .into(),
                );
            }
            // One call of code repeated by most of the block (a hot slot), from a majority
            // vote: the features would find at least as many repeated calls.
            if let Some(reason) = repeated_call_bound(&facts) {
                return Choice::Sequential(reason.into());
            }
        }
        let chain_bound = || contention::chain_bound(block, &facts);
        if touches_beneficiary {
            if let Some(reason) = chain_bound() {
                return Choice::Sequential(reason.into());
            }
            if let Some(reason) = repeated_call_bound(&facts) {
                return Choice::Sequential(reason.into());
            }
        }
        // The features that need no partition next: a block run sequentially or by
        // Block-STM does not pay for partitioning it.
        let features = predict::features(&facts, 0);
        if let Some(reason) = repeated_calls_bound(&features) {
            return Choice::Sequential(reason.into());
        }
        let mixed = features.uniform_share < MIN_UNIFORM_SHARE
            && predict::top_sender_share(&facts) < MIN_SENDER_SHARE_TO_SHARD;
        if mixed || touches_beneficiary {
            // (The chain of a block touching the beneficiary was looked at above.)
            if !touches_beneficiary {
                if let Some(reason) = chain_bound() {
                    return Choice::Sequential(reason.into());
                }
            }
            return Choice::BlockStm(if mixed {
                format!(
                    "a mixed block: {:.0}% plain transfers or calls of one contract",
                    100.0 * features.uniform_share
                )
            } else {
                format!(
                    "not sharded: {:.1}% of the transactions are sent from or to the beneficiary",
                    100.0 * beneficiary_share
                )
            });
        }
        // (A block of one sender was decided above, or touches the beneficiary.)
        let partition = ShardedExecutor::new(self.threads).partition_with(block, &facts);
        let gas = features.gas.max(1);
        let largest_group_share = partition.largest_group_gas as f64 / gas as f64;
        let layout = sharded::Layout::from(partition);
        if layout.shard_count() <= 1 || largest_group_share > MAX_GROUP_SHARE {
            return Choice::Sequential(
                format!(
                    "one predicted group holds {:.0}% of the gas",
                    100.0 * largest_group_share
                )
                .into(),
            );
        }
        Choice::Sharded(layout)
    }
}

/// Why a block with these features runs sequentially for its repeated calls (more than
/// [`MAX_REPEATED_CALLS`] of its transactions repeat an earlier call), if it does.
pub fn repeated_calls_bound(features: &predict::Features) -> Option<String> {
    (features.repeated_calls > MAX_REPEATED_CALLS).then(|| {
        format!(
            "{:.0}% of the transactions repeat an earlier call",
            100.0 * features.repeated_calls
        )
    })
}

/// Why a block whose transactions' facts are `facts` runs sequentially for one call of code
/// that more than [`MAX_REPEATED_CALLS`] of its transactions repeat (found by
/// [`predict::majority_call`]), if it does.
fn repeated_call_bound(facts: &[TxFacts]) -> Option<String> {
    let (has_code, count) = predict::majority_call(facts)?;
    let repeats = predict::share(count.saturating_sub(1), facts.len());
    (has_code && repeats > MAX_REPEATED_CALLS).then(|| {
        format!(
            "{:.0}% of the transactions repeat one call",
            100.0 * repeats
        )
    })
}

impl Engine for AutoExecutor {
    fn execute_prepared<'a>(
        &self,
        fork: Fork,
        pre: &'a PreState,
        block: &Block,
    ) -> Result<Executed<'a>, BlockError> {
        let mut timer = crate::phases::Timer::start();
        let early = self.threads >= 2 && block.transactions.len() >= WAKE_EARLY_TXS;
        if early {
            crate::sync::wake_helpers(self.threads);
        }
        let choice = self.choose(pre, block);
        timer.lap("auto.choose");
        match choice {
            Choice::Sequential(reason) => {
                if early {
                    crate::sync::rest_helpers(self.threads);
                }
                // Plain transfers without revm's handler (the baseline, revm alone, runs
                // them through it). A block that one sender or group dominates runs faster
                // so than as one shard, which records every read for a settlement that has
                // nothing to settle against (measured: builtin:few-accounts 1.75x -> 2.46x,
                // mainnet 13,287,210 1.77x -> 2.15x).
                let mut executed =
                    sequential::execute_with(fork, pre, block, sequential::Transfers::Direct)?;
                // The reason is the fallback's; the mode only names the choice (formatting the
                // reason twice is a tenth of the time of an empty block).
                executed.stats.fallback = Some(reason);
                executed.stats.mode = Some(Cow::Borrowed("auto: sequential"));
                Ok(executed)
            }
            Choice::BlockStm(reason) => {
                // Block-STM itself, without its own checks before running (made above), but
                // free to give up on a block that keeps aborting.
                let mut executor = ParallelExecutor::new(self.threads);
                executor.force_parallel = false;
                let mut executed = crate::parallel::execute(fork, pre, block, &executor)?;
                let how = match &executed.stats.fallback {
                    Some(fallback) => format!("sequential after all: {fallback}"),
                    None => "parallel".to_string(),
                };
                executed.stats.mode = Some(format!("auto: Block-STM ({reason}; {how})").into());
                Ok(executed)
            }
            Choice::Sharded(layout) => {
                // Batched: a block is sharded only when its shards are expected not to
                // conflict (mainnet 4,370,000, a third from one sender, came out clean:
                // 1.27x -> 1.38x).
                let batching = sharded::Batching::Journal;
                let mut executed =
                    sharded::execute(fork, pre, block, self.threads, batching, |_| layout)?;
                executed.stats.mode = executed.stats.mode.map(|m| format!("auto: {m}").into());
                Ok(executed)
            }
        }
    }
}

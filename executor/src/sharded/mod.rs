//! Sharded execution, the second parallel design: the block is partitioned up front into
//! shards that are predicted to share no written account ([`predict`], [`partition`]), the
//! transactions predicted to share nothing with any other left in a pool that the shards
//! claim as they run ([`pool`]); the shards run in parallel, each one sequentially, in block
//! order, against the state at the start of the block plus its own writes, with no
//! multi-version bookkeeping ([`shard`]); then the block is settled in block order: a
//! transaction is kept when every value it read is the value the block's state holds at its
//! turn (so it saw exactly what sequential execution shows it), and re-executed against
//! that state otherwise. A wrong prediction, and everything that
//! read what it changed, is repaired by re-execution in block order; nothing is guessed.
//!
//! With two workers or more, each first warms its core's cache with the state before the
//! block ([`crate::state::PreState::warm`]): the shards read it at random places, and a
//! helper's core meets it cold.
//!
//! Fees are credited lazily, as in Block-STM: shards compute each transaction's fee without
//! paying it, and the settlement pays it in block order. A transaction that reads the
//! beneficiary sees its balance without the fees of earlier transactions in its shard, so its
//! read does not hold at settlement and it is re-executed.

pub mod first_writes;
pub mod partition;
pub mod pool;
pub mod predict;
pub mod shard;

use crate::beneficiary;
use crate::block_end;
use crate::env;
use crate::executed::Executed;
use crate::phases::Timer;
use crate::sequential::{self, TransferPath, Transfers, GAS_PER_BLOB};
use crate::state::{BlockState, Part, PreState, PARTS};
use crate::sync::{self, AtomicBool, AtomicUsize, Mutex, Ordering, RwLock};
use lockstep_spec::types::Receipt;
use lockstep_spec::types::{Block, BlockError, BlockRule, ExecStats};
use lockstep_spec::Fork;
use revm::context::ContextTr;
use revm::database_interface::WrapDatabaseRef;
pub use shard::Batching;
use shard::{Changes, ShardEnv, ShardOutput};
use std::panic::{self, AssertUnwindSafe};

/// The sharded parallel executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardedExecutor {
    /// Shards, and worker threads to run them (0 counts as 1).
    pub threads: usize,
    /// How every block's transactions are batched; `None` chooses per block
    /// ([`batching_for`]).
    pub batching: Option<Batching>,
}

impl ShardedExecutor {
    /// An executor with `threads` shards, batching as [`batching_for`] chooses.
    pub fn new(threads: usize) -> Self {
        ShardedExecutor {
            threads,
            batching: None,
        }
    }

    /// An executor with `threads` shards that batches every block as `batching` says.
    pub fn with_batching(threads: usize, batching: Batching) -> Self {
        ShardedExecutor {
            threads,
            batching: Some(batching),
        }
    }

    /// Partitions `block` as the executor would: per shard, its own transactions in block
    /// order, and with two threads or more, the pool of transactions the shards claim as they
    /// run.
    pub fn partition(&self, pre: &BlockState<'_>, block: &Block) -> partition::Partition {
        self.partition_with(block, &predict::facts(block, pre))
    }

    /// [`ShardedExecutor::partition`] with the transactions' facts already read.
    pub fn partition_with(
        &self,
        block: &Block,
        facts: &[predict::TxFacts],
    ) -> partition::Partition {
        let beneficiary = crate::contention::account_key(&block.env.beneficiary);
        let accounts: Vec<_> = facts
            .iter()
            .map(|facts| predict::written_accounts(facts, beneficiary))
            .collect();
        let gas: Vec<u64> = facts.iter().map(|facts| facts.gas_limit).collect();
        // One thread still runs two shards, one after the other: the same validation and
        // merge run, so that they are tested at every thread count. (It keeps no pool: its
        // first shard would claim all of it.)
        partition::partition(&accounts, &gas, self.threads.max(2), self.threads >= 2)
    }

    /// Executes `block` on the prepared pre-state `pre` with the executor's own partition
    /// and batching.
    pub fn execute_prepared<'a>(
        &self,
        fork: Fork,
        pre: &'a PreState,
        block: &Block,
    ) -> Result<Executed<'a>, BlockError> {
        let mut timer = Timer::start();
        let facts = predict::facts(block, &BlockState::new(pre));
        let batching = self.batching.unwrap_or_else(|| batching_for(&facts));
        timer.lap("sharded.predict");
        execute(fork, pre, block, self.threads, batching, |_| {
            self.partition_with(block, &facts)
        })
    }
}

/// How a block whose transactions' facts are `facts` batches them: sharing revm's journal
/// when at least [`crate::auto::MIN_UNIFORM_SHARE`] of them are plain transfers or calls of
/// one contract (the blocks `auto` shards: their shards seldom conflict), one by one
/// otherwise (mainnet's mixed blocks often conflict, and settling keeps the runs that
/// held).
pub fn batching_for(facts: &[predict::TxFacts]) -> Batching {
    if predict::features(facts, 0).uniform_share >= crate::auto::MIN_UNIFORM_SHARE {
        Batching::Journal
    } else {
        Batching::PerTransaction
    }
}

/// Which transactions the shards of a block run: each its own (block indexes in block
/// order), and those of a pool that they claim as they run ([`pool`]). Every transaction is
/// in exactly one shard's list or in the pool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Per shard, its own transactions.
    pub shards: Vec<Vec<usize>>,
    /// The transactions claimed at run time, in block order.
    pub pool: Vec<usize>,
}

impl Layout {
    /// How many shards can run something: every shard when there is a pool to claim from,
    /// otherwise those with transactions of their own.
    pub fn shard_count(&self) -> usize {
        if self.pool.is_empty() {
            self.shards.iter().filter(|shard| !shard.is_empty()).count()
        } else {
            self.shards.len().max(1)
        }
    }
}

impl From<Vec<Vec<usize>>> for Layout {
    /// Shards given all their transactions in advance.
    fn from(shards: Vec<Vec<usize>>) -> Self {
        Layout {
            shards,
            pool: Vec::new(),
        }
    }
}

impl From<partition::Partition> for Layout {
    fn from(partition: partition::Partition) -> Self {
        Layout {
            shards: partition.shards,
            pool: partition.pool,
        }
    }
}

/// Executes `block` on `pre` on `threads` workers with the shards `layout` chooses from the
/// state at the start of the transactions, their transactions sharing revm's journal as
/// `batching` says. Any layout and batching give the sequential outcome: this is also how
/// tests force a wrong prediction.
pub fn execute<'a, L: Into<Layout>>(
    fork: Fork,
    pre: &'a PreState,
    block: &Block,
    threads: usize,
    batching: Batching,
    layout: impl FnOnce(&BlockState<'a>) -> L,
) -> Result<Executed<'a>, BlockError> {
    let spec = env::spec_id(fork).ok_or_else(|| BlockError::Block {
        rule: BlockRule::Other,
        message: sequential::unsupported(fork).unwrap_or_default(),
    })?;
    let mut timer = Timer::block();
    // The helpers wake while the serial set-up below runs.
    sync::wake_helpers(threads.min(block.transactions.len()));
    let mut state = BlockState::with_capacity(pre, 2 * block.transactions.len() + 16);
    block_end::pre_block(fork, &mut state, block)?;
    let layout: Layout = layout(&state).into();
    let shards = layout.shard_count();
    let cfg = env::cfg_env(spec, fork, block);
    let block_env = env::block_env(fork, block);
    timer.lap("sharded.setup");
    let (outputs, merged) = run_shards(
        &ShardEnv {
            fork,
            start: &state,
            cfg: &cfg,
            block_env: &block_env,
            block,
            batching,
        },
        &layout,
        threads,
    );
    let size = block.transactions.len() as u64;
    let mut stats = ExecStats {
        parallel: shards > 1,
        fallback: (shards <= 1)
            .then(|| format!("{shards} shard(s): nothing ran beside anything").into()),
        incarnations: size,
        validations: size,
        ..Default::default()
    };
    timer.lap("sharded.shards");
    let settled = match merge(fork, block, state, outputs, merged)? {
        Merged::Done(settled) => {
            stats.mode = Some(format!("sharded: {shards} shards, no conflict").into());
            settled
        }
        Merged::Conflicts(state, runs) => {
            let (settled, reexecuted) = settle(fork, block, state, runs, &cfg, &block_env)?;
            stats.incarnations += reexecuted;
            stats.aborts = reexecuted;
            stats.mode = Some(
                format!(
                    "sharded: {shards} shards, {reexecuted} of {size} transactions re-executed"
                )
                .into(),
            );
            settled
        }
    };
    let Settled {
        mut state,
        receipts,
        gas_used,
        blob_gas_used,
    } = settled;
    timer.lap("sharded.merge");
    let requests = block_end::post_block(fork, &mut state, block, &receipts)?;
    timer.lap("sharded.post");
    Ok(Executed {
        state,
        receipts,
        gas_used,
        blob_gas_used,
        requests,
        stats,
    })
}

/// The block's state and receipts after its transactions.
struct Settled<'a> {
    state: BlockState<'a>,
    receipts: Vec<Receipt>,
    gas_used: Vec<u64>,
    blob_gas_used: u64,
}

/// The result of trying to merge the shards.
enum Merged<'a> {
    /// No transaction read a location another shard wrote before it: the shards' states
    /// merged are the block's.
    Done(Settled<'a>),
    /// Some may have: the state at the start and each transaction's run by block index, to
    /// settle one by one.
    Conflicts(BlockState<'a>, Vec<Option<SettleRun>>),
}

/// Merges the shards when that is exact: every shard came out clean (see
/// [`ShardOutput::clean`]), and [`run_shards`] has merged their states and tallied their
/// transactions (`merged`). Otherwise hands every run on, for settling one by one.
fn merge<'a>(
    fork: Fork,
    block: &Block,
    start: BlockState<'a>,
    outputs: Vec<ShardOutput<'a>>,
    merged: Option<MergedClean<'a>>,
) -> Result<Merged<'a>, BlockError> {
    let size = block.transactions.len();
    let Some((mut state, tally)) = merged else {
        return Ok(Merged::Conflicts(start, by_index(size, outputs)));
    };
    let Tally {
        receipts,
        gas_used,
        fees,
        blob_gas_used,
    } = tally?;
    drop(start);
    drop(outputs);
    let beneficiary = block.env.beneficiary;
    let paid = beneficiary::apply_fees(fork, state.info(&beneficiary).cloned(), &fees);
    state.set_info(beneficiary, paid);
    Ok(Merged::Done(Settled {
        state,
        receipts,
        gas_used,
        blob_gas_used,
    }))
}

/// A clean block's state, the start plus every shard's writes (without the fees), and the
/// tally of its transactions.
type MergedClean<'a> = (BlockState<'a>, Result<Tally, BlockError>);

/// A clean block's transactions in block order: what its receipts, gas and fees are.
struct Tally {
    receipts: Vec<Receipt>,
    gas_used: Vec<u64>,
    fees: Vec<alloy_primitives::U256>,
    blob_gas_used: u64,
}

/// Tallies the transactions of a clean block from each shard's [`SlimTx`]s (in block order
/// within each shard), checking the block's limits in block order: in a clean block every
/// result is the sequential one, so a limit broken here is the sequential error. `None`
/// when the shards do not hold every transaction of the block once.
fn tally(
    fork: Fork,
    block: &Block,
    slims: Vec<Vec<shard::SlimTx>>,
) -> Option<Result<Tally, BlockError>> {
    let size = block.transactions.len();
    if slims.iter().map(Vec::len).sum::<usize>() != size {
        return None;
    }
    // Each transaction's shard, so that the runs are read where they are.
    let mut shard_of = vec![usize::MAX; size];
    for (shard, runs) in slims.iter().enumerate() {
        for run in runs {
            *shard_of.get_mut(run.index)? = shard;
        }
    }
    let mut runs: Vec<_> = slims.into_iter().map(Vec::into_iter).collect();
    let mut tally = Tally {
        receipts: Vec::with_capacity(size),
        gas_used: Vec::with_capacity(size),
        fees: Vec::with_capacity(size),
        blob_gas_used: 0,
    };
    let mut cumulative = 0u64;
    for (index, &shard) in shard_of.iter().enumerate() {
        let run = runs.get_mut(shard).and_then(Iterator::next)?;
        let limits = sequential::check_limits(
            fork,
            block,
            index,
            run.limits,
            cumulative,
            tally.blob_gas_used,
        );
        if let Err(error) = limits {
            return Some(Err(error));
        }
        cumulative += run.used;
        tally.blob_gas_used += run.limits.blobs * GAS_PER_BLOB;
        let mut receipt = run.receipt;
        receipt.cumulative_gas_used = cumulative;
        tally.receipts.push(receipt);
        tally.gas_used.push(run.used);
        tally.fees.push(run.fee);
    }
    Some(Ok(tally))
}

/// A transaction's run in its shard, on its way to being settled one by one.
struct SettleRun {
    result: Result<revm::context::result::ExecutionResult, BlockError>,
    changes: Changes,
    /// The values it read, if the shard kept every one (see [`shard::ShardTx::values`]).
    reads: Option<Vec<shard::ValueRead>>,
}

/// Every shard's runs by block index (`None` for a transaction in no shard).
fn by_index(size: usize, outputs: Vec<ShardOutput<'_>>) -> Vec<Option<SettleRun>> {
    let mut runs: Vec<Option<SettleRun>> = (0..size).map(|_| None).collect();
    for output in outputs {
        let mut values = output.values.into_iter();
        for (index, run) in output.txs {
            let kept: Vec<_> = values.by_ref().take(run.values.len()).collect();
            let run = SettleRun {
                result: run.result,
                changes: run.changes,
                reads: (kept.len() == run.reads.len()).then_some(kept),
            };
            if let Some(slot) = runs.get_mut(index) {
                *slot = Some(run);
            }
        }
    }
    runs
}

/// Settles the transactions one by one in block order on one revm instance that holds the
/// block's state: a run whose every read still holds is committed, any other transaction is
/// re-executed against the state at its turn. Returns the settled block and how many
/// transactions were re-executed.
fn settle<'a>(
    fork: Fork,
    block: &Block,
    state: BlockState<'a>,
    runs: Vec<Option<SettleRun>>,
    cfg: &revm::context::CfgEnv,
    block_env: &revm::context::BlockEnv,
) -> Result<(Settled<'a>, u64), BlockError> {
    let mut evm = sequential::state_evm(state, cfg.clone(), block_env.clone());
    let mut transfers = TransferPath::from(Transfers::Direct);
    let mut receipts = Vec::with_capacity(runs.len());
    let mut gas_used = Vec::with_capacity(runs.len());
    let (mut cumulative, mut blob_gas_used, mut reexecuted) = (0u64, 0u64, 0u64);
    for (index, (tx, run)) in block.transactions.iter().zip(runs).enumerate() {
        sequential::check_block_limits(fork, block, index, tx, cumulative, blob_gas_used)?;
        // A run of a longer batch has no changes of its own to keep: it counts as
        // re-executed, as it is; so does a run without the value of every read (a transfer
        // of a batched block).
        let held = run.as_ref().is_some_and(|run| {
            let state = &evm.ctx.db_mut().0;
            !matches!(run.changes, Changes::Batched)
                && run
                    .reads
                    .as_ref()
                    .is_some_and(|reads| reads.iter().all(|read| read.holds(state)))
        });
        let result = match run {
            Some(SettleRun {
                result,
                changes: Changes::Writes(writes),
                ..
            }) if held => {
                let result = result?;
                let state = &mut evm.ctx.db_mut().0;
                for (location, value) in writes {
                    state.apply_write(fork, location, value);
                }
                result
            }
            _ => {
                // A plain transfer is run again whether it held or not (it keeps no changes:
                // running it costs about what committing would); any other transaction here
                // saw something that an earlier transaction elsewhere changed, or ran in a
                // longer batch. Either runs against the block's state at its turn.
                if !held {
                    reexecuted += 1;
                }
                sequential::run_and_commit(&mut evm, fork, index, tx, &mut transfers)?
            }
        };
        let used = result.tx_gas_used();
        cumulative += used;
        blob_gas_used += tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB;
        receipts.push(sequential::receipt(tx, &result, cumulative));
        gas_used.push(used);
    }
    let WrapDatabaseRef(state) = evm.ctx.journaled_state.database;
    Ok((
        Settled {
            state,
            receipts,
            gas_used,
            blob_gas_used,
        },
        reexecuted,
    ))
}

/// Runs every shard on `threads` workers, in phases that each worker joins as long as there
/// is work in it:
/// 1. run the shards (each splits its state into parts and builds its [`shard::SlimTx`]s
///    at its end);
/// 2. at once: check each shard against the others' writes ([`shard::check`]), merge the
///    shards' states part by part ([`Part::absorb`]) and tally the transactions
///    ([`tally`]). The merge and the tally are only of use when every shard is clean, and
///    are dropped otherwise: settling one by one needs neither the shards' states nor their
///    tally, so they need not wait for the checks;
/// 3. for a clean block, free the runs that only settling would have read, so that no one
///    thread frees them all.
///
/// Returns the shards' outputs and, for a clean block, the merged state (the start plus
/// every shard's writes, without the fees) with the tally.
fn run_shards<'a>(
    env: &ShardEnv<'_, 'a>,
    layout: &Layout,
    threads: usize,
) -> (Vec<ShardOutput<'a>>, Option<MergedClean<'a>>) {
    let shards = &layout.shards;
    let count = shards.len();
    let outputs: Vec<RwLock<Option<ShardOutput<'a>>>> =
        shards.iter().map(|_| RwLock::new(None)).collect();
    // Each shard's state in parts and its slim runs, taken from its output; whether each
    // shard is clean; each part merged, and the tally.
    let split: Vec<Mutex<Vec<Option<Part>>>> = shards.iter().map(|_| Mutex::default()).collect();
    let slims: Vec<Mutex<Vec<shard::SlimTx>>> = shards.iter().map(|_| Mutex::default()).collect();
    let clean: Vec<AtomicBool> = shards.iter().map(|_| AtomicBool::new(false)).collect();
    let merged: Vec<Mutex<Option<Part>>> = (0..PARTS).map(|_| Mutex::default()).collect();
    // (`None` also when the shards did not hold every transaction once: see `tally`.)
    let tallied: Mutex<Option<Result<Tally, BlockError>>> = Mutex::default();
    // The second phase's items, a list per worker (see `second_phase_plan`), set by the
    // worker that finishes the last shard; the next item of each list; who ran each shard.
    let plan: Mutex<Vec<Vec<Item>>> = Mutex::default();
    let ran = AtomicUsize::new(0);
    let runner: Vec<AtomicUsize> = shards.iter().map(|_| AtomicUsize::new(0)).collect();
    // Per phase: the next item to claim, and how many shards are done (the first phase).
    let phases: [(AtomicUsize, AtomicUsize); 3] = Default::default();
    let all_clean = AtomicBool::new(true);
    let broken = AtomicBool::new(false);
    let workers = threads.clamp(1, count.max(1));
    let cursors: Vec<AtomicUsize> = (0..workers).map(|_| AtomicUsize::new(0)).collect();
    let pool = pool::Pool::new(&layout.pool, workers);
    let pool = (!pool.is_empty()).then_some(&pool);
    let wait_for = |done: &AtomicUsize, items: usize| {
        let mut polls = 0;
        while done.load(Ordering::Acquire) < items && !broken.load(Ordering::Acquire) {
            sync::relax(polls, workers);
            polls = polls.saturating_add(1);
        }
    };
    let claim = |phase: usize, items: usize| {
        let item = phases[phase].0.fetch_add(1, Ordering::Relaxed);
        (item < items).then_some(item)
    };
    let finish = |phase: usize| phases[phase].1.fetch_add(1, Ordering::AcqRel);
    let pre = env.start.pre();
    // Every worker warms its core's cache with the state before the block, when that is
    // small enough to (see `PreState::warm`): measured on `builtin:erc20` and
    // `builtin:transfers` at two threads, beside the same executor without it in one bench
    // run (see PERFORMANCE.md).
    let warm = workers >= 2 && pre.warmable(env.block.transactions.len());
    let worker_ids = AtomicUsize::new(0);
    let work = || {
        let worker = worker_ids.fetch_add(1, Ordering::Relaxed);
        let mut timer = Timer::start();
        if warm {
            pre.warm();
            timer.lap_of("sharded.warm", worker);
        }
        while let Some(shard) = claim(0, count) {
            let ran_shard = panic::catch_unwind(AssertUnwindSafe(|| {
                shard::run(env, pool::Feed::new(&shards[shard], pool))
            }));
            match ran_shard {
                Ok(mut output) => {
                    *slims[shard].lock() = std::mem::take(&mut output.slim);
                    let state = std::mem::replace(&mut output.state, BlockState::new(pre));
                    *split[shard].lock() = state.into_parts().into_iter().map(Some).collect();
                    *outputs[shard].write() = Some(output);
                }
                Err(payload) => {
                    broken.store(true, Ordering::Release);
                    panic::resume_unwind(payload);
                }
            }
            runner[shard].store(worker, Ordering::Relaxed);
            if ran.fetch_add(1, Ordering::AcqRel) + 1 == count {
                let runner: Vec<usize> = runner.iter().map(|r| r.load(Ordering::Relaxed)).collect();
                *plan.lock() = second_phase_plan(&split, &runner, workers);
            }
            finish(0);
        }
        timer.lap_of("sharded.run", worker);
        wait_for(&phases[0].1, count);
        timer.lap_of("sharded.wait-run", worker);
        {
            let all: Vec<_> = outputs.iter().map(|o| o.read()).collect();
            let plan = plan.lock().clone();
            // This worker's own list first, then help with the others'.
            let lists = (0..plan.len()).map(|offset| (worker + offset) % plan.len().max(1));
            let items = lists.flat_map(|list| {
                let plan = &plan;
                let cursors = &cursors;
                std::iter::from_fn(move || {
                    let item = cursors.get(list)?.fetch_add(1, Ordering::Relaxed);
                    plan.get(list)?.get(item).copied()
                })
            });
            for item in items {
                match item {
                    Item::Check(shard) => {
                        let others: Vec<_> = all
                            .iter()
                            .enumerate()
                            .filter(|(other, _)| *other != shard)
                            .filter_map(|(_, o)| o.as_ref())
                            .collect();
                        let is_clean = all[shard]
                            .as_ref()
                            .is_some_and(|own| shard::check(own, &others));
                        clean[shard].store(is_clean, Ordering::Relaxed);
                        if !is_clean {
                            all_clean.store(false, Ordering::Relaxed);
                        }
                    }
                    Item::Tally => {
                        let slims = slims
                            .iter()
                            .map(|s| std::mem::take(&mut *s.lock()))
                            .collect();
                        *tallied.lock() = tally(env.fork, env.block, slims);
                    }
                    Item::Merge(part) => {
                        *merged[part].lock() = merge_part(env.start, &split, part);
                    }
                }
                finish(1);
            }
        }
        timer.lap_of("sharded.check-and-merge", worker);
        wait_for(&phases[1].1, plan.lock().iter().map(Vec::len).sum());
        timer.lap_of("sharded.wait-check-and-merge", worker);
        if !all_clean.load(Ordering::Relaxed) {
            return;
        }
        while let Some(shard) = claim(2, count) {
            if let Some(own) = outputs[shard].write().as_mut() {
                own.txs = Vec::new();
                own.reads = Vec::new();
                own.values = Vec::new();
            }
        }
        timer.lap_of("sharded.release", worker);
    };
    sync::run_workers(workers, work);
    let outputs: Vec<_> = outputs
        .into_iter()
        .zip(&clean)
        .filter_map(|(output, clean)| {
            let mut output = output.write().take()?;
            output.clean = clean.load(Ordering::Relaxed);
            Some(output)
        })
        .collect();
    if !all_clean.load(Ordering::Relaxed) {
        return (outputs, None);
    }
    let parts: Option<Vec<Part>> = merged.into_iter().map(|m| m.lock().take()).collect();
    let tallied = tallied.lock().take();
    let merged = parts
        .zip(tallied)
        .map(|(parts, tally)| (BlockState::from_parts(pre, parts), tally));
    (outputs, merged)
}

/// An item of the second phase of [`run_shards`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    /// Check a shard against the others.
    Check(usize),
    /// Merge one part of the shards' states.
    Merge(usize),
    /// Tally the block's transactions.
    Tally,
}

/// Merges part `part` of the shards' states, taken from `split`: the shard that changed it
/// most keeps its piece, and the others' writes move into it (told from the values at the
/// start of the block, `start`: see [`crate::state::Part::absorb`]). Every shard's state is
/// the start plus its own writes.
fn merge_part(
    start: &BlockState<'_>,
    split: &[Mutex<Vec<Option<Part>>>],
    part: usize,
) -> Option<Part> {
    let at_start = start.parts().get(part)?;
    let mut pieces: Vec<Part> = split
        .iter()
        .filter_map(|parts| parts.lock().get_mut(part)?.take())
        .collect();
    pieces.sort_by_key(|piece| std::cmp::Reverse(piece.len()));
    let mut pieces = pieces.into_iter();
    let mut base = pieces.next()?;
    for piece in pieces {
        base.absorb(start.pre(), at_start, piece);
    }
    Some(base)
}

/// The second phase's items (see [`run_shards`]), a list for each of `workers` workers
/// (`runner` names who ran each shard), each list the heaviest first. Each item goes to the
/// worker whose cache holds most of what it reads: a shard's check reads the shard's own
/// reads in full (the others' writes it asks through their small filters), so it goes to the
/// worker that ran it; a part's merge writes into the piece that stays (the largest), so it
/// goes to the worker that ran that piece's shard. A worker done with its list helps with
/// the others'. Measured on `builtin:erc20` at two threads: a check took 0.057 ms on its own
/// worker and 0.12-0.13 on the other.
fn second_phase_plan(
    split: &[Mutex<Vec<Option<Part>>>],
    runner: &[usize],
    workers: usize,
) -> Vec<Vec<Item>> {
    /// A part to merge: the weight of all its pieces, and the piece that stays.
    #[derive(Clone, Copy, Default)]
    struct ToMerge {
        total: usize,
        stays: Option<Stays>,
    }
    /// The piece of a part that stays: its shard, accounts and weight.
    #[derive(Clone, Copy, Default)]
    struct Stays {
        shard: usize,
        accounts: usize,
        weight: usize,
    }
    // The piece that stays is chosen as `merge_part` does: the most accounts, the first
    // shard on a tie.
    let mut parts = [ToMerge::default(); PARTS];
    for (shard, pieces) in split.iter().enumerate() {
        for (part, piece) in pieces.lock().iter().enumerate() {
            if let (Some(to_merge), Some(piece)) = (parts.get_mut(part), piece) {
                let weight = piece.weight();
                to_merge.total += weight;
                if to_merge
                    .stays
                    .is_none_or(|stays| piece.len() > stays.accounts)
                {
                    to_merge.stays = Some(Stays {
                        shard,
                        accounts: piece.len(),
                        weight,
                    });
                }
            }
        }
    }
    let workers = workers.max(1);
    let worker_of = |shard: usize| runner.get(shard).copied().unwrap_or(0) % workers;
    let mut lists: Vec<Vec<(usize, Item)>> = vec![Vec::new(); workers];
    // The checks first: each is about as long as the heaviest merge.
    for shard in 0..split.len() {
        lists[worker_of(shard)].push((usize::MAX, Item::Check(shard)));
    }
    let mut moved_by = vec![0; workers];
    for (part, to_merge) in parts.iter().enumerate() {
        let stays = to_merge.stays.unwrap_or_default();
        let moved = to_merge.total - stays.weight;
        let worker = worker_of(stays.shard);
        lists[worker].push((moved, Item::Merge(part)));
        moved_by[worker] += moved;
    }
    // The tally, last, to the worker with the least to merge.
    let least = (0..workers)
        .min_by_key(|&worker| moved_by[worker])
        .unwrap_or(0);
    lists[least].push((0, Item::Tally));
    lists
        .into_iter()
        .map(|mut list| {
            list.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
            list.into_iter().map(|(_, item)| item).collect()
        })
        .collect()
}

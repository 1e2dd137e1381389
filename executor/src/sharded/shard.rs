//! One shard's execution: its transactions, in block order, one after another on one revm
//! instance, against the state at the start of the block plus the shard's own earlier writes.
//! Every location a transaction reads is recorded by fingerprint, for the check of a clean
//! block ([`check`]); the values read are kept where settling one by one can keep the run,
//! so that it can tell whether the transaction saw what sequential execution would have
//! shown it.

use super::first_writes::{Fingerprint, FirstWrites};
use super::pool::Feed;
use crate::beneficiary::{self, DeferredFee, Summary};
use crate::collision::StorageProbe;
use crate::local_code::LocalCode;
use crate::mv_memory::{Location, Value};
use crate::sequential;
use crate::state::BlockState;
use crate::transfer::{self, Beneficiary, Plain};
use crate::vm;
use alloy_primitives::{Address, B256, U256};
use lockstep_spec::types::{Block, BlockError, Receipt, Transaction};
use lockstep_spec::Fork;
use revm::bytecode::Bytecode;
use revm::context::result::ExecutionResult;
use revm::context::{BlockEnv, CfgEnv, Context, ContextSetters, ContextTr};
use revm::database_interface::Database;
use revm::handler::{Handler, MainnetContext, MainnetEvm};
use revm::state::{AccountInfo, EvmState};
use revm::{ExecuteEvm, MainBuilder, MainContext};
use std::convert::Infallible;

/// A value a transaction read, as it read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueRead {
    /// An account's existence, balance, nonce and code hash.
    Account(Address, Summary),
    /// One storage slot.
    Slot(Address, U256, U256),
    /// Whether an account holds storage (EIP-7610's creation check).
    HasStorage(Address, bool),
}

impl ValueRead {
    /// The location whose writes could change the read: an account's for its fields and for
    /// whether it holds storage (an account gains its first slot only by running code: it had
    /// code at the start, which the read of the account sees too, or was created, which
    /// resets its storage and leaves its shard not clean).
    pub fn location(&self) -> Location {
        match self {
            ValueRead::Account(address, _) | ValueRead::HasStorage(address, _) => {
                Location::Account(*address)
            }
            ValueRead::Slot(address, slot, _) => Location::Storage(*address, *slot),
        }
    }

    /// Whether `state` still holds what was read.
    pub fn holds(&self, state: &BlockState<'_>) -> bool {
        match self {
            ValueRead::Account(address, seen) => {
                state.info(address).map(crate::state::written_fields) == *seen
            }
            ValueRead::Slot(address, slot, seen) => state.storage(address, slot) == *seen,
            ValueRead::HasStorage(address, seen) => state.has_storage(address) == *seen,
        }
    }
}

/// A shard's state with every read recorded: revm's database for the shard.
struct Recording<'a> {
    state: BlockState<'a>,
    /// Every location read, by fingerprint, in order: what [`check`] reads.
    reads: Vec<Fingerprint>,
    /// The values read, in order, by the runs that settling can keep, followed by those of
    /// the open batch or transfer (dropped when a batch of more than one transaction ends:
    /// settling runs those again).
    values: Vec<ValueRead>,
    /// Whether values are recorded: not once a batch holds a second transaction (its
    /// values would be dropped at its flush), nor for a transfer of a batched block.
    keep_values: bool,
    /// The block's beneficiary, and whether a transaction read its account.
    beneficiary: Address,
    read_beneficiary: bool,
    /// This shard's copies of the contracts' code.
    code: LocalCode,
}

impl Recording<'_> {
    /// Records `read`: its location's fingerprint, and its value where settling can use it
    /// ([`Recording::keep_values`]).
    ///
    /// A value read is about a hundred bytes, its fingerprint eight, and a token transfer
    /// reads three: a batch records the values of its first transaction only (in case the
    /// batch ends with it), and drops them at its flush if it does not.
    fn record(&mut self, read: ValueRead) {
        let location = read.location();
        self.read_beneficiary |= location.address() == self.beneficiary;
        self.reads.push(Fingerprint::of(&location));
        if self.keep_values {
            self.values.push(read);
        }
    }

    /// The account at `address`, recorded as read; without code where it has none, as the
    /// shard's state keeps it (revm's [`Database::basic`] gives it the shard's own empty
    /// code).
    fn read_account(&mut self, address: Address) -> Option<AccountInfo> {
        let code = &mut self.code;
        let info = self.state.info(&address).map(|info| code.account(info));
        self.record(ValueRead::Account(address, beneficiary::summary(&info)));
        info
    }
}

impl Database for Recording<'_> {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        let info = self.read_account(address);
        Ok(info.map(|info| self.code.with_own_empty_code(info)))
    }

    fn code_by_hash(&mut self, _code_hash: B256) -> Result<Bytecode, Infallible> {
        // Every account with code carries it, and revm fills in the empty code of the others
        // itself, so it never asks by hash.
        Ok(Bytecode::default())
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Infallible> {
        let value = self.state.storage(&address, &index);
        self.record(ValueRead::Slot(address, index, value));
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Infallible> {
        Ok(self.state.pre().block_hash(number).unwrap_or_default())
    }
}

impl StorageProbe for Recording<'_> {
    fn has_storage(&mut self, address: Address) -> Result<bool, Infallible> {
        let has = self.state.has_storage(&address);
        self.record(ValueRead::HasStorage(address, has));
        Ok(has)
    }
}

/// A transaction's changes, kept for settling one by one.
#[derive(Debug)]
pub enum Changes {
    /// Its writes as its commit would apply them, its fee to the beneficiary included (a
    /// write set in [`crate::vm`]'s form: far smaller than revm's changes, which are dropped
    /// at once, so that the next transaction reuses their memory while it is in cache).
    Writes(Vec<(Location, Value)>),
    /// A plain transfer run without revm ([`crate::transfer`]). Its effect is only in the
    /// shard's state: settling one by one runs it again (as cheaply).
    Transfer,
    /// Run by revm in a batch of transactions sharing one journal ([`run`]): its changes
    /// are only in the shard's state, mixed with the batch's, so settling one by one runs
    /// it again.
    Batched,
}

/// What one transaction did in its shard.
#[derive(Debug)]
pub struct ShardTx {
    /// The result, or the error that makes the transaction invalid (in the shard's view).
    pub result: Result<ExecutionResult, BlockError>,
    /// Its changes.
    pub changes: Changes,
    /// The fee it owes the beneficiary.
    pub fee: U256,
    /// Where the locations it read are in its shard's [`ShardOutput::reads`].
    pub reads: std::ops::Range<usize>,
    /// Where the values it read are in its shard's [`ShardOutput::values`]: empty unless
    /// settling can keep its run ([`Changes::Writes`]), or it is a transfer of a block run
    /// [`Batching::PerTransaction`]. Settling counts a run as held only with as many values
    /// as reads.
    pub values: std::ops::Range<usize>,
}

/// What a shard produced.
#[derive(Debug)]
pub struct ShardOutput<'a> {
    /// Each transaction's run, with its block index, in block order.
    pub txs: Vec<(usize, ShardTx)>,
    /// Every location the shard's transactions read, by fingerprint, one transaction after
    /// another (one vector for the shard rather than one per transaction).
    pub reads: Vec<Fingerprint>,
    /// The values read by the runs that settling can keep (and by the transfers of a block
    /// run [`Batching::PerTransaction`]), one after another.
    pub values: Vec<ValueRead>,
    /// Whether a transaction read the beneficiary's account.
    pub read_beneficiary: bool,
    /// The shard's state at its end: the start plus every change of its transactions.
    pub state: BlockState<'a>,
    /// The locations its transactions wrote (the beneficiary's fees aside), by
    /// fingerprint, each with the first of them that wrote it: what the other shards'
    /// reads are checked against.
    pub first_writes: FirstWrites,
    /// Whether a transaction reset an account's storage (created, destroyed or deleted one).
    pub reset_storage: bool,
    /// What merging a clean block needs of each transaction, built by the shard at its end
    /// (empty when a run failed).
    pub slim: Vec<SlimTx>,
    /// Whether the shard can be merged with the others: every transaction succeeded, none
    /// reset an account's storage, read the beneficiary (whose fees are paid only after the
    /// shards) or read a location that another shard wrote with an earlier transaction, and
    /// no other shard reset an account's storage (which leaves that shard, and so the block,
    /// not clean anyway). Then
    /// every location the shards wrote was written by one shard only (a transaction that
    /// writes a location reads it first), and each shard's view was the sequential one.
    pub clean: bool,
}

/// What a clean block's merge needs of a transaction: its own gas, its fee and its receipt
/// (whose cumulative gas the merge fills in, in block order).
#[derive(Debug)]
pub struct SlimTx {
    /// The transaction's block index.
    pub index: usize,
    /// Gas used by the transaction (after refunds).
    pub used: u64,
    /// The fee it owes the beneficiary.
    pub fee: U256,
    /// Its receipt, with the cumulative gas still zero.
    pub receipt: Receipt,
    /// What the block's limits check of it.
    pub limits: sequential::TxLimits,
}

/// What merging a clean block needs of each of `txs`, a shard's runs ([`SlimTx`], in
/// block order), built by the shard at its end, in parallel, rather than by the merge alone
/// (which then reads no transaction of the block). Empty when a run failed: the block is
/// then not clean.
fn slim(block_txs: &[Transaction], txs: &[(usize, ShardTx)]) -> Vec<SlimTx> {
    let mut slim = Vec::with_capacity(txs.len());
    for (index, run) in txs {
        let (Ok(result), Some(tx)) = (&run.result, block_txs.get(*index)) else {
            return Vec::new();
        };
        slim.push(SlimTx {
            index: *index,
            used: result.tx_gas_used(),
            fee: run.fee,
            receipt: sequential::receipt(tx, result, 0),
            limits: sequential::TxLimits::of(tx),
        });
    }
    slim
}

/// Whether `own` is clean (see [`ShardOutput::clean`]) beside the shards `others`: each
/// location a transaction read is looked up by fingerprint in the others' first writes.
pub fn check(own: &ShardOutput<'_>, others: &[&ShardOutput<'_>]) -> bool {
    !own.reset_storage
        && !own.read_beneficiary
        && others.iter().all(|other| !other.reset_storage)
        && own.txs.iter().all(|(index, run)| {
            run.result.is_ok()
                && own
                    .reads
                    .get(run.reads.clone())
                    .unwrap_or_default()
                    .iter()
                    .all(|&read| {
                        others.iter().all(|other| {
                            other
                                .first_writes
                                .first_of(read)
                                .is_none_or(|writer| writer >= *index)
                        })
                    })
        })
}

/// The block-wide settings a shard runs with.
pub struct ShardEnv<'s, 'a> {
    /// The fork's rules.
    pub fork: Fork,
    /// The state at the start of the block's transactions.
    pub start: &'s BlockState<'a>,
    /// revm's configuration.
    pub cfg: &'s CfgEnv,
    /// revm's block environment.
    pub block_env: &'s BlockEnv,
    /// The block (each shard converts its own transactions to revm's form).
    pub block: &'s Block,
    /// How the shards' transactions share revm's journal.
    pub batching: Batching,
}

/// How a shard's transactions that revm runs share its journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batching {
    /// Consecutive ones share it, as revm's `transact_many` does: the fastest when the
    /// block comes out clean (`builtin:erc20` at two threads 1.19x -> 1.45-1.55x), while
    /// settling a block that is not runs every transaction of a longer batch again.
    Journal,
    /// Each one's changes leave the journal after it, with a write set of its own, so that
    /// settling keeps every run whose reads still hold: for blocks likely to conflict.
    PerTransaction,
}

/// Reads reserved per transaction of a shard.
const READS_PER_TX: usize = 4;

/// Runs the transactions `members` gives (block indexes, in block order) as one shard.
///
/// Under [`Batching::Journal`], consecutive transactions that revm runs share its journal,
/// as revm's own `transact_many` does: the accounts and slots one loaded stay loaded for the
/// next (cold again at its start), and their changes reach the shard's state in one step
/// when the batch ends, instead of one finalize, commit and write set per transaction. A
/// batch ends before a plain transfer (which reads the shard's state directly), at the end
/// of a chunk claimed from the pool and at the shard's end; under
/// [`Batching::PerTransaction`], after every transaction.
pub fn run<'a>(env: &ShardEnv<'_, 'a>, mut members: Feed<'_>) -> ShardOutput<'a> {
    let expected = members.expected();
    // Room for the accounts the shard's transactions change (a sender and a recipient or
    // callee each, as the block's own state is sized), and for their reads (most read the
    // two accounts, a few slots and the beneficiary): grown by doubling, the list is copied
    // and paged in again and again.
    let db = Recording {
        state: env.start.clone_with_room(2 * expected),
        reads: Vec::with_capacity(READS_PER_TX * expected),
        values: Vec::new(),
        keep_values: true,
        beneficiary: env.block_env.beneficiary,
        read_beneficiary: false,
        code: LocalCode::default(),
    };
    let mut evm = Context::mainnet()
        .with_db(db)
        .with_cfg(env.cfg.clone())
        .with_block(env.block_env.clone())
        .build_mainnet();
    let mut txs = Vec::with_capacity(expected);
    // A transfer writes two accounts, a token transfer an account and two slots.
    let mut first_writes = FirstWrites::with_capacity(3 * expected);
    let mut reset_storage = false;
    let mut batch: Option<Batch> = None;
    let beneficiary = env.block_env.beneficiary;
    let mut position = 0;
    while let Some(index) = members.next() {
        position += 1;
        let Some(tx) = env.block.transactions.get(index) else {
            continue;
        };
        evm.ctx.set_tx(crate::env::tx_env(tx));
        if transfer::may_be_plain(&evm.ctx.tx, beneficiary, Beneficiary::Apart) {
            if let Some(open) = batch.take() {
                reset_storage |= flush(&mut evm, env, open, &mut txs, &mut first_writes);
            }
            // Settling runs a transfer again whether its reads held or not: its values only
            // count it as re-executed or not, and a batched block, expected clean, records
            // none (two values of a hundred bytes each per transfer, kept to the block's end).
            evm.ctx.db_mut().keep_values = env.batching == Batching::PerTransaction;
        }
        let (first_read, first_value) = {
            let db = evm.ctx.db_mut();
            (db.reads.len(), db.values.len())
        };
        match transfer::effect(
            &mut evm,
            env.fork,
            Beneficiary::Apart,
            |db: &mut Recording<'_>, a, _| Ok::<_, Infallible>(db.read_account(a)),
        ) {
            Plain::Done(effect) => {
                let db = evm.ctx.db_mut();
                let first = (first_read, first_value);
                let run = run_transfer(db, effect, index, first, &mut first_writes);
                txs.push((index, run));
                continue;
            }
            Plain::Blocked(never) => match never {},
            // revm reads the accounts again.
            Plain::NotApplicable => {
                let db = evm.ctx.db_mut();
                db.reads.truncate(first_read);
                db.values.truncate(first_value);
            }
        }
        // A batch's first transaction records its values, in case the batch ends with it
        // (settling can then keep its run); from its second on, none are kept.
        evm.ctx.db_mut().keep_values = batch.is_none();
        batch.get_or_insert(Batch {
            first: index,
            first_run: txs.len(),
            first_read,
            first_value,
        });
        let mut handler = DeferredFee::default();
        // revm's handler commits the transaction into its journal, or discards it when it
        // is invalid; either way the journal is ready for the next one.
        let result = handler
            .run(&mut evm)
            .map_err(|error| sequential::tx_error(index, error));
        txs.push((
            index,
            ShardTx {
                result,
                changes: Changes::Batched,
                fee: handler.fee(),
                reads: first_read..first_read,
                values: first_value..first_value,
            },
        ));
        if env.batching == Batching::PerTransaction {
            if let Some(open) = batch.take() {
                reset_storage |= flush(&mut evm, env, open, &mut txs, &mut first_writes);
            }
        } else if members.chunk_ended() {
            // The shards' last chunks end together, and so should their work: a batch's
            // flush takes about a sixth of its run, and a shard left to flush all its chunks
            // at its end kept the other waiting.
            if let Some(open) = batch.take() {
                reset_storage |= flush(&mut evm, env, open, &mut txs, &mut first_writes);
            }
        } else if let Some(open) = &batch {
            if txs.len() - open.first_run == SIZING_SAMPLE {
                let left = members
                    .left_in_chunk()
                    .unwrap_or_else(|| expected.saturating_sub(position));
                size_journal(
                    &mut evm.ctx.journaled_state.inner.state,
                    SIZING_SAMPLE,
                    left,
                );
            }
        }
    }
    if let Some(open) = batch.take() {
        reset_storage |= flush(&mut evm, env, open, &mut txs, &mut first_writes);
    }
    let Recording {
        state,
        reads,
        values,
        read_beneficiary,
        ..
    } = evm.ctx.journaled_state.database;
    ShardOutput {
        slim: slim(&env.block.transactions, &txs),
        txs,
        reads,
        values,
        read_beneficiary,
        state,
        first_writes,
        reset_storage,
        clean: false,
    }
}

/// After how many transactions a batch sizes its journal's tables ([`size_journal`]).
const SIZING_SAMPLE: usize = 8;

/// The most entries [`size_journal`] reserves in one table.
const MAX_SIZED: usize = 1 << 14;

/// Sizes the tables of a batch's journal, `state`, after its first `done` transactions for
/// `left` more that grow them as those did: the accounts loaded so far, and each account's
/// loaded slots (a token's balances, two slots per transfer). Grown by doubling, both were
/// rehashed again and again, moving every entry: sized, `sharded:1` on `builtin:erc20` ran
/// 0.5M fewer of its 26M instructions per block and read 0.85-0.89x against 0.81-0.82x
/// (alternated), with a peak of 38 MiB against 43.
fn size_journal(state: &mut EvmState, done: usize, left: usize) {
    let grown = |len: usize| (len * (done + left) / done.max(1)).min(MAX_SIZED);
    let accounts = grown(state.len());
    state.reserve(accounts.saturating_sub(state.len()));
    for account in state.values_mut() {
        let slots = grown(account.storage.len());
        account
            .storage
            .reserve(slots.saturating_sub(account.storage.len()));
    }
}

/// Transactions run by revm one after another on one journal, whose changes are not yet in
/// the shard's state.
struct Batch {
    /// The block index of its first transaction.
    first: usize,
    /// Where its first transaction is in the shard's runs.
    first_run: usize,
    /// Where its reads start in the shard's reads, and their values in the shard's values.
    first_read: usize,
    first_value: usize,
}

/// Ends `batch`: its changes, taken from revm's journal, go into the shard's state and its
/// written locations into `first_writes`. Returns whether it reset an account's storage.
///
/// A batch of one transaction keeps its exact reads, their values and its writes, so that
/// settling one by one can keep its run. A longer batch's transactions are checked as a whole, never wrongly
/// clean: every value they read from outside the journal is one of the batch's reads (the
/// journal starts empty), and those are all given to its last transaction, so that they
/// count as read after every transaction of the batch; every location they wrote counts as
/// written by its first. Settling runs them again ([`Changes::Batched`]).
fn flush(
    evm: &mut MainnetEvm<MainnetContext<Recording<'_>>>,
    env: &ShardEnv<'_, '_>,
    batch: Batch,
    txs: &mut [(usize, ShardTx)],
    first_writes: &mut FirstWrites,
) -> bool {
    let mut changes = evm.finalize();
    let db = evm.ctx.db_mut();
    // The shard's state without the fees (a kept write set with its fee, below), and the
    // locations written, found by comparing with the shard's state, not by revm's original
    // values: over a batch, revm resets a slot's original value to its present one whenever
    // a later transaction warms it.
    let reset = db.state.commit_reporting(env.fork, &changes, |location| {
        first_writes.record(&location, batch.first);
    });
    let end = db.reads.len();
    let runs = txs.get_mut(batch.first_run..).unwrap_or_default();
    // Only a run that settling can keep needs the values it read; and it is kept only with
    // the value of every read (settling checks the values it finds).
    let mut kept_values = false;
    let every_value = db.values.len().saturating_sub(batch.first_value) == end - batch.first_read;
    if let [(_, run)] = runs {
        if run.result.is_ok() && every_value {
            run.values = batch.first_value..db.values.len();
            kept_values = true;
            let beneficiary = env.block_env.beneficiary;
            let paid = beneficiary::pay_into_changes(&mut changes, beneficiary, run.fee);
            let lazy_fee = (!paid).then_some(run.fee);
            let no_reads = vm::AccountsRead::default();
            run.changes = Changes::Writes(vm::write_set(
                env.fork,
                beneficiary,
                &changes,
                &no_reads,
                lazy_fee,
                false,
            ));
        }
    }
    if !kept_values {
        db.values.truncate(batch.first_value);
    }
    if let Some((_, last)) = runs.last_mut() {
        last.reads = batch.first_read..end;
    }
    vm::give_back(&mut evm.ctx.journaled_state, changes);
    reset
}

/// Applies a plain transfer's `effect` to the shard's state as transaction `index` (whose
/// reads and their values start at `first`), with its writes in `first_writes`.
fn run_transfer(
    db: &mut Recording<'_>,
    effect: transfer::Effect,
    index: usize,
    (first_read, first_value): (usize, usize),
    first_writes: &mut FirstWrites,
) -> ShardTx {
    let transfer::Effect {
        sender,
        recipient,
        fee,
        result,
    } = effect;
    // Both accounts change: the sender's nonce, the recipient's balance (by a non-zero value).
    for (address, info) in std::iter::once(sender).chain(recipient) {
        first_writes.record(&Location::Account(address), index);
        db.state.set_info(address, Some(info));
    }
    ShardTx {
        result: Ok(result),
        changes: Changes::Transfer,
        fee,
        reads: first_read..db.reads.len(),
        values: first_value..db.values.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_spec::types::{Account, BlockEnv as SpecBlockEnv, WorldState};
    use revm::state::TransactionId;
    use revm::state::{Account as RevmAccount, EvmStorageSlot};

    #[test]
    fn a_slot_changed_over_a_batch_is_written_though_revm_rebased_its_original_value() {
        let contract = Address::with_last_byte(0xcc);
        let mut world = WorldState::default();
        let account = Account {
            nonce: 1,
            ..Default::default()
        };
        world.accounts.insert(contract, account);
        let pre = crate::state::PreState::new(&world, &SpecBlockEnv::default());
        let state = BlockState::new(&pre);
        // Slot 1 went 0 -> 5 in the batch's first transaction; a later one warmed it again,
        // so revm's original value is 5 too. Slot 2 was only read.
        let mut account = RevmAccount::from(state.info(&contract).cloned().unwrap_or_default());
        account.mark_touch();
        let slot = |original: u64, present: u64| {
            EvmStorageSlot::new_changed(
                U256::from(original),
                U256::from(present),
                TransactionId::ZERO,
            )
        };
        account.storage.insert(U256::from(1), slot(5, 5));
        account.storage.insert(U256::from(2), slot(0, 0));
        let changes: EvmState = [(contract, account)].into_iter().collect();
        let mut first_writes = FirstWrites::default();
        let mut state = state;
        let reset = state.commit_reporting(Fork::Cancun, &changes, |location| {
            first_writes.record(&location, 7)
        });
        assert!(!reset);
        assert_eq!(state.storage(&contract, &U256::from(1)), U256::from(5));
        assert_eq!(
            first_writes.first(&Location::Storage(contract, U256::from(1))),
            Some(7)
        );
        assert_eq!(
            first_writes.first(&Location::Storage(contract, U256::from(2))),
            None
        );
        // The account itself is as it was: touched, not written.
        assert_eq!(first_writes.first(&Location::Account(contract)), None);
    }
}

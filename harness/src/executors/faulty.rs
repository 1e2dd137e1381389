//! Deliberately broken executors for the tests of `lockstep gen` (feature `faults`).
//!
//! `revm+DropLastSlotWrite` is sequential revm, except that a transaction's last write (in slot
//! order) to a storage slot that a later transaction of the block reads is dropped, the way a
//! parallel executor that loses a write in its multi-version memory would behave. Blocks in
//! which no later transaction reads a written slot run correctly, so only a generator that
//! makes transactions conflict can catch it.
//!
//! `revm+FeesOutOfOrder` is sequential revm that credits each transaction's priority fee to the
//! beneficiary only after the next transaction has run (lazy beneficiary payments applied out
//! of order): the final state is right, but a transaction reading the beneficiary's balance
//! mid-block sees too little.
//!
//! `revm+HangOnInvalid` is sequential revm that never returns when a transaction after the
//! first is invalid (a bug seen in the field), for the watchdog's tests.

use super::BlockExecutor;
use alloy_primitives::{Address, U256};
use lockstep_executor::executed::Executed;
use lockstep_executor::state::{BlockState, OwnedState, PreState};
use lockstep_executor::{block_end, env, sequential};
use lockstep_spec::types::{Block, BlockError, BlockOutcome, ExecStats, Transaction, WorldState};
use lockstep_spec::Fork;
use revm::context::{Context, ContextTr};
use revm::database_interface::WrapDatabaseRef;
use revm::state::EvmState;
use revm::{ExecuteEvm, MainBuilder, MainContext};
use std::collections::BTreeSet;

/// The executor that drops writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct DropLastSlotWrite;

/// Its name on the command line.
pub const DROP_LAST_SLOT_WRITE: &str = "revm+DropLastSlotWrite";

/// The executor that hangs on invalid transactions past the first.
#[derive(Clone, Copy, Debug, Default)]
pub struct HangOnInvalid;

/// Its name on the command line.
pub const HANG_ON_INVALID: &str = "revm+HangOnInvalid";

impl BlockExecutor for HangOnInvalid {
    fn name(&self) -> &str {
        HANG_ON_INVALID
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
        let result = sequential::execute_block(fork, pre, block);
        if result.as_ref().err().and_then(BlockError::tx_index) > Some(0) {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
        result
    }
}

/// A storage slot of an account.
type Slot = (Address, U256);
/// A set of storage slots.
type Slots = BTreeSet<Slot>;

/// What a broken executor changes in sequential execution.
trait Tamper {
    /// Alters the changes of transaction `index` (which used `gas_used`) before their commit.
    fn before_commit(
        &mut self,
        index: usize,
        tx: &Transaction,
        gas_used: u64,
        changes: &mut EvmState,
    );
    /// Alters the state once transaction `index` is committed, and once more after the last
    /// one (with `index` equal to the number of transactions).
    fn after_commit(&mut self, _index: usize, _state: &mut BlockState<'_>) {}
}

/// Slots a transaction's state changes hold: those it accessed, and those it changed.
fn slots(changes: &EvmState) -> (Slots, Slots) {
    let mut accessed = BTreeSet::new();
    let mut written = BTreeSet::new();
    for (address, account) in changes {
        for (slot, value) in &account.storage {
            accessed.insert((*address, *slot));
            if value.is_changed() {
                written.insert((*address, *slot));
            }
        }
    }
    (accessed, written)
}

/// Runs the block like `sequential::execute`, with `tamper` altering it.
fn run<'a>(
    fork: Fork,
    pre: &'a PreState,
    block: &Block,
    tamper: &mut dyn Tamper,
) -> Result<Executed<'a>, BlockError> {
    let spec = env::spec_id(fork).ok_or_else(|| BlockError::Block {
        rule: lockstep_spec::types::BlockRule::Other,
        message: sequential::unsupported(fork).unwrap_or_default(),
    })?;
    let mut state = BlockState::new(pre);
    block_end::pre_block(fork, &mut state, block)?;
    let mut evm = Context::mainnet()
        .with_db(OwnedState::from(state))
        .with_cfg(env::cfg_env(spec, fork, block))
        .with_block(env::block_env(fork, block))
        .build_mainnet();
    let (mut receipts, mut gas_used) = (Vec::new(), Vec::new());
    let (mut cumulative, mut blob_gas_used) = (0u64, 0u64);
    for (index, tx) in block.transactions.iter().enumerate() {
        sequential::check_block_limits(fork, block, index, tx, cumulative, blob_gas_used)?;
        let mut result = evm
            .transact(env::tx_env(tx))
            .map_err(|e| sequential::tx_error(index, e))?;
        let used = result.result.tx_gas_used();
        cumulative += used;
        blob_gas_used += tx.blob_versioned_hashes.len() as u64 * sequential::GAS_PER_BLOB;
        receipts.push(sequential::receipt(tx, &result.result, cumulative));
        gas_used.push(used);
        tamper.before_commit(index, tx, used, &mut result.state);
        evm.ctx.db_mut().0.commit(fork, result.state);
        tamper.after_commit(index, &mut evm.ctx.db_mut().0);
    }
    let WrapDatabaseRef(mut state) = evm.ctx.journaled_state.database;
    tamper.after_commit(block.transactions.len(), &mut state);
    let requests = block_end::post_block(fork, &mut state, block, &receipts)?;
    let stats = ExecStats {
        incarnations: block.transactions.len() as u64,
        ..Default::default()
    };
    Ok(Executed {
        state,
        receipts,
        gas_used,
        blob_gas_used,
        requests,
        stats,
    })
}

/// Records the slots each transaction accessed, changing nothing.
#[derive(Default)]
struct RecordAccesses(Vec<Slots>);

impl Tamper for RecordAccesses {
    fn before_commit(&mut self, _: usize, _: &Transaction, _: u64, changes: &mut EvmState) {
        self.0.push(slots(changes).0);
    }
}

/// Drops a transaction's last write to a slot that a later transaction accessed.
struct DropWrites(Vec<Slots>);

impl Tamper for DropWrites {
    fn before_commit(&mut self, index: usize, _: &Transaction, _: u64, changes: &mut EvmState) {
        let written = slots(changes).1;
        let later_read = |w: &&Slot| self.0.iter().skip(index + 1).any(|later| later.contains(w));
        let Some((address, slot)) = written.iter().rev().find(later_read).copied() else {
            return;
        };
        // The write is lost: the slot keeps the value it had before the transaction.
        if let Some(value) = changes
            .get_mut(&address)
            .and_then(|account| account.storage.get_mut(&slot))
        {
            value.present_value = value.original_value;
        }
    }
}

impl BlockExecutor for DropLastSlotWrite {
    fn name(&self) -> &str {
        DROP_LAST_SLOT_WRITE
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
        let prepared = PreState::new(pre, &block.env);
        // First pass, correct: which slots each transaction reads.
        let mut record = RecordAccesses::default();
        run(fork, &prepared, block, &mut record)?;
        // Second pass: drop the last write of a transaction to a slot a later one reads.
        run(fork, &prepared, block, &mut DropWrites(record.0)).map(Executed::into_outcome)
    }
}

/// The executor that pays the beneficiary late.
#[derive(Clone, Copy, Debug, Default)]
pub struct FeesOutOfOrder;

/// Its name on the command line.
pub const FEES_OUT_OF_ORDER: &str = "revm+FeesOutOfOrder";

/// Holds back each transaction's priority fee from the beneficiary until the next transaction
/// has run, so a transaction that reads the beneficiary's balance misses the fee just before.
struct LateFees {
    fork: Fork,
    beneficiary: Address,
    base_fee: u128,
    /// Fee of the transaction just committed, not yet credited.
    held: U256,
    /// Fee of the one before, credited after the current one.
    due: U256,
}

impl Tamper for LateFees {
    fn before_commit(&mut self, _: usize, tx: &Transaction, gas_used: u64, changes: &mut EvmState) {
        let cap_tip = tx.gas_price.saturating_sub(self.base_fee);
        let tip = tx
            .max_priority_fee_per_gas
            .map_or(cap_tip, |t| t.min(cap_tip));
        let fee = U256::from(tip) * U256::from(gas_used);
        if let Some(account) = changes.get_mut(&self.beneficiary) {
            if account.info.balance >= fee {
                account.info.balance -= fee;
                self.held = fee;
            }
        }
    }

    fn after_commit(&mut self, _: usize, state: &mut BlockState<'_>) {
        let due = std::mem::replace(&mut self.due, std::mem::take(&mut self.held));
        if !due.is_zero() {
            state.credit(self.fork, self.beneficiary, due);
        }
    }
}

impl BlockExecutor for FeesOutOfOrder {
    fn name(&self) -> &str {
        FEES_OUT_OF_ORDER
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
        let prepared = PreState::new(pre, &block.env);
        let mut late = LateFees {
            fork,
            beneficiary: block.env.beneficiary,
            base_fee: u128::from(block.env.base_fee.unwrap_or_default()),
            held: U256::ZERO,
            due: U256::ZERO,
        };
        run(fork, &prepared, block, &mut late).map(Executed::into_outcome)
    }
}

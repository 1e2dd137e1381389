//! Deliberately broken executors for the tests of `lockstep gen` (feature `faults`).
//!
//! `revm+DropLastSlotWrite` is sequential revm, except that a transaction's last write (in slot
//! order) to a storage slot that a later transaction of the block reads is dropped, the way a
//! parallel executor that loses a write in its multi-version memory would behave. Blocks in
//! which no later transaction reads a written slot run correctly, so only a generator that
//! makes transactions conflict can catch it.
//!
//! `revm+HangOnInvalid` is sequential revm that never returns when a transaction after the
//! first is invalid (a bug seen in the field), for the watchdog's tests.

use super::BlockExecutor;
use alloy_primitives::{Address, U256};
use lockstep_executor::executed::Executed;
use lockstep_executor::state::{BlockState, OwnedState, PreState};
use lockstep_executor::{block_end, env, sequential};
use lockstep_spec::types::{Block, BlockError, BlockOutcome, ExecStats, WorldState};
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
/// Picks, for a transaction (by index) and the slots it wrote, the write to drop.
type DropChoice<'d> = &'d dyn Fn(usize, &Slots) -> Option<Slot>;

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

/// Runs the block like `sequential::execute`; `drop` picks, per transaction, a slot write
/// to leave out of the commit. Returns the execution and each transaction's accessed slots.
fn run<'a>(
    fork: Fork,
    pre: &'a PreState,
    block: &Block,
    drop: DropChoice<'_>,
) -> Result<(Executed<'a>, Vec<Slots>), BlockError> {
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
    let (mut receipts, mut gas_used, mut accessed_by) = (Vec::new(), Vec::new(), Vec::new());
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
        let (accessed, written) = slots(&result.state);
        if let Some((address, slot)) = drop(index, &written) {
            // The write is lost: the slot keeps the value it had before the transaction.
            if let Some(account) = result.state.get_mut(&address) {
                if let Some(value) = account.storage.get_mut(&slot) {
                    value.present_value = value.original_value;
                }
            }
        }
        accessed_by.push(accessed);
        evm.ctx.db_mut().0.commit(fork, result.state);
    }
    let WrapDatabaseRef(mut state) = evm.ctx.journaled_state.database;
    let requests = block_end::post_block(fork, &mut state, block, &receipts)?;
    let stats = ExecStats {
        incarnations: block.transactions.len() as u64,
        ..Default::default()
    };
    Ok((
        Executed {
            state,
            receipts,
            gas_used,
            blob_gas_used,
            requests,
            stats,
        },
        accessed_by,
    ))
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
        let (_, accessed) = run(fork, &prepared, block, &|_, _| None)?;
        // Second pass: drop the last write of a transaction to a slot a later one reads.
        let drop = |index: usize, written: &Slots| {
            written
                .iter()
                .rev()
                .find(|w| {
                    accessed
                        .iter()
                        .skip(index + 1)
                        .any(|later| later.contains(w))
                })
                .copied()
        };
        run(fork, &prepared, block, &drop).map(|(executed, _)| executed.into_outcome())
    }
}

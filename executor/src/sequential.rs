//! Sequential block execution over revm: the industry baseline every other executor is
//! compared with, and the fallback of the parallel executor.

use crate::block_end;
use crate::collision::CollisionAware;
use crate::env;
use crate::executed::Executed;
use crate::state::{BlockState, OwnedState, PreState};
use crate::transfer::{self, Beneficiary, Plain};
use alloy_primitives::Address;
use lockstep_spec::types::{
    Block, BlockError, BlockOutcome, ExecStats, Log, Receipt, Transaction, TxRule, WorldState,
};
use lockstep_spec::Fork;
use revm::context::result::{EVMError, ExecutionResult};
use revm::context::{BlockEnv, CfgEnv, Context};
use revm::context::{ContextSetters, ContextTr};
use revm::database_interface::{Database, WrapDatabaseRef};
use revm::handler::{Handler, MainnetContext, MainnetEvm};
use revm::primitives::TxKind;
use revm::{ExecuteEvm, MainBuilder, MainContext};

/// Gas per blob (EIP-4844).
pub const GAS_PER_BLOB: u64 = 1 << 17;

/// Why revm cannot run a fork at all (the case is skipped with this reason).
pub fn unsupported(fork: Fork) -> Option<String> {
    match env::spec_id(fork) {
        None => Some(format!("revm 43 has no rules for fork {fork}")),
        Some(_) => None,
    }
}

/// Block-level checks on a transaction before it runs: it must fit in the gas (and blob gas)
/// left in the block.
pub fn check_block_limits(
    fork: Fork,
    block: &Block,
    index: usize,
    tx: &Transaction,
    gas_used: u64,
    blob_gas_used: u64,
) -> Result<(), BlockError> {
    let limits = TxLimits::of(tx);
    check_limits(fork, block, index, limits, gas_used, blob_gas_used)
}

/// What the block's limits look at of a transaction: its gas limit and its blob count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLimits {
    /// The transaction's gas limit.
    pub gas_limit: u64,
    /// How many blobs it carries.
    pub blobs: u64,
}

impl TxLimits {
    /// The limits `tx` is checked on.
    pub fn of(tx: &Transaction) -> Self {
        TxLimits {
            gas_limit: tx.gas_limit,
            blobs: tx.blob_versioned_hashes.len() as u64,
        }
    }
}

/// [`check_block_limits`] on a transaction's [`TxLimits`], read beforehand: a pass over the
/// block that only checks its limits need not fetch every transaction again (two cache
/// lines apiece).
pub fn check_limits(
    fork: Fork,
    block: &Block,
    index: usize,
    tx: TxLimits,
    gas_used: u64,
    blob_gas_used: u64,
) -> Result<(), BlockError> {
    let gas_left = block.env.gas_limit.saturating_sub(gas_used);
    if tx.gas_limit > gas_left {
        return Err(BlockError::Transaction {
            index,
            rule: TxRule::GasLimitReached,
            message: format!(
                "gas limit {} exceeds gas left in block {gas_left}",
                tx.gas_limit
            ),
        });
    }
    if block.full_block {
        if let Some(schedule) = env::blob_schedule(fork, block) {
            let tx_blob_gas = tx.blobs * GAS_PER_BLOB;
            let max = schedule.max * GAS_PER_BLOB;
            if blob_gas_used + tx_blob_gas > max {
                return Err(BlockError::Transaction {
                    index,
                    rule: TxRule::BlobRules,
                    message: format!(
                        "blob gas {} over the block maximum {max}",
                        blob_gas_used + tx_blob_gas
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The receipt fields of an execution result.
pub fn receipt(tx: &Transaction, result: &ExecutionResult, cumulative_gas_used: u64) -> Receipt {
    Receipt {
        tx_type: tx.tx_type,
        success: result.is_success(),
        post_state: None,
        cumulative_gas_used,
        logs: result
            .logs()
            .iter()
            .map(|log| Log {
                address: log.address,
                topics: log.topics().to_vec(),
                data: log.data.data.clone(),
            })
            .collect(),
    }
}

/// Maps revm's error for transaction `index` to a [`BlockError`].
pub fn tx_error<E: std::fmt::Display>(index: usize, error: EVMError<E>) -> BlockError {
    match error {
        EVMError::Transaction(invalid) => BlockError::Transaction {
            index,
            rule: env::tx_rule(&invalid),
            message: invalid.to_string(),
        },
        other => BlockError::Transaction {
            index,
            rule: TxRule::Other,
            message: other.to_string(),
        },
    }
}

/// Executes `block` on `pre` one transaction after another.
pub fn execute_block(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
) -> Result<BlockOutcome, BlockError> {
    let pre = PreState::new(pre, &block.env);
    execute(fork, &pre, block).map(Executed::into_outcome)
}

/// How a sequential run executes plain value transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfers {
    /// Through revm's handler, like every other transaction: the baseline, revm alone.
    Revm,
    /// Without revm where the transaction is certainly a valid plain transfer
    /// ([`crate::transfer`]): its effect is fixed, and revm's handler, journal and frame cost
    /// several times more than applying it. Anything else still runs through revm.
    Direct,
}

/// How a run applies plain transfers ([`Transfers`]), with what it learnt on the way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TransferPath {
    direct: bool,
    /// The callee last found to hold code: a block that calls one contract again and again
    /// without data (a counter) looks it up once. Only a hint: a transaction to an account
    /// whose code has gone since runs through revm, as any transaction may.
    code_at: Option<Address>,
}

impl From<Transfers> for TransferPath {
    fn from(transfers: Transfers) -> Self {
        TransferPath {
            direct: transfers == Transfers::Direct,
            code_at: None,
        }
    }
}

/// revm over the block's state, as a sequential run (and the sharded executor's settlement)
/// holds it.
pub(crate) type StateEvm<'a> = MainnetEvm<MainnetContext<OwnedState<'a>>>;

/// A revm instance over `state` with the configuration `cfg` and the block environment
/// `block_env`.
pub(crate) fn state_evm(state: BlockState<'_>, cfg: CfgEnv, block_env: BlockEnv) -> StateEvm<'_> {
    Context::mainnet()
        .with_db(OwnedState::from(state))
        .with_cfg(cfg)
        .with_block(block_env)
        .build_mainnet()
}

/// Runs transaction `index`, `tx`, against the block's state that `evm` holds and commits
/// its changes there (the beneficiary's fee included); returns its result, or the error that
/// makes the transaction, and so the block, invalid.
pub(crate) fn run_and_commit(
    evm: &mut StateEvm<'_>,
    fork: Fork,
    index: usize,
    tx: &Transaction,
    transfers: &mut TransferPath,
) -> Result<ExecutionResult, BlockError> {
    evm.ctx.set_tx(env::tx_env(tx));
    // A plain transfer has no call data: anything else skips the fast path's checks.
    if transfers.direct && tx.input.is_empty() {
        if let Some(result) = apply_plain_transfer(evm, fork, &mut transfers.code_at) {
            return Ok(result);
        }
    }
    let output = CollisionAware::default().run(evm);
    // Clears the journal for the next transaction, on success and on error alike.
    let changes = evm.finalize();
    let result = output.map_err(|e| tx_error(index, e))?;
    evm.ctx.db_mut().0.commit(fork, changes);
    Ok(result)
}

/// Applies the transaction set in `evm`'s context to the block's state it holds if it is a
/// plain transfer ([`crate::transfer`]); returns its result, or `None` (nothing done) for
/// revm to run it. Kept out of line, so that the frame of every transaction revm runs does
/// not carry the fast path's large values.
#[inline(never)]
fn apply_plain_transfer(
    evm: &mut StateEvm<'_>,
    fork: Fork,
    code_at: &mut Option<Address>,
) -> Option<ExecutionResult> {
    // A call of code without data (a counter's increment) is not a plain transfer: its code,
    // looked up first (or known from a transaction before), spares the fast path's checks
    // and both accounts' copies (measured: without the lookup, a block of 2,000 such calls
    // ran 8% slower than revm alone).
    if let TxKind::Call(to) = evm.ctx.tx.kind {
        if *code_at == Some(to) {
            return None;
        }
        let has_code = evm
            .ctx
            .db_mut()
            .0
            .info(&to)
            .is_some_and(|i| !i.is_empty_code_hash());
        if has_code {
            *code_at = Some(to);
            return None;
        }
    }
    let read = |db: &mut OwnedState<'_>, address, _| db.basic(address);
    match transfer::effect(evm, fork, Beneficiary::InOrder, read) {
        Plain::Done(effect) => {
            let beneficiary = evm.ctx.block.beneficiary;
            let state = &mut evm.ctx.db_mut().0;
            for (address, info) in std::iter::once(effect.sender).chain(effect.recipient) {
                state.set_info(address, Some(info));
            }
            state.credit(fork, beneficiary, effect.fee);
            Some(effect.result)
        }
        Plain::Blocked(never) => match never {},
        Plain::NotApplicable => None,
    }
}

/// Executes `block` on the prepared pre-state `pre` one transaction after another, reusing
/// one EVM for the whole block as a client would: revm alone, the baseline.
pub fn execute<'a>(
    fork: Fork,
    pre: &'a PreState,
    block: &Block,
) -> Result<Executed<'a>, BlockError> {
    execute_with(fork, pre, block, Transfers::Revm)
}

/// [`execute`] with plain transfers run as `transfers` says.
pub fn execute_with<'a>(
    fork: Fork,
    pre: &'a PreState,
    block: &Block,
    transfers: Transfers,
) -> Result<Executed<'a>, BlockError> {
    let spec = env::spec_id(fork).ok_or_else(|| BlockError::Block {
        rule: lockstep_spec::types::BlockRule::Other,
        message: unsupported(fork).unwrap_or_default(),
    })?;
    // About two accounts change per transaction (sender and recipient).
    let mut state = BlockState::with_capacity(pre, 2 * block.transactions.len() + 16);
    block_end::pre_block(fork, &mut state, block)?;

    let mut evm = state_evm(
        state,
        env::cfg_env(spec, fork, block),
        env::block_env(fork, block),
    );
    let mut transfers = TransferPath::from(transfers);
    let mut receipts = Vec::with_capacity(block.transactions.len());
    let mut gas_used = Vec::with_capacity(block.transactions.len());
    let mut cumulative = 0u64;
    let mut blob_gas_used = 0u64;
    for (index, tx) in block.transactions.iter().enumerate() {
        check_block_limits(fork, block, index, tx, cumulative, blob_gas_used)?;
        let result = run_and_commit(&mut evm, fork, index, tx, &mut transfers)?;
        let used = result.tx_gas_used();
        cumulative += used;
        blob_gas_used += tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB;
        receipts.push(receipt(tx, &result, cumulative));
        gas_used.push(used);
    }
    let WrapDatabaseRef(mut state) = evm.ctx.journaled_state.database;

    let requests = block_end::post_block(fork, &mut state, block, &receipts)?;
    Ok(Executed {
        state,
        receipts,
        gas_used,
        blob_gas_used,
        requests,
        stats: ExecStats {
            incarnations: block.transactions.len() as u64,
            ..Default::default()
        },
    })
}

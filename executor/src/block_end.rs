//! What a block does around its transactions: the system calls before them (EIP-4788,
//! EIP-2935) and the rewards and withdrawals after them. Shared by every revm-based executor.

use crate::env;
use crate::requests;
use crate::state::{BlockState, StateReader};
use alloy_primitives::{address, Address, Bytes, U256};
use lockstep_spec::types::{Block, BlockError, BlockRule, Receipt};
use lockstep_spec::Fork;
use revm::context::result::ExecutionResult;
use revm::context::{Context, TxEnv};
use revm::handler::SystemCallEvm;
use revm::{MainBuilder, MainContext};

/// EIP-4788 beacon roots contract.
pub const BEACON_ROOTS_ADDRESS: Address = address!("000F3df6D732807Ef1319fB7B8bB8522d0Beac02");
/// EIP-2935 block hash history contract.
pub const HISTORY_STORAGE_ADDRESS: Address = address!("0000F90827F1C53a10cb7A02335B175320002935");
/// The caller of system calls (EIP-4788).
pub const SYSTEM_ADDRESS: Address = address!("fffffffffffffffffffffffffffffffffffffffe");

const ETHER: u64 = 1_000_000_000_000_000_000;

/// The proof-of-work block reward of `fork`: 5 ether, 3 from Byzantium (EIP-649), 2 from
/// Constantinople (EIP-1234), none from Paris (EIP-3675).
pub fn block_reward(fork: Fork) -> U256 {
    let ether = U256::from(ETHER);
    if fork >= Fork::Paris {
        U256::ZERO
    } else if fork >= Fork::Constantinople {
        ether * U256::from(2)
    } else if fork >= Fork::Byzantium {
        ether * U256::from(3)
    } else {
        ether * U256::from(5)
    }
}

/// Runs one system call, committing its changes (the system address itself is never
/// touched). Returns `None` when the contract has no code (nothing runs), else the call's
/// result.
fn system_call(
    fork: Fork,
    state: &mut BlockState<'_>,
    block: &Block,
    to: Address,
    data: Bytes,
) -> Result<Option<ExecutionResult>, BlockError> {
    let Some(spec) = env::spec_id(fork) else {
        return Ok(None);
    };
    let has_code = state
        .info(&to)
        .and_then(|info| info.code.as_ref())
        .is_some_and(|c| !c.is_empty());
    if !has_code {
        return Ok(None);
    }
    let outcome = {
        let mut evm = Context::mainnet()
            .with_db(StateReader::from(&*state))
            .with_cfg(env::cfg_env(spec, fork, block))
            .with_block(env::block_env(fork, block))
            .with_tx(TxEnv::default())
            .build_mainnet();
        evm.system_call_with_caller(SYSTEM_ADDRESS, to, data)
            .map_err(|e| BlockError::Block {
                rule: BlockRule::Other,
                message: format!("system call to {to} failed: {e}"),
            })?
    };
    let changes = outcome
        .state
        .into_iter()
        .filter(|(address, _)| *address != SYSTEM_ADDRESS)
        .collect();
    state.commit(fork, changes);
    Ok(Some(outcome.result))
}

/// The system calls that precede a block's transactions.
pub fn pre_block(fork: Fork, state: &mut BlockState<'_>, block: &Block) -> Result<(), BlockError> {
    if !block.full_block {
        return Ok(());
    }
    // EIP-779: at the DAO fork block, the DAO accounts' balances move to the recovery contract.
    if block.dao_transition {
        for account in lockstep_spec::dao::DAO_ACCOUNTS {
            let balance = state.take_balance(&account);
            state.credit(fork, lockstep_spec::dao::DAO_RECOVERY, balance);
        }
    }
    // EIP-4788: store the parent beacon block root.
    if fork >= Fork::Cancun {
        if let Some(root) = block.env.parent_beacon_block_root {
            system_call(
                fork,
                state,
                block,
                BEACON_ROOTS_ADDRESS,
                Bytes::copy_from_slice(root.as_slice()),
            )?;
        }
    }
    // EIP-2935: store the parent block hash.
    if fork >= Fork::Prague && block.env.number > 0 {
        if let Some(parent) = block.env.block_hashes.get(&(block.env.number - 1)) {
            system_call(
                fork,
                state,
                block,
                HISTORY_STORAGE_ADDRESS,
                Bytes::copy_from_slice(parent.as_slice()),
            )?;
        }
    }
    Ok(())
}

/// EIP-7002 withdrawal request contract.
pub const WITHDRAWAL_REQUEST_ADDRESS: Address =
    address!("00000961Ef480Eb55e80D19ad83579A64c007002");
/// The gas a request system call may spend (EIP-7002, EIP-7251).
pub const REQUEST_SYSTEM_CALL_GAS: u64 = 30_000_000;
/// EIP-7251 consolidation request contract.
pub const CONSOLIDATION_REQUEST_ADDRESS: Address =
    address!("0000BBdDc7CE488642fb579F8B00f3a590007251");

/// The system calls that follow a block's transactions (Prague on): EIP-7002 and EIP-7251
/// dequeue their requests, which are the calls' outputs. Either contract missing its code, or
/// either call failing, makes the block invalid.
fn request_system_calls(
    fork: Fork,
    state: &mut BlockState<'_>,
    block: &Block,
) -> Result<[Vec<u8>; 2], BlockError> {
    let mut outputs = [Vec::new(), Vec::new()];
    for (slot, (contract, eip)) in outputs.iter_mut().zip([
        (WITHDRAWAL_REQUEST_ADDRESS, "EIP-7002"),
        (CONSOLIDATION_REQUEST_ADDRESS, "EIP-7251"),
    ]) {
        let failed = |why: String| BlockError::Block {
            rule: BlockRule::SystemCall,
            message: format!("{eip} system call to {contract}: {why}"),
        };
        match system_call(fork, state, block, contract, Bytes::new())? {
            None => return Err(failed("the contract has no code".into())),
            // revm 43 gives system calls more gas than the EIPs' 30,000,000, so a call can
            // succeed in revm that runs out of gas by the EIPs: such a call failed.
            Some(ExecutionResult::Success { gas, .. })
                if gas.total_gas_spent() > REQUEST_SYSTEM_CALL_GAS =>
            {
                return Err(failed(format!(
                    "the call spent {} gas, over the limit of {REQUEST_SYSTEM_CALL_GAS}",
                    gas.total_gas_spent()
                )));
            }
            Some(ExecutionResult::Success { output, .. }) => *slot = output.into_data().to_vec(),
            Some(other) => return Err(failed(format!("the call did not succeed: {other:?}"))),
        }
    }
    Ok(outputs)
}

/// What follows a block's transactions: rewards, withdrawals, then (Prague on) the requests
/// (EIP-7685): deposits from the receipts' logs and the request system calls. Returns the
/// block's request list.
pub fn post_block(
    fork: Fork,
    state: &mut BlockState<'_>,
    block: &Block,
    receipts: &[Receipt],
) -> Result<Vec<Bytes>, BlockError> {
    if !block.full_block {
        return Ok(Vec::new());
    }
    let reward = block_reward(fork);
    if !reward.is_zero() {
        let number = block.env.number;
        let mut beneficiary_reward = reward;
        for ommer in &block.ommers {
            // The miner of an ommer at depth d gets (8 - d) / 8 of the reward; the block's
            // beneficiary gets 1/32 per ommer included (Yellow Paper, eq. 172-174).
            beneficiary_reward += reward / U256::from(32);
            if let Some(miner) = ommer.beneficiary {
                let depth = number.saturating_sub(ommer.number);
                let share = reward * U256::from(8u64.saturating_sub(depth)) / U256::from(8);
                state.credit(fork, miner, share);
            }
        }
        state.credit(fork, block.env.beneficiary, beneficiary_reward);
    }
    // EIP-4895: withdrawals credit gwei amounts after the transactions.
    for withdrawal in &block.withdrawals {
        let wei = U256::from(withdrawal.amount_gwei) * U256::from(1_000_000_000u64);
        state.credit(fork, withdrawal.address, wei);
    }
    if fork < Fork::Prague {
        return Ok(Vec::new());
    }
    let deposits = requests::deposits(receipts)?;
    let [withdrawals, consolidations] = request_system_calls(fork, state, block)?;
    Ok(requests::request_list([
        (requests::DEPOSIT_REQUEST_TYPE, deposits),
        (requests::WITHDRAWAL_REQUEST_TYPE, withdrawals),
        (requests::CONSOLIDATION_REQUEST_TYPE, consolidations),
    ]))
}

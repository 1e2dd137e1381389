//! System calls: messages from the system address to a system contract, outside any
//! transaction, that a block makes before or after its transactions. They pay no gas, move no
//! value and are not part of the block's gas used.
//!
//! Before the transactions: EIP-4788 (Cancun) stores the parent beacon block root and
//! EIP-2935 (Prague) the parent block hash; a contract without code is skipped. After the
//! transactions, the request contracts of EIP-7002 and EIP-7251 (see [`crate::requests`]) must
//! have code and must not fail.

use crate::types::Block;
use crate::vm::message::{self, Message};
use crate::vm::{CallOutcome, Evm, TxContext};
use crate::Fork;
use alloy_primitives::{address, Address, Bytes, U256};

/// EIP-4788 beacon roots contract.
pub const BEACON_ROOTS_ADDRESS: Address = address!("000F3df6D732807Ef1319fB7B8bB8522d0Beac02");
/// EIP-2935 block hash history contract.
pub const HISTORY_STORAGE_ADDRESS: Address = address!("0000F90827F1C53a10cb7A02335B175320002935");
/// The caller of system calls (EIP-4788).
pub const SYSTEM_ADDRESS: Address = address!("fffffffffffffffffffffffffffffffffffffffe");
/// Gas of a system call (EIP-4788).
pub const SYSTEM_CALL_GAS: u64 = 30_000_000;

/// Calls `target` from the system address with `data`, keeping its changes; `None` when the
/// target has no code (nothing runs).
pub fn call(evm: &mut Evm, target: Address, data: Bytes) -> Option<CallOutcome> {
    let code = evm.state.code(&target);
    if code.is_empty() {
        return None;
    }
    evm.tx = TxContext {
        origin: SYSTEM_ADDRESS,
        gas_price: U256::ZERO,
        blob_hashes: Vec::new(),
    };
    let message = Message {
        caller: SYSTEM_ADDRESS,
        target,
        code_address: target,
        value: U256::ZERO,
        should_transfer_value: false,
        data,
        code,
        gas: SYSTEM_CALL_GAS,
        depth: 0,
        is_static: false,
        disable_precompiles: false,
    };
    let outcome = message::process_message(evm, &message);
    evm.state.finish_transaction(true);
    Some(outcome)
}

/// The system calls before a block's transactions: EIP-4788 with the parent beacon block root
/// (Cancun on) and EIP-2935 with the parent block hash (Prague on).
pub fn before_transactions(evm: &mut Evm, block: &Block) {
    let fork = evm.fork;
    if fork >= Fork::Cancun {
        if let Some(root) = block.env.parent_beacon_block_root {
            call(
                evm,
                BEACON_ROOTS_ADDRESS,
                Bytes::copy_from_slice(root.as_slice()),
            );
        }
    }
    if fork >= Fork::Prague {
        let parent = block.env.number.checked_sub(1);
        if let Some(hash) = parent.and_then(|n| block.env.block_hashes.get(&n)) {
            call(
                evm,
                HISTORY_STORAGE_ADDRESS,
                Bytes::copy_from_slice(hash.as_slice()),
            );
        }
    }
}

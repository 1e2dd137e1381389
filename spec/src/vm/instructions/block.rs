//! The block: BLOCKHASH, COINBASE, TIMESTAMP, NUMBER, DIFFICULTY / PREVRANDAO (EIP-4399),
//! GASLIMIT, CHAINID (EIP-1344), BASEFEE (EIP-3198), BLOBHASH (EIP-4844), BLOBBASEFEE
//! (EIP-7516).

use super::environment::address_word;
use crate::vm::{gas, Evm, Frame, Halt};
use crate::Fork;
use alloy_primitives::U256;

fn push_value(frame: &mut Frame, cost: u64, value: U256) -> Result<(), Halt> {
    frame.charge(cost)?;
    frame.stack.push(value)?;
    frame.pc += 1;
    Ok(())
}

/// BLOCKHASH: the hash of one of the 256 previous blocks, else zero.
pub fn blockhash(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let number = frame.stack.pop()?;
    // gas
    frame.charge(gas::BLOCKHASH)?;
    // operation
    let current = evm.block.number;
    let hash = match u64::try_from(number) {
        Ok(n) if n < current && n >= current.saturating_sub(256) => evm
            .block
            .block_hashes
            .get(&n)
            .map_or(U256::ZERO, |h| U256::from_be_bytes(h.0)),
        _ => U256::ZERO,
    };
    frame.stack.push(hash)?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// COINBASE.
pub fn coinbase(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, address_word(evm.block.beneficiary))
}

/// TIMESTAMP.
pub fn timestamp(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, U256::from(evm.block.timestamp))
}

/// NUMBER.
pub fn number(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, U256::from(evm.block.number))
}

/// DIFFICULTY, and from Paris PREVRANDAO (EIP-4399).
pub fn prevrandao(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let value = if evm.fork >= Fork::Paris {
        U256::from_be_bytes(evm.block.prevrandao.unwrap_or_default().0)
    } else {
        evm.block.difficulty
    };
    push_value(frame, gas::BASE, value)
}

/// GASLIMIT.
pub fn gaslimit(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, U256::from(evm.block.gas_limit))
}

/// CHAINID (EIP-1344).
pub fn chainid(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, U256::from(evm.block.chain_id))
}

/// BASEFEE (EIP-3198).
pub fn basefee(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let base_fee = U256::from(evm.block.base_fee.unwrap_or_default());
    push_value(frame, gas::BASE, base_fee)
}

/// BLOBHASH (EIP-4844): the transaction's i-th versioned hash, else zero.
pub fn blobhash(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let index = frame.stack.pop()?;
    frame.charge(gas::BLOBHASH)?;
    let hash = usize::try_from(index)
        .ok()
        .and_then(|i| evm.tx.blob_hashes.get(i))
        .map_or(U256::ZERO, |h| U256::from_be_bytes(h.0));
    frame.stack.push(hash)?;
    frame.pc += 1;
    Ok(())
}

/// BLOBBASEFEE (EIP-7516).
pub fn blobbasefee(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let fee = evm.blob_base_fee;
    push_value(frame, gas::BASE, fee)
}

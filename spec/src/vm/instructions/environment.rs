//! The environment: ADDRESS, BALANCE, ORIGIN, CALLER, CALLVALUE, CALLDATA*, CODESIZE,
//! CODECOPY, GASPRICE, EXTCODE* (EIP-1052 for the hash), RETURNDATA* (EIP-211) and SELFBALANCE
//! (EIP-1884). Account reads are priced warm or cold from Berlin (EIP-2929).

use crate::vm::memory::padded_slice;
use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::{keccak256, Address, U256};

/// Pushes a value computed from the context, for `cost`.
fn push_value(frame: &mut Frame, cost: u64, value: U256) -> Result<(), Halt> {
    frame.charge(cost)?;
    frame.stack.push(value)?;
    frame.pc += 1;
    Ok(())
}

/// The cost of reading another account: the fork's flat cost, or warm/cold (EIP-2929).
fn account_read_cost(evm: &mut Evm, address: Address, before_berlin: u64) -> u64 {
    let cold = evm.fork >= crate::Fork::Berlin && evm.state.warm_address(address);
    gas::account_access(evm.fork, cold, before_berlin)
}

/// The word form of an address.
pub(crate) fn address_word(address: Address) -> U256 {
    U256::from_be_slice(address.as_slice())
}

/// ADDRESS.
pub fn address(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, address_word(frame.address))
}

/// BALANCE.
pub fn balance(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let address = frame.pop_address()?;
    // gas
    let cost = account_read_cost(evm, address, gas::balance(evm.fork));
    frame.charge(cost)?;
    // operation
    frame.stack.push(evm.state.balance(&address))?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// ORIGIN.
pub fn origin(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, address_word(evm.tx.origin))
}

/// CALLER.
pub fn caller(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, address_word(frame.caller))
}

/// CALLVALUE.
pub fn callvalue(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, frame.value)
}

/// CALLDATALOAD: a word of call data, zero-padded.
pub fn calldataload(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let offset = frame.stack.pop()?;
    frame.charge(gas::VERY_LOW)?;
    let word = padded_slice(&frame.input, offset, 32);
    frame.stack.push(U256::from_be_slice(&word))?;
    frame.pc += 1;
    Ok(())
}

/// CALLDATASIZE.
pub fn calldatasize(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, U256::from(frame.input.len()))
}

/// Copies `source` into memory: the shared body of CALLDATACOPY, CODECOPY and EXTCODECOPY.
fn copy_to_memory(
    frame: &mut Frame,
    base_cost: u64,
    dest: U256,
    offset: U256,
    len: U256,
    source: &[u8],
) -> Result<(), Halt> {
    // gas
    let (memory_cost, size) = frame.memory_expansion(&[(dest, len)])?;
    let copy = gas::copy_cost(len.saturating_to::<u64>());
    frame.charge(base_cost.saturating_add(copy).saturating_add(memory_cost))?;
    // operation
    frame.memory.resize(size);
    let (dest, len) = Frame::range(dest, len);
    frame.memory.write_padded(dest, len, source, offset);
    // program counter
    frame.pc += 1;
    Ok(())
}

/// CALLDATACOPY.
pub fn calldatacopy(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let dest = frame.stack.pop()?;
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    let input = frame.input.clone();
    copy_to_memory(frame, gas::VERY_LOW, dest, offset, len, &input)
}

/// CODESIZE.
pub fn codesize(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, U256::from(frame.code.len()))
}

/// CODECOPY.
pub fn codecopy(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let dest = frame.stack.pop()?;
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    let code = frame.code.clone();
    copy_to_memory(frame, gas::VERY_LOW, dest, offset, len, &code)
}

/// GASPRICE: the effective gas price of the transaction.
pub fn gasprice(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, evm.tx.gas_price)
}

/// EXTCODESIZE.
pub fn extcodesize(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let address = frame.pop_address()?;
    let cost = account_read_cost(evm, address, gas::extcode(evm.fork));
    frame.charge(cost)?;
    let size = evm.state.account(&address).map_or(0, |a| a.code.len());
    frame.stack.push(U256::from(size))?;
    frame.pc += 1;
    Ok(())
}

/// EXTCODECOPY.
pub fn extcodecopy(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let address = frame.pop_address()?;
    let dest = frame.stack.pop()?;
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    let cost = account_read_cost(evm, address, gas::extcode(evm.fork));
    let code = evm.state.code(&address);
    copy_to_memory(frame, cost, dest, offset, len, &code)
}

/// RETURNDATASIZE (EIP-211).
pub fn returndatasize(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    push_value(frame, gas::BASE, U256::from(frame.return_data.len()))
}

/// RETURNDATACOPY (EIP-211): reading past the return data halts.
pub fn returndatacopy(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let dest = frame.stack.pop()?;
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    // gas
    let (memory_cost, size) = frame.memory_expansion(&[(dest, len)])?;
    let copy = gas::copy_cost(len.saturating_to::<u64>());
    frame.charge(
        gas::VERY_LOW
            .saturating_add(copy)
            .saturating_add(memory_cost),
    )?;
    let end = offset.checked_add(len).ok_or(Halt::ReturnDataOutOfBounds)?;
    if end > U256::from(frame.return_data.len()) {
        return Err(Halt::ReturnDataOutOfBounds);
    }
    // operation
    frame.memory.resize(size);
    let (dest, len) = Frame::range(dest, len);
    let data = frame.return_data.clone();
    frame.memory.write_padded(dest, len, &data, offset);
    // program counter
    frame.pc += 1;
    Ok(())
}

/// EXTCODEHASH (EIP-1052): zero for an account that does not exist or is empty.
pub fn extcodehash(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let address = frame.pop_address()?;
    let cost = account_read_cost(evm, address, gas::extcodehash(evm.fork));
    frame.charge(cost)?;
    let hash = match evm.state.account(&address) {
        Some(account) if !account.is_empty() => U256::from_be_bytes(keccak256(&account.code).0),
        _ => U256::ZERO,
    };
    frame.stack.push(hash)?;
    frame.pc += 1;
    Ok(())
}

/// SELFBALANCE (EIP-1884).
pub fn selfbalance(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let balance = evm.state.balance(&frame.address);
    push_value(frame, gas::LOW, balance)
}

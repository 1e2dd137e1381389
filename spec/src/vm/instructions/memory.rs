//! Memory instructions: MLOAD, MSTORE, MSTORE8, MSIZE, MCOPY (EIP-5656, Cancun).

use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::U256;

const WORD: U256 = U256::from_limbs([32, 0, 0, 0]);

/// MLOAD: reads a word.
pub fn mload(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let offset = frame.stack.pop()?;
    // gas
    let (memory_cost, size) = frame.memory_expansion(&[(offset, WORD)])?;
    frame.charge(gas::VERY_LOW.saturating_add(memory_cost))?;
    // operation
    frame.memory.resize(size);
    let value = frame.memory.read_word(offset.saturating_to::<usize>());
    frame.stack.push(value)?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// MSTORE: writes a word.
pub fn mstore(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let offset = frame.stack.pop()?;
    let value = frame.stack.pop()?;
    let (memory_cost, size) = frame.memory_expansion(&[(offset, WORD)])?;
    frame.charge(gas::VERY_LOW.saturating_add(memory_cost))?;
    frame.memory.resize(size);
    frame
        .memory
        .write(offset.saturating_to::<usize>(), &value.to_be_bytes::<32>());
    frame.pc += 1;
    Ok(())
}

/// MSTORE8: writes the low byte of a word.
pub fn mstore8(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let offset = frame.stack.pop()?;
    let value = frame.stack.pop()?;
    let (memory_cost, size) = frame.memory_expansion(&[(offset, U256::from(1))])?;
    frame.charge(gas::VERY_LOW.saturating_add(memory_cost))?;
    frame.memory.resize(size);
    frame
        .memory
        .write(offset.saturating_to::<usize>(), &[value.byte(0)]);
    frame.pc += 1;
    Ok(())
}

/// MSIZE: the memory size in bytes.
pub fn msize(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.charge(gas::BASE)?;
    frame.stack.push(U256::from(frame.memory.len()))?;
    frame.pc += 1;
    Ok(())
}

/// MCOPY: copies a memory range, overlapping or not (EIP-5656).
pub fn mcopy(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let dest = frame.stack.pop()?;
    let src = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    // gas
    let (memory_cost, size) = frame.memory_expansion(&[(src, len), (dest, len)])?;
    let copy = gas::copy_cost(len.saturating_to::<u64>());
    frame.charge(
        gas::VERY_LOW
            .saturating_add(copy)
            .saturating_add(memory_cost),
    )?;
    // operation
    frame.memory.resize(size);
    let (dest, len_usize) = Frame::range(dest, len);
    let (src, _) = Frame::range(src, len);
    frame.memory.copy_within(dest, src, len_usize);
    // program counter
    frame.pc += 1;
    Ok(())
}

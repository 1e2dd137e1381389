//! Stack instructions: POP, PUSH0 (EIP-3855, Shanghai), PUSH1..PUSH32, DUP1..16, SWAP1..16.

use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::U256;

/// POP: drops the top item.
pub fn pop(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.stack.pop()?;
    frame.charge(gas::BASE)?;
    frame.pc += 1;
    Ok(())
}

/// PUSH0: pushes zero (EIP-3855).
pub fn push0(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.charge(gas::BASE)?;
    frame.stack.push(U256::ZERO)?;
    frame.pc += 1;
    Ok(())
}

/// PUSHn: pushes the `n` bytes after the opcode, zero-padded past the end of the code.
pub fn push(frame: &mut Frame, n: usize) -> Result<(), Halt> {
    // gas
    frame.charge(gas::VERY_LOW)?;
    // operation
    let start = (frame.pc + 1).min(frame.code.len());
    let end = (frame.pc + 1 + n).min(frame.code.len());
    let available = &frame.code[start..end];
    let mut value = U256::from_be_slice(available);
    if available.len() < n {
        // Past the end of the code the immediate is padded with zeros on the right.
        value <<= 8 * (n - available.len());
    }
    frame.stack.push(value)?;
    // program counter
    frame.pc += 1 + n;
    Ok(())
}

/// DUPn: duplicates the n-th item.
pub fn dup(frame: &mut Frame, n: usize) -> Result<(), Halt> {
    frame.stack.require(n)?;
    frame.charge(gas::VERY_LOW)?;
    frame.stack.dup(n)?;
    frame.pc += 1;
    Ok(())
}

/// SWAPn: swaps the top with the item n below it.
pub fn swap(frame: &mut Frame, n: usize) -> Result<(), Halt> {
    frame.stack.require(n + 1)?;
    frame.charge(gas::VERY_LOW)?;
    frame.stack.swap(n)?;
    frame.pc += 1;
    Ok(())
}

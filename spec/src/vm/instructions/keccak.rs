//! KECCAK256 (SHA3 in the Yellow Paper).

use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::{keccak256, U256};

/// KECCAK256: the hash of a memory range; 30 gas plus 6 per word, plus memory growth.
pub fn keccak(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    // gas
    let (memory_cost, size) = frame.memory_expansion(&[(offset, len)])?;
    let words = gas::words(len.saturating_to::<u64>());
    frame.charge(gas::KECCAK256.saturating_add(gas::KECCAK256_WORD.saturating_mul(words)))?;
    frame.charge(memory_cost)?;
    // operation
    frame.memory.resize(size);
    let (offset, len) = Frame::range(offset, len);
    let hash = keccak256(frame.memory.read(offset, len));
    frame.stack.push(U256::from_be_bytes(hash.0))?;
    // program counter
    frame.pc += 1;
    Ok(())
}

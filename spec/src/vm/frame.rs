//! A call frame: the code running, its stack, memory, gas and program counter.

use super::gas;
use super::memory::Memory;
use super::stack::Stack;
use super::{Halt, Message};
use alloy_primitives::{Address, Bytes, U256};
use std::rc::Rc;

/// One executing frame.
#[derive(Debug)]
pub struct Frame {
    /// CALLER.
    pub caller: Address,
    /// ADDRESS: the account whose storage and balance the code acts on.
    pub address: Address,
    /// CALLVALUE.
    pub value: U256,
    /// CALLDATA (empty for creations).
    pub input: Bytes,
    /// The code running.
    pub code: Bytes,
    /// Valid jump destinations of `code`.
    pub jumpdests: Rc<[bool]>,
    /// Whether state changes are forbidden (EIP-214).
    pub is_static: bool,
    /// Call depth (0 for the transaction's own frame).
    pub depth: usize,
    /// Program counter.
    pub pc: usize,
    /// Operand stack.
    pub stack: Stack,
    /// Memory.
    pub memory: Memory,
    /// Gas left.
    pub gas_left: u64,
    /// Refund counter of this frame (EIP-2200 may make it negative).
    pub refund: i64,
    /// Output of the last call or creation (EIP-211).
    pub return_data: Bytes,
    /// This frame's output (RETURN or REVERT data).
    pub output: Bytes,
    /// Whether the frame is still running.
    pub running: bool,
}

impl Frame {
    /// A frame for `message`, running `code`.
    pub fn new(message: &Message, code: Bytes, jumpdests: Rc<[bool]>) -> Self {
        Frame {
            caller: message.caller,
            address: message.target,
            value: message.value,
            input: message.data.clone(),
            jumpdests,
            code,
            is_static: message.is_static,
            depth: message.depth,
            pc: 0,
            stack: Stack::default(),
            memory: Memory::default(),
            gas_left: message.gas,
            refund: 0,
            return_data: Bytes::new(),
            output: Bytes::new(),
            running: true,
        }
    }

    /// Takes `cost` from the gas left, or halts out of gas.
    #[inline]
    pub fn charge(&mut self, cost: u64) -> Result<(), Halt> {
        if cost > self.gas_left {
            return Err(Halt::OutOfGas);
        }
        self.gas_left -= cost;
        Ok(())
    }

    /// The cost of growing memory to cover every `(offset, length)` range, and the new size.
    /// Empty ranges need no memory whatever their offset; a range beyond any payable size is
    /// out of gas.
    pub fn memory_expansion(&self, ranges: &[(U256, U256)]) -> Result<(u64, usize), Halt> {
        let mut end = self.memory.len() as u64;
        for (offset, len) in ranges {
            if len.is_zero() {
                continue;
            }
            let offset = u64::try_from(*offset).map_err(|_| Halt::OutOfGas)?;
            let len = u64::try_from(*len).map_err(|_| Halt::OutOfGas)?;
            let range_end = offset.checked_add(len).ok_or(Halt::OutOfGas)?;
            end = end.max(range_end);
        }
        if end <= self.memory.len() as u64 {
            return Ok((0, self.memory.len()));
        }
        // Beyond 2^32 bytes the quadratic cost exceeds any gas a block can hold.
        if end > u32::MAX as u64 {
            return Err(Halt::OutOfGas);
        }
        let new_words = gas::words(end);
        let old_words = gas::words(self.memory.len() as u64);
        let cost = gas::memory_cost(new_words) - gas::memory_cost(old_words);
        let cost = u64::try_from(cost).map_err(|_| Halt::OutOfGas)?;
        Ok((cost, (new_words * 32) as usize))
    }

    /// The `(offset, len)` of a range memory already covers, as indices.
    pub fn range(offset: U256, len: U256) -> (usize, usize) {
        if len.is_zero() {
            return (0, 0);
        }
        (
            offset.saturating_to::<usize>(),
            len.saturating_to::<usize>(),
        )
    }

    /// Pops a word and reads it as an address (its low 20 bytes).
    pub fn pop_address(&mut self) -> Result<Address, Halt> {
        let word = self.stack.pop()?;
        Ok(Address::from_word(word.to_be_bytes::<32>().into()))
    }
}

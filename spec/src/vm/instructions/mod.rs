//! The instructions, one small function per opcode, grouped by family. Each reads its
//! operands, charges its gas, performs its operation and moves the program counter, in that
//! order.

pub mod arithmetic;
pub mod bitwise;
pub mod block;
pub mod comparison;
pub mod control_flow;
pub mod environment;
pub mod keccak;
pub mod log;
pub mod memory;
pub mod stack;
pub mod storage;
pub mod system;

use alloy_primitives::U256;

/// Whether a word is negative in two's complement.
pub(crate) fn is_negative(x: U256) -> bool {
    x.bit(255)
}

/// The absolute value of a two's complement word (the minimum maps to itself).
pub(crate) fn abs(x: U256) -> U256 {
    if is_negative(x) {
        x.wrapping_neg()
    } else {
        x
    }
}

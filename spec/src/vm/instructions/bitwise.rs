//! Bitwise: AND, OR, XOR, NOT, BYTE, the shifts SHL, SHR, SAR (EIP-145, Constantinople) and
//! CLZ (EIP-7939, Osaka).

use super::is_negative;
use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::U256;

fn binary(frame: &mut Frame, f: impl Fn(U256, U256) -> U256) -> Result<(), Halt> {
    // operands
    let a = frame.stack.pop()?;
    let b = frame.stack.pop()?;
    // gas
    frame.charge(gas::VERY_LOW)?;
    // operation
    frame.stack.push(f(a, b))?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// AND.
pub fn and(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, |a, b| a & b)
}

/// OR.
pub fn or(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, |a, b| a | b)
}

/// XOR.
pub fn xor(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, |a, b| a ^ b)
}

/// NOT.
pub fn not(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let a = frame.stack.pop()?;
    frame.charge(gas::VERY_LOW)?;
    frame.stack.push(!a)?;
    frame.pc += 1;
    Ok(())
}

/// BYTE: the i-th byte of x, counting from the most significant; zero for i >= 32.
pub fn byte(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, |i, x| {
        if i >= U256::from(32) {
            return U256::ZERO;
        }
        U256::from(x.byte(31 - i.to::<usize>()))
    })
}

/// SHL: x << shift; zero for shifts of 256 or more.
pub fn shl(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, |shift, x| {
        if shift >= U256::from(256) {
            U256::ZERO
        } else {
            x << shift.to::<usize>()
        }
    })
}

/// SHR: logical x >> shift; zero for shifts of 256 or more.
pub fn shr(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, |shift, x| {
        if shift >= U256::from(256) {
            U256::ZERO
        } else {
            x >> shift.to::<usize>()
        }
    })
}

/// SAR: arithmetic x >> shift, filling with the sign bit.
pub fn sar(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, |shift, x| {
        let negative = is_negative(x);
        if shift >= U256::from(256) {
            return if negative { U256::MAX } else { U256::ZERO };
        }
        let shift = shift.to::<usize>();
        let shifted = x >> shift;
        if negative && shift > 0 {
            shifted | (U256::MAX << (256 - shift))
        } else {
            shifted
        }
    })
}

/// CLZ (EIP-7939): the number of leading zero bits of a word, 256 for zero. Priced like MUL.
pub fn clz(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let x = frame.stack.pop()?;
    // gas
    frame.charge(gas::LOW)?;
    // operation
    frame.stack.push(U256::from(x.leading_zeros()))?;
    // program counter
    frame.pc += 1;
    Ok(())
}

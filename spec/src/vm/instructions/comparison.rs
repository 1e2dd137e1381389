//! Comparison: LT, GT, SLT, SGT, EQ, ISZERO.

use super::is_negative;
use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::U256;
use std::cmp::Ordering;

fn compare(frame: &mut Frame, f: impl Fn(U256, U256) -> bool) -> Result<(), Halt> {
    // operands
    let a = frame.stack.pop()?;
    let b = frame.stack.pop()?;
    // gas
    frame.charge(gas::VERY_LOW)?;
    // operation
    frame.stack.push(U256::from(f(a, b) as u8))?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// Signed comparison of two's complement words.
fn signed_cmp(a: U256, b: U256) -> Ordering {
    match (is_negative(a), is_negative(b)) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.cmp(&b),
    }
}

/// LT: unsigned a < b.
pub fn lt(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    compare(frame, |a, b| a < b)
}

/// GT: unsigned a > b.
pub fn gt(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    compare(frame, |a, b| a > b)
}

/// SLT: signed a < b.
pub fn slt(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    compare(frame, |a, b| signed_cmp(a, b) == Ordering::Less)
}

/// SGT: signed a > b.
pub fn sgt(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    compare(frame, |a, b| signed_cmp(a, b) == Ordering::Greater)
}

/// EQ: a == b.
pub fn eq(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    compare(frame, |a, b| a == b)
}

/// ISZERO: a == 0.
pub fn iszero(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let a = frame.stack.pop()?;
    frame.charge(gas::VERY_LOW)?;
    frame.stack.push(U256::from(a.is_zero() as u8))?;
    frame.pc += 1;
    Ok(())
}

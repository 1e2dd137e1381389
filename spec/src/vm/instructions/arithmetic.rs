//! Arithmetic: ADD, MUL, SUB, DIV, SDIV, MOD, SMOD, ADDMOD, MULMOD, EXP, SIGNEXTEND.

use super::{abs, is_negative};
use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::U256;

/// Pops two operands, charges `cost`, pushes `f(a, b)`.
#[inline]
fn binary(frame: &mut Frame, cost: u64, f: impl Fn(U256, U256) -> U256) -> Result<(), Halt> {
    // operands
    let a = frame.stack.pop()?;
    let b = frame.stack.pop()?;
    // gas
    frame.charge(cost)?;
    // operation
    frame.stack.push(f(a, b))?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// Pops three operands, charges `cost`, pushes `f(a, b, n)`.
#[inline]
fn ternary(frame: &mut Frame, cost: u64, f: impl Fn(U256, U256, U256) -> U256) -> Result<(), Halt> {
    let a = frame.stack.pop()?;
    let b = frame.stack.pop()?;
    let n = frame.stack.pop()?;
    frame.charge(cost)?;
    frame.stack.push(f(a, b, n))?;
    frame.pc += 1;
    Ok(())
}

/// ADD: a + b modulo 2^256.
pub fn add(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::VERY_LOW, |a, b| a.wrapping_add(b))
}

/// MUL: a * b modulo 2^256.
pub fn mul(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::LOW, |a, b| a.wrapping_mul(b))
}

/// SUB: a - b modulo 2^256.
pub fn sub(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::VERY_LOW, |a, b| a.wrapping_sub(b))
}

/// DIV: unsigned a / b, zero when b is zero.
pub fn div(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::LOW, |a, b| a.checked_div(b).unwrap_or_default())
}

/// SDIV: signed a / b rounded toward zero; zero when b is zero; -2^255 / -1 = -2^255.
pub fn sdiv(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::LOW, |a, b| {
        if b.is_zero() {
            return U256::ZERO;
        }
        let quotient = abs(a) / abs(b);
        if is_negative(a) != is_negative(b) {
            quotient.wrapping_neg()
        } else {
            quotient
        }
    })
}

/// MOD: unsigned a mod b, zero when b is zero.
pub fn modulo(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::LOW, |a, b| a.checked_rem(b).unwrap_or_default())
}

/// SMOD: signed remainder with the sign of a; zero when b is zero.
pub fn smod(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::LOW, |a, b| {
        if b.is_zero() {
            return U256::ZERO;
        }
        let remainder = abs(a) % abs(b);
        if is_negative(a) {
            remainder.wrapping_neg()
        } else {
            remainder
        }
    })
}

/// ADDMOD: (a + b) mod n without overflow; zero when n is zero.
pub fn addmod(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    ternary(frame, gas::MID, |a, b, n| a.add_mod(b, n))
}

/// MULMOD: (a * b) mod n without overflow; zero when n is zero.
pub fn mulmod(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    ternary(frame, gas::MID, |a, b, n| a.mul_mod(b, n))
}

/// EXP: a ^ b modulo 2^256; 10 gas plus a price per byte of the exponent (EIP-160).
pub fn exp(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let base = frame.stack.pop()?;
    let exponent = frame.stack.pop()?;
    // gas
    let bytes = exponent.bit_len().div_ceil(8) as u64;
    frame.charge(gas::EXP + gas::exp_byte(evm.fork) * bytes)?;
    // operation
    frame.stack.push(wrapping_pow(base, exponent))?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// base ^ exponent modulo 2^256, by square and multiply over the exponent's bits.
pub fn wrapping_pow(mut base: U256, exponent: U256) -> U256 {
    let mut result = U256::from(1);
    for i in 0..exponent.bit_len() {
        if exponent.bit(i) {
            result = result.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
    }
    result
}

/// SIGNEXTEND: extends the sign of the (b + 1)-byte number x.
pub fn signextend(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    binary(frame, gas::LOW, |b, x| {
        if b >= U256::from(31) {
            return x;
        }
        let bit = b.to::<usize>() * 8 + 7;
        let mask = (U256::from(1) << (bit + 1)) - U256::from(1);
        if x.bit(bit) {
            x | !mask
        } else {
            x & mask
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow_wraps_like_ruint() {
        let cases = [
            (3u64, 0u64),
            (0, 0),
            (0, 5),
            (2, 255),
            (2, 256),
            (7, 1_000_003),
            (u64::MAX, 77),
        ];
        for (b, e) in cases {
            let (b, e) = (U256::from(b), U256::from(e));
            assert_eq!(wrapping_pow(b, e), b.wrapping_pow(e));
        }
        assert_eq!(wrapping_pow(U256::MAX, U256::MAX), U256::MAX);
    }
}

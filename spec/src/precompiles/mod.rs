//! Precompiled contracts 0x01..0x0a, each in its own file with its gas rule. A precompile
//! returns its gas cost and output, or fails (which consumes all the gas given to it).

mod blake2f;
mod bn254;
mod ecrecover;
mod identity;
mod modexp;
mod point_evaluation;
mod ripemd160;
mod sha256;

use crate::vm::Halt;
use crate::Fork;
use alloy_primitives::Address;

/// A precompile: `(fork, input, gas available) -> (gas cost, output)`.
pub type Precompile = fn(Fork, &[u8], u64) -> Result<(u64, Vec<u8>), Halt>;

/// The precompile at `address` under `fork`: 1-4 from Frontier, 5-8 from Byzantium (EIP-198,
/// 196, 197), 9 from Istanbul (EIP-152), 0x0a from Cancun (EIP-4844).
pub fn get(fork: Fork, address: &Address) -> Option<Precompile> {
    let bytes = address.as_slice();
    if bytes[..19].iter().any(|b| *b != 0) {
        return None;
    }
    let precompile: Precompile = match bytes[19] {
        1 => ecrecover::run,
        2 => sha256::run,
        3 => ripemd160::run,
        4 => identity::run,
        5 if fork >= Fork::Byzantium => modexp::run,
        6 if fork >= Fork::Byzantium => bn254::add,
        7 if fork >= Fork::Byzantium => bn254::mul,
        8 if fork >= Fork::Byzantium => bn254::pairing,
        9 if fork >= Fork::Istanbul => blake2f::run,
        0x0a if fork >= Fork::Cancun => point_evaluation::run,
        _ => return None,
    };
    Some(precompile)
}

/// The addresses of every precompile under `fork` (warm from the start, EIP-2929).
pub fn addresses(fork: Fork) -> impl Iterator<Item = Address> {
    (1u8..=0x0a)
        .map(Address::with_last_byte)
        .filter(move |a| get(fork, a).is_some())
}

/// Fails with out of gas when `cost` exceeds `gas`.
pub(crate) fn check_gas(cost: u64, gas: u64) -> Result<(), Halt> {
    if cost > gas {
        Err(Halt::OutOfGas)
    } else {
        Ok(())
    }
}

/// 32-byte words of `len` bytes.
pub(crate) fn words(len: usize) -> u64 {
    (len as u64).div_ceil(32)
}

/// `input[offset..offset + len]`, zero-padded.
pub(crate) fn padded(input: &[u8], offset: usize, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    if offset < input.len() {
        let end = input.len().min(offset + len);
        out[..end - offset].copy_from_slice(&input[offset..end]);
    }
    out
}

//! Precompiled contracts 0x01..0x11 and 0x100, each family in its own file with its gas rule.
//! A precompile returns its gas cost and output, or fails (which consumes all the gas given to
//! it).

mod blake2f;
mod bls12_381;
mod bn254;
mod ecrecover;
mod identity;
mod modexp;
mod p256verify;
mod point_evaluation;
mod ripemd160;
mod sha256;

use crate::vm::Halt;
use crate::Fork;
use alloy_primitives::Address;

/// A precompile: `(fork, input, gas available) -> (gas cost, output)`.
pub type Precompile = fn(Fork, &[u8], u64) -> Result<(u64, Vec<u8>), Halt>;

/// The address of P256VERIFY (EIP-7951), the first precompile outside 0x01..0xff.
pub const P256VERIFY: Address = Address::new([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
]);

/// The precompile at `address` under `fork`: 1-4 from Frontier, 5-8 from Byzantium (EIP-198,
/// 196, 197), 9 from Istanbul (EIP-152), 0x0a from Cancun (EIP-4844), 0x0b-0x11 from Prague
/// (EIP-2537), 0x100 from Osaka (EIP-7951).
pub fn get(fork: Fork, address: &Address) -> Option<Precompile> {
    if *address == P256VERIFY {
        return (fork >= Fork::Osaka).then_some(p256verify::run as Precompile);
    }
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
        0x0b if fork >= Fork::Prague => bls12_381::g1_add,
        0x0c if fork >= Fork::Prague => bls12_381::g1_msm,
        0x0d if fork >= Fork::Prague => bls12_381::g2_add,
        0x0e if fork >= Fork::Prague => bls12_381::g2_msm,
        0x0f if fork >= Fork::Prague => bls12_381::pairing_check,
        0x10 if fork >= Fork::Prague => bls12_381::map_fp_to_g1,
        0x11 if fork >= Fork::Prague => bls12_381::map_fp2_to_g2,
        _ => return None,
    };
    Some(precompile)
}

/// The addresses of every precompile under `fork` (warm from the start, EIP-2929).
pub fn addresses(fork: Fork) -> impl Iterator<Item = Address> {
    (1u8..=0x11)
        .map(Address::with_last_byte)
        .chain([P256VERIFY])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_by_fork() {
        let count = |fork| addresses(fork).count();
        assert_eq!(count(Fork::Frontier), 4);
        assert_eq!(count(Fork::Byzantium), 8);
        assert_eq!(count(Fork::Istanbul), 9);
        assert_eq!(count(Fork::Cancun), 10);
        assert_eq!(count(Fork::Prague), 17);
        assert_eq!(count(Fork::Osaka), 18);
        assert_eq!(addresses(Fork::Osaka).last(), Some(P256VERIFY));
        assert!(get(Fork::Prague, &P256VERIFY).is_none());
        assert!(get(Fork::Cancun, &Address::with_last_byte(0x0b)).is_none());
        assert!(get(Fork::Osaka, &Address::with_last_byte(0x12)).is_none());
        assert!(get(Fork::Osaka, &Address::with_last_byte(0x00)).is_none());
    }
}

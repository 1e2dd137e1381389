//! 0x05 MODEXP (EIP-198, Byzantium): `base ^ exp mod modulus` on big-endian numbers of any
//! length. Gas per EIP-198, repriced by EIP-2565 (Berlin) and again by EIP-7883 (Osaka);
//! from Osaka each length is at most 1024 bytes (EIP-7823).

use super::padded;
use crate::vm::Halt;
use crate::Fork;
use alloy_primitives::U256;
use num_bigint::BigUint;

/// Lengths beyond this cannot be paid for with any gas a block holds.
const MAX_LENGTH: u64 = 1 << 32;

/// EIP-7823 (Osaka): the most bytes the base, the exponent or the modulus may have.
pub const OSAKA_MAX_LENGTH: u64 = 1024;

/// A length field, saturated.
fn length(input: &[u8], offset: usize) -> u64 {
    U256::from_be_slice(&padded(input, offset, 32)).saturating_to::<u64>()
}

/// EIP-198's multiplication complexity of `x` bytes.
fn complexity_eip198(x: u128) -> u128 {
    if x <= 64 {
        x * x
    } else if x <= 1024 {
        x * x / 4 + 96 * x - 3072
    } else {
        x * x / 16 + 480 * x - 199_680
    }
}

/// EIP-7883's multiplication complexity: 16 up to 32 bytes, then twice EIP-2565's.
fn complexity_eip7883(x: u128) -> u128 {
    if x <= 32 {
        16
    } else {
        let words = x.div_ceil(8);
        2 * words * words
    }
}

/// The iteration count (EIP-2565) or adjusted exponent length (EIP-198), before `max(_, 1)`:
/// `per_byte` (8; 16 from EIP-7883) per exponent byte beyond the first 32, plus the index of
/// the highest set bit of those 32.
fn iterations(per_byte: u128, exp_len: u64, exp_head: U256) -> u128 {
    let head_bits = exp_head.bit_len().saturating_sub(1) as u128;
    if exp_len <= 32 {
        head_bits
    } else {
        per_byte * (exp_len as u128 - 32) + head_bits
    }
}

/// The gas of a call with these lengths and exponent head.
pub fn gas_cost(fork: Fork, base_len: u64, exp_len: u64, mod_len: u64, exp_head: U256) -> u128 {
    let max_len = base_len.max(mod_len) as u128;
    if fork >= Fork::Osaka {
        // EIP-7883: no division by 3, a floor of 500.
        let iterations = iterations(16, exp_len, exp_head).max(1);
        return complexity_eip7883(max_len)
            .saturating_mul(iterations)
            .max(500);
    }
    let iterations = iterations(8, exp_len, exp_head).max(1);
    if fork >= Fork::Berlin {
        // EIP-2565.
        let words = max_len.div_ceil(8);
        (words * words * iterations / 3).max(200)
    } else {
        // EIP-198.
        complexity_eip198(max_len) * iterations / 20
    }
}

/// Runs MODEXP on `base_len | exp_len | mod_len | base | exp | modulus`.
pub fn run(fork: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    let base_len = length(input, 0);
    let exp_len = length(input, 32);
    let mod_len = length(input, 64);
    if fork >= Fork::Osaka && base_len.max(exp_len).max(mod_len) > OSAKA_MAX_LENGTH {
        // EIP-7823.
        return Err(Halt::PrecompileFailure);
    }
    if base_len.max(mod_len) > MAX_LENGTH {
        return Err(Halt::OutOfGas);
    }
    let exp_start = 96 + base_len as usize;
    let head_len = exp_len.min(32) as usize;
    let exp_head = U256::from_be_slice(&padded(input, exp_start, head_len));
    let cost = gas_cost(fork, base_len, exp_len, mod_len, exp_head);
    if cost > gas as u128 {
        return Err(Halt::OutOfGas);
    }
    let cost = cost as u64;
    if mod_len == 0 {
        return Ok((cost, Vec::new()));
    }
    let exp_len = usize::try_from(exp_len).map_err(|_| Halt::OutOfGas)?;
    let mod_len = mod_len as usize;
    let base = BigUint::from_bytes_be(&padded(input, 96, base_len as usize));
    let exponent = BigUint::from_bytes_be(&padded(input, exp_start, exp_len));
    let modulus = BigUint::from_bytes_be(&padded(input, exp_start + exp_len, mod_len));
    let mut out = vec![0u8; mod_len];
    if modulus != BigUint::ZERO {
        let result = base.modpow(&exponent, &modulus).to_bytes_be();
        out[mod_len - result.len()..].copy_from_slice(&result);
    }
    Ok((cost, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn fermat_vector_of_eip198() {
        // 3 ^ (p - 2) mod p for the secp256k1 field prime p, as in EIP-198.
        let input = hex::decode("00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000002003fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2efffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f").unwrap();
        let (cost, out) = run(Fork::Byzantium, &input, 1 << 20).unwrap();
        assert_eq!(cost, 13_056);
        assert_eq!(out, {
            let mut one = vec![0u8; 32];
            one[31] = 1;
            one
        });
        let (cost, _) = run(Fork::Berlin, &input, 1 << 20).unwrap();
        assert_eq!(cost, 1_360);
        // EIP-7883: complexity 16 (32-byte modulus) times 255 iterations (the exponent's top
        // set bit), as the EIP's modexp_marcin_3_balanced row.
        let (cost, _) = run(Fork::Osaka, &input, 1 << 20).unwrap();
        assert_eq!(cost, 4_080);
    }

    /// A few rows of EIP-2565's "nagydani" vectors with EIP-7883's prices (the EIP's table):
    /// the lengths and exponents alone decide the price.
    #[test]
    fn eip7883_prices() {
        let exp = |value: u64| U256::from(value);
        // nagydani_1: 64-byte base and modulus; square (exponent 2), pow0x10001.
        assert_eq!(gas_cost(Fork::Osaka, 64, 1, 64, exp(2)), 500);
        assert_eq!(gas_cost(Fork::Osaka, 64, 3, 64, exp(0x10001)), 2048);
        // nagydani_2: 128 bytes.
        assert_eq!(gas_cost(Fork::Osaka, 128, 1, 128, exp(2)), 512);
        // nagydani_5: 1024-byte base and modulus.
        assert_eq!(gas_cost(Fork::Osaka, 1024, 3, 1024, exp(0x10001)), 524_288);
        // Small inputs cost the floor of 500; Berlin's floor stays 200.
        assert_eq!(gas_cost(Fork::Osaka, 1, 1, 1, exp(3)), 500);
        assert_eq!(gas_cost(Fork::Prague, 1, 1, 1, exp(3)), 200);
        // A 33-byte exponent counts 16 per extra byte: 16 * (16 * 1 + 0).
        assert_eq!(gas_cost(Fork::Osaka, 32, 33, 32, exp(1)), 500);
        assert_eq!(gas_cost(Fork::Osaka, 32, 64, 32, exp(1)), 16 * 16 * 32);
    }

    #[test]
    fn eip7823_length_limit() {
        // base_len 1025, exponent and modulus empty: out from Osaka, fine before.
        let mut input = vec![0u8; 96];
        input[30] = 0x04;
        input[31] = 0x01;
        assert_eq!(run(Fork::Prague, &input, 1 << 20).map(|r| r.1), Ok(vec![]));
        assert_eq!(
            run(Fork::Osaka, &input, 1 << 20),
            Err(Halt::PrecompileFailure)
        );
        // 1024 bytes is still allowed, for each of the three lengths.
        for field in 0..3 {
            let mut input = vec![0u8; 96];
            input[32 * field + 30] = 0x04;
            assert!(run(Fork::Osaka, &input, 1 << 30).is_ok());
            input[32 * field + 31] = 0x01;
            assert_eq!(
                run(Fork::Osaka, &input, 1 << 30),
                Err(Halt::PrecompileFailure)
            );
        }
    }

    #[test]
    fn zero_modulus_and_empty() {
        assert_eq!(run(Fork::Berlin, &[], 1000), Ok((200, vec![])));
        assert_eq!(run(Fork::Byzantium, &[], 1000), Ok((0, vec![])));
        // 2 ^ 3 mod 0 with a two-byte modulus: two zero bytes.
        let mut input = vec![0u8; 96];
        input[31] = 1;
        input[63] = 1;
        input[95] = 2;
        input.extend_from_slice(&[2, 3, 0, 0]);
        assert_eq!(run(Fork::Berlin, &input, 1000), Ok((200, vec![0, 0])));
        // The modulus runs past the end of the input and is padded with zeros: 0x0500, and
        // 2 ^ 3 mod 0x0500 = 8.
        input.truncate(98);
        input.push(5);
        assert_eq!(run(Fork::Berlin, &input, 1000), Ok((200, vec![0, 8])));
    }

    #[test]
    fn huge_lengths_are_out_of_gas() {
        let mut input = vec![0u8; 96];
        input[0] = 1;
        input[95] = 1;
        assert_eq!(run(Fork::Berlin, &input, u64::MAX), Err(Halt::OutOfGas));
    }
}

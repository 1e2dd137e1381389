//! 0x05 MODEXP (EIP-198, Byzantium): `base ^ exp mod modulus` on big-endian numbers of any
//! length. Gas per EIP-198, repriced by EIP-2565 (Berlin).

use super::padded;
use crate::vm::Halt;
use crate::Fork;
use alloy_primitives::U256;
use num_bigint::BigUint;

/// Lengths beyond this cannot be paid for with any gas a block holds.
const MAX_LENGTH: u64 = 1 << 32;

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

/// The iteration count (EIP-2565) or adjusted exponent length (EIP-198), before `max(_, 1)`.
fn iterations(exp_len: u64, exp_head: U256) -> u128 {
    let head_bits = exp_head.bit_len().saturating_sub(1) as u128;
    if exp_len <= 32 {
        head_bits
    } else {
        8 * (exp_len as u128 - 32) + head_bits
    }
}

/// The gas of a call with these lengths and exponent head.
pub fn gas_cost(fork: Fork, base_len: u64, exp_len: u64, mod_len: u64, exp_head: U256) -> u128 {
    let max_len = base_len.max(mod_len) as u128;
    let iterations = iterations(exp_len, exp_head).max(1);
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

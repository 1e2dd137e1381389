//! 0x01 ECRECOVER: the address that signed a hash; 3000 gas. Invalid input returns nothing
//! (it does not fail).

use super::{check_gas, padded};
use crate::vm::Halt;
use crate::Fork;
use alloy_primitives::keccak256;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::Message;

/// Gas of ECRECOVER.
pub const GAS: u64 = 3_000;

/// Runs ECRECOVER on `hash (32) | v (32) | r (32) | s (32)`.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(GAS, gas)?;
    let input = padded(input, 0, 128);
    Ok((GAS, recover(&input).unwrap_or_default()))
}

fn recover(input: &[u8]) -> Option<Vec<u8>> {
    let hash: [u8; 32] = input[0..32].try_into().ok()?;
    let v = &input[32..64];
    if v[..31].iter().any(|b| *b != 0) || !(v[31] == 27 || v[31] == 28) {
        return None;
    }
    // r and s must be in 1..n; high s is accepted (EIP-2 binds transactions only).
    let id = RecoveryId::try_from(i32::from(v[31] - 27)).ok()?;
    let signature = RecoverableSignature::from_compact(&input[64..128], id).ok()?;
    let key = signature.recover(Message::from_digest(hash)).ok()?;
    let digest = keccak256(&key.serialize_uncompressed()[1..]);
    let mut out = vec![0u8; 12];
    out.extend_from_slice(&digest[12..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn recovers_known_signer() {
        // The ecrecover vector of the go-ethereum precompile tests.
        let input = hex::decode("38d18acb67d25c8bb9942764b62f18e17054f66a817bd4295423adf9ed98873e000000000000000000000000000000000000000000000000000000000000001b38d18acb67d25c8bb9942764b62f18e17054f66a817bd4295423adf9ed98873e789d1dd423d25f0772d2748d60f7e4b81bb14d086eba8e8e8efb6dcff8a4ae02").unwrap();
        let (cost, out) = run(Fork::Cancun, &input, 3000).unwrap();
        assert_eq!(cost, 3000);
        assert_eq!(
            hex::encode(out),
            "000000000000000000000000ceaccac640adf55b2028469bd36ba501f28b699d"
        );
    }

    #[test]
    fn bad_v_returns_nothing() {
        let (_, out) = run(Fork::Cancun, &[0u8; 128], 3000).unwrap();
        assert!(out.is_empty());
    }
}

#[cfg(test)]
mod high_s {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn zero_r_and_overflowing_s_return_nothing() {
        let mut input = hex::decode("38d18acb67d25c8bb9942764b62f18e17054f66a817bd4295423adf9ed98873e000000000000000000000000000000000000000000000000000000000000001b").unwrap_or_default();
        input.extend_from_slice(&[0u8; 32]);
        input.extend_from_slice(&[0xffu8; 32]);
        assert_eq!(run(Fork::Cancun, &input, 3000), Ok((3000, vec![])));
    }
}

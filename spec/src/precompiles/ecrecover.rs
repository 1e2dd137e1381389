//! 0x01 ECRECOVER: the address that signed a hash; 3000 gas. Invalid input returns nothing
//! (it does not fail).

use super::{check_gas, padded};
use crate::vm::Halt;
use crate::Fork;
use alloy_primitives::keccak256;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

/// Gas of ECRECOVER.
pub const GAS: u64 = 3_000;

/// Runs ECRECOVER on `hash (32) | v (32) | r (32) | s (32)`.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(GAS, gas)?;
    let input = padded(input, 0, 128);
    Ok((GAS, recover(&input).unwrap_or_default()))
}

fn recover(input: &[u8]) -> Option<Vec<u8>> {
    let hash = &input[0..32];
    let v = &input[32..64];
    if v[..31].iter().any(|b| *b != 0) || !(v[31] == 27 || v[31] == 28) {
        return None;
    }
    let mut signature = Signature::from_slice(&input[64..128]).ok()?;
    let mut parity = v[31] - 27;
    // The EVM accepts high-s signatures; k256 recovers only low-s ones, so negate s and
    // flip the parity, which names the same public key.
    if let Some(low) = signature.normalize_s() {
        signature = low;
        parity ^= 1;
    }
    let recovery_id = RecoveryId::from_byte(parity)?;
    let key = VerifyingKey::recover_from_prehash(hash, &signature, recovery_id).ok()?;
    let point = key.to_encoded_point(false);
    let digest = keccak256(&point.as_bytes()[1..]);
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

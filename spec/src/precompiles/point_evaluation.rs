//! 0x0a POINT EVALUATION (EIP-4844, Cancun): verifies a KZG proof that a blob's polynomial
//! takes value y at z; 50000 gas. Input: versioned hash (32) | z (32) | y (32) | commitment
//! (48) | proof (48).

use super::check_gas;
use crate::vm::Halt;
use crate::Fork;
use alloy_primitives::hex;
use sha2::{Digest, Sha256};

/// Gas of POINT EVALUATION.
pub const GAS: u64 = 50_000;

/// The version byte of a KZG versioned hash.
pub const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;

/// FIELD_ELEMENTS_PER_BLOB (4096) and BLS_MODULUS, as the precompile returns them.
const RETURN_VALUE: [u8; 64] = hex!("000000000000000000000000000000000000000000000000000000000000100073eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");

/// Runs POINT EVALUATION.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(GAS, gas)?;
    if input.len() != 192 {
        return Err(Halt::PrecompileFailure);
    }
    let commitment = &input[96..144];
    let mut versioned: [u8; 32] = Sha256::digest(commitment).into();
    versioned[0] = VERSIONED_HASH_VERSION_KZG;
    if versioned[..] != input[..32] {
        return Err(Halt::PrecompileFailure);
    }
    let settings = c_kzg::ethereum_kzg_settings(0);
    let as48 =
        |bytes: &[u8]| c_kzg::Bytes48::from_bytes(bytes).map_err(|_| Halt::PrecompileFailure);
    let as32 =
        |bytes: &[u8]| c_kzg::Bytes32::from_bytes(bytes).map_err(|_| Halt::PrecompileFailure);
    let valid = settings
        .verify_kzg_proof(
            &as48(commitment)?,
            &as32(&input[32..64])?,
            &as32(&input[64..96])?,
            &as48(&input[144..192])?,
        )
        .map_err(|_| Halt::PrecompileFailure)?;
    if !valid {
        return Err(Halt::PrecompileFailure);
    }
    Ok((GAS, RETURN_VALUE.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_length_and_hash_fail() {
        assert_eq!(
            run(Fork::Cancun, &[0u8; 191], GAS),
            Err(Halt::PrecompileFailure)
        );
        assert_eq!(
            run(Fork::Cancun, &[0u8; 192], GAS),
            Err(Halt::PrecompileFailure)
        );
        assert_eq!(run(Fork::Cancun, &[0u8; 192], GAS - 1), Err(Halt::OutOfGas));
    }
}

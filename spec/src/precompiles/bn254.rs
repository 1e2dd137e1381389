//! 0x06 ECADD, 0x07 ECMUL (EIP-196) and 0x08 ECPAIRING (EIP-197) on the alt_bn128 curve,
//! from Byzantium; repriced by EIP-1108 (Istanbul). Points are big-endian coordinates, with
//! (0, 0) for the point at infinity; G2 coordinates list the imaginary part first.

use super::{check_gas, padded};
use crate::vm::Halt;
use crate::Fork;
use ark_bn254::{Bn254, Fq, Fq2, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInt, BigInteger, One, PrimeField, Zero};

/// A 256-bit big-endian number as arkworks limbs.
fn bigint(bytes: &[u8]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let start = 32 - 8 * (i + 1);
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[start..start + 8]);
        *limb = u64::from_be_bytes(word);
    }
    BigInt::new(limbs)
}

/// A base field element; fails when not below the field modulus.
fn fq(bytes: &[u8]) -> Result<Fq, Halt> {
    Fq::from_bigint(bigint(bytes)).ok_or(Halt::PrecompileFailure)
}

/// A G1 point from 64 bytes; fails when not on the curve.
fn g1(bytes: &[u8]) -> Result<G1Affine, Halt> {
    let x = fq(&bytes[0..32])?;
    let y = fq(&bytes[32..64])?;
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::zero());
    }
    let point = G1Affine::new_unchecked(x, y);
    if !point.is_on_curve() {
        return Err(Halt::PrecompileFailure);
    }
    Ok(point)
}

/// A G2 point from 128 bytes; fails when not on the curve or not in the subgroup.
fn g2(bytes: &[u8]) -> Result<G2Affine, Halt> {
    let x = Fq2::new(fq(&bytes[32..64])?, fq(&bytes[0..32])?);
    let y = Fq2::new(fq(&bytes[96..128])?, fq(&bytes[64..96])?);
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::zero());
    }
    let point = G2Affine::new_unchecked(x, y);
    if !point.is_on_curve() || !point.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Halt::PrecompileFailure);
    }
    Ok(point)
}

/// The 64-byte encoding of a G1 point.
fn encode(point: G1Affine) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    if let Some((x, y)) = point.xy() {
        out[..32].copy_from_slice(&x.into_bigint().to_bytes_be());
        out[32..].copy_from_slice(&y.into_bigint().to_bytes_be());
    }
    out
}

/// ECADD: 500 gas, 150 from Istanbul.
pub fn add(fork: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    let cost = if fork >= Fork::Istanbul { 150 } else { 500 };
    check_gas(cost, gas)?;
    let input = padded(input, 0, 128);
    let sum = (g1(&input[..64])? + g1(&input[64..])?).into_affine();
    Ok((cost, encode(sum)))
}

/// ECMUL: 40000 gas, 6000 from Istanbul.
pub fn mul(fork: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    let cost = if fork >= Fork::Istanbul {
        6_000
    } else {
        40_000
    };
    check_gas(cost, gas)?;
    let input = padded(input, 0, 96);
    let point = g1(&input[..64])?;
    let product = point.mul_bigint(bigint(&input[64..96])).into_affine();
    Ok((cost, encode(product)))
}

/// ECPAIRING: whether the product of the pairings is one; 100000 + 80000 per pair, from
/// Istanbul 45000 + 34000 per pair.
pub fn pairing(fork: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    if !input.len().is_multiple_of(192) {
        return Err(Halt::PrecompileFailure);
    }
    let pairs = (input.len() / 192) as u64;
    let cost = if fork >= Fork::Istanbul {
        45_000 + 34_000 * pairs
    } else {
        100_000 + 80_000 * pairs
    };
    check_gas(cost, gas)?;
    let mut g1s = Vec::with_capacity(pairs as usize);
    let mut g2s = Vec::with_capacity(pairs as usize);
    for chunk in input.chunks(192) {
        g1s.push(g1(&chunk[..64])?);
        g2s.push(g2(&chunk[64..])?);
    }
    let product = Bn254::multi_pairing(g1s, g2s);
    let mut out = vec![0u8; 32];
    out[31] = product.0.is_one() as u8;
    Ok((cost, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn add_generator_to_itself() {
        let g = hex::decode("00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002").unwrap();
        let input = [g.clone(), g].concat();
        let (cost, out) = add(Fork::Istanbul, &input, 150).unwrap();
        assert_eq!(cost, 150);
        assert_eq!(hex::encode(out), "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd315ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4");
        let (_, doubled) = mul(
            Fork::Byzantium,
            &input[..64]
                .iter()
                .copied()
                .chain([0u8; 31])
                .chain([2u8])
                .collect::<Vec<_>>(),
            40_000,
        )
        .unwrap();
        assert_eq!(
            hex::encode(&doubled[..32]),
            "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3"
        );
    }

    #[test]
    fn empty_pairing_is_one_and_off_curve_fails() {
        let (cost, out) = pairing(Fork::Istanbul, &[], 45_000).unwrap();
        assert_eq!(cost, 45_000);
        assert_eq!(out[31], 1);
        let mut bad = vec![0u8; 64];
        bad[63] = 1;
        assert_eq!(add(Fork::Istanbul, &bad, 150), Err(Halt::PrecompileFailure));
        assert_eq!(
            pairing(Fork::Istanbul, &[0u8; 191], 1_000_000),
            Err(Halt::PrecompileFailure)
        );
        // Byzantium prices (EIP-197) before EIP-1108.
        assert_eq!(
            pairing(Fork::Byzantium, &[], 100_000).map(|r| r.0),
            Ok(100_000)
        );
        assert_eq!(pairing(Fork::Byzantium, &[], 99_999), Err(Halt::OutOfGas));
    }
}

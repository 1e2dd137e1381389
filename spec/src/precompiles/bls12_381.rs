//! 0x0b..0x11, the BLS12-381 precompiles of EIP-2537 (Prague): G1ADD, G1MSM, G2ADD, G2MSM,
//! PAIRING_CHECK, MAP_FP_TO_G1 and MAP_FP2_TO_G2.
//!
//! Encoding (EIP-2537, "Fine points and encoding of base elements"):
//! - an Fp element is 64 big-endian bytes whose top 16 bytes are zero and whose value is below
//!   the field modulus p;
//! - an Fp2 element `c0 + c1 * v` is `c0 | c1` (128 bytes), real part first (unlike alt_bn128);
//! - a G1 point is `x | y` (128 bytes), a G2 point `x | y` (256 bytes); all zeros is the point
//!   at infinity, any other pair must lie on the curve;
//! - a scalar is 32 big-endian bytes, not reduced.
//!
//! The additions check only that their inputs lie on the curve; the MSMs and the pairing check
//! also require every point to be in the prime-order subgroup. Every error consumes all gas.

use super::check_gas;
use crate::vm::Halt;
use crate::Fork;
use ark_bls12_381::{
    g1, g2, Bls12_381, Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective,
};
use ark_ec::hashing::curve_maps::wb::WBMap;
use ark_ec::hashing::map_to_curve_hasher::MapToCurve;
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{BigInt, BigInteger, One, PrimeField, Zero};

/// Bytes of an encoded Fp element.
const FP: usize = 64;
/// Bytes of an encoded Fp2 element.
const FP2: usize = 2 * FP;
/// Bytes of an encoded G1 point.
const G1: usize = 2 * FP;
/// Bytes of an encoded G2 point.
const G2: usize = 2 * FP2;
/// Bytes of an encoded scalar.
const SCALAR: usize = 32;

/// Gas of G1ADD.
pub const G1ADD_GAS: u64 = 375;
/// Gas of G2ADD.
pub const G2ADD_GAS: u64 = 600;
/// The price of one scalar multiplication in G1, the base of the G1MSM price.
pub const G1MUL_GAS: u64 = 12_000;
/// The price of one scalar multiplication in G2, the base of the G2MSM price.
pub const G2MUL_GAS: u64 = 22_500;
/// PAIRING_CHECK costs `PAIRING_BASE_GAS + PAIRING_PER_PAIR_GAS * k` for `k` pairs.
pub const PAIRING_BASE_GAS: u64 = 37_700;
/// See [`PAIRING_BASE_GAS`].
pub const PAIRING_PER_PAIR_GAS: u64 = 32_600;
/// Gas of MAP_FP_TO_G1.
pub const MAP_FP_TO_G1_GAS: u64 = 5_500;
/// Gas of MAP_FP2_TO_G2.
pub const MAP_FP2_TO_G2_GAS: u64 = 23_800;

/// EIP-2537's G1 MSM discount for `k` = 1..=128 pairs, in thousandths; beyond 128 the last
/// entry (`max_discount`) applies.
const G1_DISCOUNT: [u64; 128] = [
    1000, 949, 848, 797, 764, 750, 738, 728, 719, 712, 705, 698, 692, 687, 682, 677, 673, 669, 665,
    661, 658, 654, 651, 648, 645, 642, 640, 637, 635, 632, 630, 627, 625, 623, 621, 619, 617, 615,
    613, 611, 609, 608, 606, 604, 603, 601, 599, 598, 596, 595, 593, 592, 591, 589, 588, 586, 585,
    584, 582, 581, 580, 579, 577, 576, 575, 574, 573, 572, 570, 569, 568, 567, 566, 565, 564, 563,
    562, 561, 560, 559, 558, 557, 556, 555, 554, 553, 552, 551, 550, 549, 548, 547, 547, 546, 545,
    544, 543, 542, 541, 540, 540, 539, 538, 537, 536, 536, 535, 534, 533, 532, 532, 531, 530, 529,
    528, 528, 527, 526, 525, 525, 524, 523, 522, 522, 521, 520, 520, 519,
];

/// EIP-2537's G2 MSM discount for `k` = 1..=128 pairs, in thousandths.
const G2_DISCOUNT: [u64; 128] = [
    1000, 1000, 923, 884, 855, 832, 812, 796, 782, 770, 759, 749, 740, 732, 724, 717, 711, 704,
    699, 693, 688, 683, 679, 674, 670, 666, 663, 659, 655, 652, 649, 646, 643, 640, 637, 634, 632,
    629, 627, 624, 622, 620, 618, 615, 613, 611, 609, 607, 606, 604, 602, 600, 598, 597, 595, 593,
    592, 590, 589, 587, 586, 584, 583, 582, 580, 579, 578, 576, 575, 574, 573, 571, 570, 569, 568,
    567, 566, 565, 563, 562, 561, 560, 559, 558, 557, 556, 555, 554, 553, 552, 552, 551, 550, 549,
    548, 547, 546, 545, 545, 544, 543, 542, 541, 541, 540, 539, 538, 537, 537, 536, 535, 535, 534,
    533, 532, 532, 531, 530, 530, 529, 528, 528, 527, 526, 526, 525, 524, 524,
];

/// The MSM price of an input of `len` bytes: `k = len / pair_len` pairs (rounded down; a
/// length that is not a multiple fails later), `k * mul_gas * discount(k) / 1000`, and 0 for
/// `k = 0`.
fn msm_gas(len: usize, pair_len: usize, mul_gas: u64, discounts: &[u64; 128]) -> u64 {
    let k = (len / pair_len) as u64;
    if k == 0 {
        return 0;
    }
    let discount = discounts[(k as usize).min(128) - 1];
    k * mul_gas * discount / 1000
}

/// An Fp element from 64 bytes; fails unless the top 16 bytes are zero and the value is
/// below p.
fn fp(bytes: &[u8]) -> Result<Fq, Halt> {
    let (padding, value) = bytes[..FP].split_at(16);
    if padding.iter().any(|b| *b != 0) {
        return Err(Halt::PrecompileFailure);
    }
    let mut limbs = [0u64; 6];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let start = 48 - 8 * (i + 1);
        *limb = u64::from_be_bytes(value[start..start + 8].try_into().unwrap());
    }
    Fq::from_bigint(BigInt::new(limbs)).ok_or(Halt::PrecompileFailure)
}

/// An Fp2 element `c0 | c1` from 128 bytes.
fn fp2(bytes: &[u8]) -> Result<Fq2, Halt> {
    Ok(Fq2::new(fp(&bytes[..FP])?, fp(&bytes[FP..FP2])?))
}

/// A G1 point from 128 bytes: infinity if both coordinates are zero, else on the curve, and in
/// the subgroup when `subgroup` is asked for.
fn g1_point(bytes: &[u8], subgroup: bool) -> Result<G1Affine, Halt> {
    let (x, y) = (fp(&bytes[..FP])?, fp(&bytes[FP..G1])?);
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::zero());
    }
    let point = G1Affine::new_unchecked(x, y);
    if !point.is_on_curve() || (subgroup && !point.is_in_correct_subgroup_assuming_on_curve()) {
        return Err(Halt::PrecompileFailure);
    }
    Ok(point)
}

/// A G2 point from 256 bytes, as [`g1_point`].
fn g2_point(bytes: &[u8], subgroup: bool) -> Result<G2Affine, Halt> {
    let (x, y) = (fp2(&bytes[..FP2])?, fp2(&bytes[FP2..G2])?);
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::zero());
    }
    let point = G2Affine::new_unchecked(x, y);
    if !point.is_on_curve() || (subgroup && !point.is_in_correct_subgroup_assuming_on_curve()) {
        return Err(Halt::PrecompileFailure);
    }
    Ok(point)
}

/// A scalar from 32 bytes, reduced modulo the subgroup order q (every point it multiplies is
/// in the subgroup, so `[s]P = [s mod q]P`).
fn scalar(bytes: &[u8]) -> Fr {
    Fr::from_be_bytes_mod_order(&bytes[..SCALAR])
}

/// The 64-byte encoding of an Fp element.
fn encode_fp(out: &mut Vec<u8>, element: Fq) {
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&element.into_bigint().to_bytes_be());
}

/// The 128-byte encoding of a G1 point (all zeros for infinity).
fn encode_g1(point: G1Affine) -> Vec<u8> {
    let mut out = Vec::with_capacity(G1);
    match point.xy() {
        Some((x, y)) => {
            encode_fp(&mut out, x);
            encode_fp(&mut out, y);
        }
        None => out.resize(G1, 0),
    }
    out
}

/// The 256-byte encoding of a G2 point (all zeros for infinity).
fn encode_g2(point: G2Affine) -> Vec<u8> {
    let mut out = Vec::with_capacity(G2);
    match point.xy() {
        Some((x, y)) => {
            for element in [x.c0, x.c1, y.c0, y.c1] {
                encode_fp(&mut out, element);
            }
        }
        None => out.resize(G2, 0),
    }
    out
}

/// Fails unless `input` is a positive whole number of `chunk`-byte pieces.
fn check_chunks(input: &[u8], chunk: usize) -> Result<(), Halt> {
    if input.is_empty() || !input.len().is_multiple_of(chunk) {
        return Err(Halt::PrecompileFailure);
    }
    Ok(())
}

/// 0x0b G1ADD: the sum of two G1 points (256 bytes in, 128 out); no subgroup check.
pub fn g1_add(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(G1ADD_GAS, gas)?;
    if input.len() != 2 * G1 {
        return Err(Halt::PrecompileFailure);
    }
    let sum = g1_point(&input[..G1], false)? + g1_point(&input[G1..], false)?;
    Ok((G1ADD_GAS, encode_g1(sum.into_affine())))
}

/// 0x0c G1MSM: `sum s_i * P_i` over `k` pieces `P_i (128) | s_i (32)`; points must be in the
/// subgroup.
pub fn g1_msm(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    const PAIR: usize = G1 + SCALAR;
    let cost = msm_gas(input.len(), PAIR, G1MUL_GAS, &G1_DISCOUNT);
    check_gas(cost, gas)?;
    check_chunks(input, PAIR)?;
    let mut points = Vec::with_capacity(input.len() / PAIR);
    let mut scalars = Vec::with_capacity(input.len() / PAIR);
    for piece in input.chunks(PAIR) {
        points.push(g1_point(&piece[..G1], true)?);
        scalars.push(scalar(&piece[G1..]));
    }
    let sum = G1Projective::msm(&points, &scalars).map_err(|_| Halt::PrecompileFailure)?;
    Ok((cost, encode_g1(sum.into_affine())))
}

/// 0x0d G2ADD: the sum of two G2 points (512 bytes in, 256 out); no subgroup check.
pub fn g2_add(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(G2ADD_GAS, gas)?;
    if input.len() != 2 * G2 {
        return Err(Halt::PrecompileFailure);
    }
    let sum = g2_point(&input[..G2], false)? + g2_point(&input[G2..], false)?;
    Ok((G2ADD_GAS, encode_g2(sum.into_affine())))
}

/// 0x0e G2MSM: `sum s_i * Q_i` over `k` pieces `Q_i (256) | s_i (32)`; points must be in the
/// subgroup.
pub fn g2_msm(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    const PAIR: usize = G2 + SCALAR;
    let cost = msm_gas(input.len(), PAIR, G2MUL_GAS, &G2_DISCOUNT);
    check_gas(cost, gas)?;
    check_chunks(input, PAIR)?;
    let mut points = Vec::with_capacity(input.len() / PAIR);
    let mut scalars = Vec::with_capacity(input.len() / PAIR);
    for piece in input.chunks(PAIR) {
        points.push(g2_point(&piece[..G2], true)?);
        scalars.push(scalar(&piece[G2..]));
    }
    let sum = G2Projective::msm(&points, &scalars).map_err(|_| Halt::PrecompileFailure)?;
    Ok((cost, encode_g2(sum.into_affine())))
}

/// 0x0f PAIRING_CHECK: whether `e(P_1, Q_1) * ... * e(P_k, Q_k)` is one, over `k` pieces
/// `P_i (128) | Q_i (256)` with every point in its subgroup; 32 bytes out, the last 0 or 1.
/// The price counts `k = len / 384` rounded down.
pub fn pairing_check(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    const PAIR: usize = G1 + G2;
    let cost = PAIRING_BASE_GAS + PAIRING_PER_PAIR_GAS * (input.len() / PAIR) as u64;
    check_gas(cost, gas)?;
    check_chunks(input, PAIR)?;
    let mut g1s = Vec::with_capacity(input.len() / PAIR);
    let mut g2s = Vec::with_capacity(input.len() / PAIR);
    for piece in input.chunks(PAIR) {
        g1s.push(g1_point(&piece[..G1], true)?);
        g2s.push(g2_point(&piece[G1..], true)?);
    }
    let product = Bls12_381::multi_pairing(g1s, g2s);
    let mut out = vec![0u8; 32];
    out[31] = product.0.is_one() as u8;
    Ok((cost, out))
}

/// 0x10 MAP_FP_TO_G1: an Fp element (64 bytes) to a G1 point: the simplified SWU map onto the
/// 11-isogenous curve, the isogeny to BLS12-381 and clearing the cofactor (RFC 9380, the
/// BLS12381G1 suite's `map_to_curve` and `clear_cofactor`).
pub fn map_fp_to_g1(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(MAP_FP_TO_G1_GAS, gas)?;
    if input.len() != FP {
        return Err(Halt::PrecompileFailure);
    }
    let point =
        WBMap::<g1::Config>::map_to_curve(fp(input)?).map_err(|_| Halt::PrecompileFailure)?;
    Ok((MAP_FP_TO_G1_GAS, encode_g1(point.clear_cofactor())))
}

/// 0x11 MAP_FP2_TO_G2: an Fp2 element (128 bytes) to a G2 point, as MAP_FP_TO_G1 with the
/// 3-isogeny of the BLS12381G2 suite.
pub fn map_fp2_to_g2(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(MAP_FP2_TO_G2_GAS, gas)?;
    if input.len() != FP2 {
        return Err(Halt::PrecompileFailure);
    }
    let point =
        WBMap::<g2::Config>::map_to_curve(fp2(input)?).map_err(|_| Halt::PrecompileFailure)?;
    Ok((MAP_FP2_TO_G2_GAS, encode_g2(point.clear_cofactor())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precompiles::Precompile;
    use alloy_primitives::hex;

    fn by_name(name: &str) -> Precompile {
        match name {
            "g1_add" => g1_add,
            "g1_msm" => g1_msm,
            "g2_add" => g2_add,
            "g2_msm" => g2_msm,
            "pairing_check" => pairing_check,
            "map_fp_to_g1" => map_fp_to_g1,
            "map_fp2_to_g2" => map_fp2_to_g2,
            other => panic!("no precompile {other}"),
        }
    }

    /// Vectors of EIP-2537's assets, successes with their gas and failures.
    #[test]
    fn eip_vectors() {
        let vectors = include_str!("testdata/bls12_381.txt");
        let mut count = 0;
        for line in vectors.lines().filter(|l| !l.starts_with('#')) {
            let [precompile, input, expected, gas, name] =
                line.splitn(5, ' ').collect::<Vec<_>>().try_into().unwrap();
            let input = if input == "-" {
                vec![]
            } else {
                hex::decode(input).unwrap()
            };
            let run = by_name(precompile);
            let result = run(Fork::Prague, &input, 10_000_000);
            if expected == "ERR" {
                assert_eq!(result, Err(Halt::PrecompileFailure), "{name}");
            } else {
                let gas: u64 = gas.parse().unwrap();
                assert_eq!(result, Ok((gas, hex::decode(expected).unwrap())), "{name}");
                // One gas short is out of gas.
                assert_eq!(
                    run(Fork::Prague, &input, gas - 1),
                    Err(Halt::OutOfGas),
                    "{name}"
                );
            }
            count += 1;
        }
        assert_eq!(count, 28);
    }

    #[test]
    fn msm_and_pairing_prices() {
        // k = len / pair length, rounded down; 0 pairs cost 0.
        assert_eq!(msm_gas(0, 160, G1MUL_GAS, &G1_DISCOUNT), 0);
        assert_eq!(msm_gas(159, 160, G1MUL_GAS, &G1_DISCOUNT), 0);
        assert_eq!(msm_gas(160, 160, G1MUL_GAS, &G1_DISCOUNT), 12_000);
        assert_eq!(msm_gas(2 * 288, 288, G2MUL_GAS, &G2_DISCOUNT), 45_000);
        // Beyond 128 pairs the discount stays at max_discount (519 for G1, 524 for G2).
        assert_eq!(
            msm_gas(200 * 160, 160, G1MUL_GAS, &G1_DISCOUNT),
            200 * 12_000 * 519 / 1000
        );
        assert_eq!(
            msm_gas(129 * 288 + 5, 288, G2MUL_GAS, &G2_DISCOUNT),
            129 * 22_500 * 524 / 1000
        );
        // A pairing input of the wrong length is charged for the whole pairs it holds, then
        // fails.
        assert_eq!(
            pairing_check(Fork::Prague, &[0u8; 385], 70_299),
            Err(Halt::OutOfGas)
        );
        assert_eq!(
            pairing_check(Fork::Prague, &[0u8; 385], 70_300),
            Err(Halt::PrecompileFailure)
        );
        // Infinity paired with infinity: the product is one.
        let mut one = vec![0u8; 32];
        one[31] = 1;
        assert_eq!(
            pairing_check(Fork::Prague, &[0u8; 384], 70_300),
            Ok((70_300, one))
        );
    }
}

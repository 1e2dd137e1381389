//! 0x100 P256VERIFY (EIP-7951, Osaka): ECDSA signature verification on secp256r1 (NIST
//! P-256). Input: message hash h (32) | r (32) | s (32) | public key qx (32) | qy (32), all
//! big-endian. Output: 32 bytes holding 1 when the signature verifies, and no bytes otherwise.
//! A failed verification or a malformed input is not an error: the call succeeds, costs the
//! same 6900 gas and returns nothing.

use super::check_gas;
use crate::vm::Halt;
use crate::Fork;
use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::ops::{LinearCombination, Reduce};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::sec1::FromEncodedPoint;
use p256::elliptic_curve::{Field, PrimeField};
use p256::{AffinePoint, EncodedPoint, FieldBytes, ProjectivePoint, Scalar, U256};

/// Gas of P256VERIFY.
pub const GAS: u64 = 6_900;

/// Runs P256VERIFY.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    check_gas(GAS, gas)?;
    let mut out = Vec::new();
    if verify(input) {
        out.resize(32, 0);
        out[31] = 1;
    }
    Ok((GAS, out))
}

/// The checks and the verification equation of EIP-7951, in its order.
fn verify(input: &[u8]) -> bool {
    // 1. Exactly 160 bytes.
    if input.len() != 160 {
        return false;
    }
    let word = |i: usize| {
        let mut bytes = FieldBytes::default();
        bytes.copy_from_slice(&input[32 * i..32 * (i + 1)]);
        bytes
    };
    // 2. 0 < r < n and 0 < s < n: `from_repr` refuses values >= n.
    let (Some(r), Some(s)) = (
        Option::<Scalar>::from(Scalar::from_repr(word(1))),
        Option::<Scalar>::from(Scalar::from_repr(word(2))),
    ) else {
        return false;
    };
    if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
        return false;
    }
    // 3-5. qx, qy < p and on the curve `y^2 = x^3 + a x + b`. (0, 0), the conventional
    // encoding of infinity, is not on the curve, so it fails here too.
    let encoded = EncodedPoint::from_affine_coordinates(&word(3), &word(4), false);
    let Some(q) = Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded)) else {
        return false;
    };
    // The hash as a scalar (reduced modulo n; it is 256 bits, so nothing is truncated).
    let h = <Scalar as Reduce<U256>>::reduce_bytes(&word(0));
    // R' = (h / s) G + (r / s) Q.
    let Some(s_inv) = Option::<Scalar>::from(s.invert()) else {
        return false;
    };
    // u1·G + u2·Q, computed as one linear combination (Shamir's trick) rather than two
    // separate multiplications.
    let point = ProjectivePoint::lincomb(
        &ProjectivePoint::GENERATOR,
        &(h * s_inv),
        &ProjectivePoint::from(q),
        &(r * s_inv),
    );
    if bool::from(point.is_identity()) {
        return false;
    }
    // R'.x mod n == r.
    let x = <Scalar as Reduce<U256>>::reduce_bytes(&point.to_affine().x());
    x == r
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    /// A signature of EIP-7951's test vectors (from the Wycheproof P-256 SHA-256 set).
    const VALID: &str = "bb5a52f42f9c9261ed4361f59422a1e30036e7c32b270c8807a419feca6050232ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e184cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd762927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e";

    #[test]
    fn verifies_a_valid_signature() {
        let input = hex::decode(VALID).unwrap();
        let mut one = vec![0u8; 32];
        one[31] = 1;
        assert_eq!(run(Fork::Osaka, &input, GAS), Ok((GAS, one)));
        assert_eq!(run(Fork::Osaka, &input, GAS - 1), Err(Halt::OutOfGas));
    }

    #[test]
    fn failures_return_nothing_and_cost_the_same() {
        let input = hex::decode(VALID).unwrap();
        // A changed hash.
        let mut bad = input.clone();
        bad[0] ^= 1;
        assert_eq!(run(Fork::Osaka, &bad, GAS), Ok((GAS, vec![])));
        // Wrong lengths.
        assert_eq!(run(Fork::Osaka, &input[..159], GAS), Ok((GAS, vec![])));
        assert_eq!(
            run(Fork::Osaka, &[input.clone(), vec![0]].concat(), GAS),
            Ok((GAS, vec![]))
        );
        assert_eq!(run(Fork::Osaka, &[], GAS), Ok((GAS, vec![])));
        // r = 0, and s = n.
        let mut bad = input.clone();
        bad[32..64].fill(0);
        assert_eq!(run(Fork::Osaka, &bad, GAS), Ok((GAS, vec![])));
        let mut bad = input.clone();
        bad[64..96].copy_from_slice(&hex!(
            "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
        ));
        assert_eq!(run(Fork::Osaka, &bad, GAS), Ok((GAS, vec![])));
        // The public key at "infinity" (0, 0), and off the curve.
        let mut bad = input.clone();
        bad[96..].fill(0);
        assert_eq!(run(Fork::Osaka, &bad, GAS), Ok((GAS, vec![])));
        let mut bad = input;
        bad[159] ^= 1;
        assert_eq!(run(Fork::Osaka, &bad, GAS), Ok((GAS, vec![])));
    }
}

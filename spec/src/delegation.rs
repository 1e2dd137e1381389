//! EIP-7702 (Prague): an externally owned account delegates its code to another account.
//!
//! A set-code transaction carries authorizations, each signed by an authority. Before the
//! transaction's message runs, every valid authorization writes the delegation designator
//! `0xef0100 || address` as the authority's code and bumps the authority's nonce. From then on
//! a call to the authority runs the delegate's code in the authority's context, while the
//! EXTCODE* instructions see the 23-byte designator itself.

use crate::state::State;
use crate::types::Authorization;
use crate::vm::gas;
use crate::Fork;
use alloy_primitives::{keccak256, Address, Bytes, U256};
use alloy_rlp::Encodable;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};

/// The first three bytes of a delegation designator.
pub const DELEGATION_PREFIX: [u8; 3] = [0xef, 0x01, 0x00];
/// The length of a delegation designator: the prefix and an address.
pub const DELEGATION_LENGTH: usize = DELEGATION_PREFIX.len() + 20;
/// The byte that starts the message an authority signs (EIP-7702's `MAGIC`).
pub const AUTHORIZATION_MAGIC: u8 = 0x05;

/// The order of the secp256k1 group, `n`.
const SECP256K1_N: U256 = U256::from_be_bytes([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

/// Whether `code` is a delegation designator.
pub fn is_delegation(code: &[u8]) -> bool {
    code.len() == DELEGATION_LENGTH && code.starts_with(&DELEGATION_PREFIX)
}

/// The delegate named by a delegation designator, or `None` for any other code.
pub fn delegated_address(code: &[u8]) -> Option<Address> {
    is_delegation(code).then(|| Address::from_slice(&code[DELEGATION_PREFIX.len()..]))
}

/// The delegate whose code runs for an account with `code` under `fork`: from Prague, the
/// address a delegation designator names; `None` for any other code and before Prague.
pub fn delegate(fork: Fork, code: &[u8]) -> Option<Address> {
    if fork < Fork::Prague {
        return None;
    }
    delegated_address(code)
}

/// The designator that delegates to `address`.
pub fn designator(address: Address) -> Bytes {
    let mut code = DELEGATION_PREFIX.to_vec();
    code.extend_from_slice(address.as_slice());
    code.into()
}

/// The hash an authority signs: `keccak256(0x05 || rlp([chain_id, address, nonce]))`.
pub fn signing_hash(auth: &Authorization) -> [u8; 32] {
    let payload_length = auth.chain_id.length() + auth.address.length() + auth.nonce.length();
    let mut out = vec![AUTHORIZATION_MAGIC];
    alloy_rlp::Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    auth.chain_id.encode(&mut out);
    auth.address.encode(&mut out);
    auth.nonce.encode(&mut out);
    keccak256(&out).0
}

/// The authority of an authorization, recovered from its signature; `None` when the
/// signature is invalid: a y parity other than 0 or 1, `r` outside `1..n`, or `s` outside
/// `1..=n/2` (EIP-2's low-s rule applies to authorizations).
pub fn recover_authority(auth: &Authorization) -> Option<Address> {
    if auth.y_parity > 1 || auth.r.is_zero() || auth.r >= SECP256K1_N {
        return None;
    }
    if auth.s.is_zero() || auth.s > SECP256K1_N >> 1 {
        return None;
    }
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&auth.r.to_be_bytes::<32>());
    compact[32..].copy_from_slice(&auth.s.to_be_bytes::<32>());
    let id = RecoveryId::try_from(i32::from(auth.y_parity)).ok()?;
    let signature = RecoverableSignature::from_compact(&compact, id).ok()?;
    let message = secp256k1::Message::from_digest(signing_hash(auth));
    let key = signature.recover(message).ok()?;
    let digest = keccak256(&key.serialize_uncompressed()[1..]);
    Some(Address::from_slice(&digest[12..]))
}

/// Applies a set-code transaction's authorizations in order, before its message, and returns
/// the refund they earn. An authorization that fails a check is skipped, not an error:
/// its chain id must be 0 or the chain's, its nonce below 2^64 - 1, its signature valid, its
/// authority's code empty or already a delegation and its authority's nonce equal to its own.
/// A valid one warms the authority, refunds 25000 - 12500 when the authority already exists,
/// sets the designator (delegation to the zero address clears the code instead) and bumps the
/// authority's nonce. These changes stay even if the message fails. The authority is always
/// recovered from the signature here; a loader's precomputed [`Authorization::authority`] is
/// not trusted.
pub fn apply_authorizations(state: &mut State, chain_id: u64, list: &[Authorization]) -> i64 {
    let mut refund = 0i64;
    for auth in list {
        if !auth.chain_id.is_zero() && auth.chain_id != U256::from(chain_id) {
            continue;
        }
        if auth.nonce == u64::MAX {
            continue;
        }
        let Some(authority) = recover_authority(auth) else {
            continue;
        };
        state.warm_address(authority);
        let code = state.code(&authority);
        if !code.is_empty() && !is_delegation(&code) {
            continue;
        }
        if state.nonce(&authority) != auth.nonce {
            continue;
        }
        if state.exists(&authority) {
            refund += (gas::PER_EMPTY_ACCOUNT - gas::PER_AUTH_BASE) as i64;
        }
        let code = if auth.address == Address::ZERO {
            Bytes::new()
        } else {
            designator(auth.address)
        };
        state.set_code(authority, code);
        state.increment_nonce(authority);
    }
    refund
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::types::{Account, WorldState};
    use alloy_primitives::address;
    use secp256k1::{Secp256k1, SecretKey};

    const DELEGATE: Address = address!("00000000000000000000000000000000000d0d0d");

    /// An authorization signed with `key`, and the key's address.
    pub(crate) fn signed(
        key: [u8; 32],
        chain_id: u64,
        address: Address,
        nonce: u64,
    ) -> (Authorization, Address) {
        let mut auth = Authorization {
            chain_id: U256::from(chain_id),
            address,
            nonce,
            y_parity: 0,
            r: U256::ZERO,
            s: U256::ZERO,
            authority: None,
        };
        let secp = Secp256k1::new();
        let secret = SecretKey::from_byte_array(key).expect("valid key");
        let message = secp256k1::Message::from_digest(signing_hash(&auth));
        let (id, compact) = secp
            .sign_ecdsa_recoverable(message, &secret)
            .serialize_compact();
        auth.y_parity = i32::from(id) as u8;
        auth.r = U256::from_be_slice(&compact[..32]);
        auth.s = U256::from_be_slice(&compact[32..]);
        let public = secret.public_key(&secp).serialize_uncompressed();
        let signer = Address::from_slice(&keccak256(&public[1..])[12..]);
        (auth, signer)
    }

    #[test]
    fn designators_are_23_bytes_with_the_prefix() {
        let code = designator(DELEGATE);
        assert_eq!(code.len(), 23);
        assert!(is_delegation(&code));
        assert_eq!(delegated_address(&code), Some(DELEGATE));
        assert!(!is_delegation(&code[..22]));
        let mut other = code.to_vec();
        other[2] = 0x01;
        assert_eq!(delegated_address(&other), None);
    }

    #[test]
    fn recovers_the_signer_and_rejects_high_s() {
        let (auth, signer) = signed([7; 32], 1, DELEGATE, 0);
        assert_eq!(recover_authority(&auth), Some(signer));
        // The same signature with s replaced by n - s is valid ECDSA but not low-s.
        let mut high = auth.clone();
        high.s = SECP256K1_N - auth.s;
        high.y_parity ^= 1;
        assert_eq!(recover_authority(&high), None);
        let mut parity = auth.clone();
        parity.y_parity = 2;
        assert_eq!(recover_authority(&parity), None);
        let mut zero_r = auth;
        zero_r.r = U256::ZERO;
        assert_eq!(recover_authority(&zero_r), None);
    }

    #[test]
    fn applies_only_valid_authorizations() {
        let (good, authority) = signed([7; 32], 1, DELEGATE, 0);
        let (wrong_chain, _) = signed([8; 32], 5, DELEGATE, 0);
        let (wrong_nonce, other) = signed([9; 32], 0, DELEGATE, 3);
        let mut pre = WorldState::default();
        pre.accounts.insert(
            other,
            Account {
                nonce: 2,
                ..Default::default()
            },
        );
        let mut state = State::new(&pre);
        let refund = apply_authorizations(&mut state, 1, &[good.clone(), wrong_chain, wrong_nonce]);
        // The authority did not exist: no refund.
        assert_eq!(refund, 0);
        assert_eq!(state.code(&authority), designator(DELEGATE));
        assert_eq!(state.nonce(&authority), 1);
        assert_eq!(state.code(&other), Bytes::new());
        assert_eq!(state.nonce(&other), 2);
        // A second authorization for the existing authority (nonce 1) to zero clears the code
        // and is refunded.
        let (clear, _) = signed([7; 32], 0, Address::ZERO, 1);
        let refund = apply_authorizations(&mut state, 1, &[good, clear]);
        assert_eq!(refund, 12_500);
        assert_eq!(state.code(&authority), Bytes::new());
        assert_eq!(state.nonce(&authority), 2);
    }
}

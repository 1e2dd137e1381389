//! Deterministic keys and real signatures for generated transactions.
//!
//! Every generated sender (and EIP-7702 authority) has a secret key derived from the run's seed
//! and its index, so that a generated block is an ordinary signed block any client can replay:
//! [`envelope`] turns a lockstep [`Transaction`] into the alloy envelope whose RLP goes into a
//! repro file, and [`sign`] fills in the signature of that envelope.

use crate::fixtures::blockchain_test::RlpTransaction;
use alloy_consensus::{
    EthereumTxEnvelope, SignableTransaction, TxEip1559, TxEip4844, TxEip7702, TxLegacy,
};
use alloy_eips::eip2930::{AccessList, AccessListItem as AlloyAccessListItem};
use alloy_eips::eip7702::{Authorization as AlloyAuthorization, SignedAuthorization};
use alloy_primitives::{keccak256, Address, Signature as AlloySignature, B256, U256};
use k256::ecdsa::SigningKey;
use lockstep_spec::delegation::signing_hash;
use lockstep_spec::types::{Authorization, Signature, Transaction, TxKind, TxType};

/// The secret key of generated account `index` under `seed`: keccak-256 of a domain tag, the
/// seed and the index (re-hashed in the negligible case that it is not a valid scalar).
pub fn secret_key(seed: u64, index: u64) -> SigningKey {
    let mut material = Vec::with_capacity(32);
    material.extend_from_slice(b"lockstep-gen-key");
    material.extend_from_slice(&seed.to_be_bytes());
    material.extend_from_slice(&index.to_be_bytes());
    let mut hash = keccak256(&material);
    loop {
        if let Ok(key) = SigningKey::from_slice(hash.as_slice()) {
            return key;
        }
        hash = keccak256(hash);
    }
}

thread_local! {
    /// Addresses of the keys seen lately on this thread: deriving a public key is a scalar
    /// multiplication, and the builder asks for the same few senders' addresses again and again.
    static ADDRESSES: std::cell::RefCell<std::collections::HashMap<[u8; 32], Address>> =
        Default::default();
}

/// The most addresses a thread keeps ([`address_of`] starts afresh past it). A block's parties
/// are a few dozen keys, but every seed has its own: kept without a bound, a fuzzing campaign
/// grew by one entry per key it ever saw (`block_diff` from 87 to 371 MB of resident memory
/// over its first 400,000 inputs, on its way to libFuzzer's 2 GB limit).
const CACHED_ADDRESSES: usize = if cfg!(test) { 64 } else { 4096 };

/// The address of a secret key: the last 20 bytes of keccak-256 of the public key.
pub fn address_of(key: &SigningKey) -> Address {
    let secret: [u8; 32] = key.to_bytes().into();
    if let Some(address) = ADDRESSES.with(|cache| cache.borrow().get(&secret).copied()) {
        return address;
    }
    let public = key.verifying_key().to_encoded_point(false);
    let address = Address::from_slice(&keccak256(&public.as_bytes()[1..])[12..]);
    ADDRESSES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHED_ADDRESSES {
            cache.clear();
        }
        cache.insert(secret, address);
    });
    address
}

/// Signs a 32-byte hash: `(r, s, y_parity)`.
fn sign_hash(key: &SigningKey, hash: &B256) -> (U256, U256, bool) {
    // A 32-byte prehash always signs with a valid key.
    let (signature, recovery) = key
        .sign_prehash_recoverable(hash.as_slice())
        .unwrap_or_else(|e| unreachable!("signing a 32-byte hash cannot fail: {e}"));
    (
        U256::from_be_slice(&signature.r().to_bytes()),
        U256::from_be_slice(&signature.s().to_bytes()),
        recovery.is_y_odd(),
    )
}

/// An EIP-7702 authorization by `key` delegating to `to` at the authority's `nonce`, signed.
pub fn authorize(key: &SigningKey, chain_id: u64, to: Address, nonce: u64) -> Authorization {
    let mut auth = Authorization {
        chain_id: U256::from(chain_id),
        address: to,
        nonce,
        y_parity: 0,
        r: U256::ZERO,
        s: U256::ZERO,
        authority: Some(address_of(key)),
    };
    let (r, s, odd) = sign_hash(key, &B256::from(signing_hash(&auth)));
    auth.y_parity = u8::from(odd);
    auth.r = r;
    auth.s = s;
    auth
}

fn access_list(tx: &Transaction) -> AccessList {
    AccessList(
        tx.access_list
            .iter()
            .map(|item| AlloyAccessListItem {
                address: item.address,
                storage_keys: item.storage_keys.clone(),
            })
            .collect(),
    )
}

fn alloy_kind(kind: TxKind) -> alloy_primitives::TxKind {
    match kind {
        TxKind::Call(to) => alloy_primitives::TxKind::Call(to),
        TxKind::Create => alloy_primitives::TxKind::Create,
    }
}

/// The callee of a type that cannot create (blob, set-code): such a generated transaction is
/// always a call.
fn callee(tx: &Transaction) -> Result<Address, String> {
    match tx.kind {
        TxKind::Call(to) => Ok(to),
        TxKind::Create => Err(format!("a {:?} transaction cannot create", tx.tx_type)),
    }
}

/// A signable alloy transaction with the fields of `tx`, and its signing hash.
enum Unsigned {
    Legacy(TxLegacy),
    Eip1559(TxEip1559),
    Eip4844(TxEip4844),
    Eip7702(TxEip7702),
}

fn unsigned(tx: &Transaction) -> Result<Unsigned, String> {
    let chain_id = tx.chain_id.unwrap_or(1);
    let tip = tx.max_priority_fee_per_gas.unwrap_or_default();
    Ok(match tx.tx_type {
        TxType::Legacy => Unsigned::Legacy(TxLegacy {
            chain_id: tx.chain_id,
            nonce: tx.nonce,
            gas_price: tx.gas_price,
            gas_limit: tx.gas_limit,
            to: alloy_kind(tx.kind),
            value: tx.value,
            input: tx.input.clone(),
        }),
        TxType::DynamicFee => Unsigned::Eip1559(TxEip1559 {
            chain_id,
            nonce: tx.nonce,
            gas_limit: tx.gas_limit,
            max_fee_per_gas: tx.gas_price,
            max_priority_fee_per_gas: tip,
            to: alloy_kind(tx.kind),
            value: tx.value,
            access_list: access_list(tx),
            input: tx.input.clone(),
        }),
        TxType::Blob => Unsigned::Eip4844(TxEip4844 {
            chain_id,
            nonce: tx.nonce,
            gas_limit: tx.gas_limit,
            max_fee_per_gas: tx.gas_price,
            max_priority_fee_per_gas: tip,
            to: callee(tx)?,
            value: tx.value,
            access_list: access_list(tx),
            blob_versioned_hashes: tx.blob_versioned_hashes.clone(),
            max_fee_per_blob_gas: tx.max_fee_per_blob_gas.unwrap_or_default(),
            input: tx.input.clone(),
        }),
        TxType::SetCode => Unsigned::Eip7702(TxEip7702 {
            chain_id,
            nonce: tx.nonce,
            gas_limit: tx.gas_limit,
            max_fee_per_gas: tx.gas_price,
            max_priority_fee_per_gas: tip,
            to: callee(tx)?,
            value: tx.value,
            access_list: access_list(tx),
            authorization_list: tx
                .authorization_list
                .iter()
                .map(|a| {
                    SignedAuthorization::new_unchecked(
                        AlloyAuthorization {
                            chain_id: a.chain_id,
                            address: a.address,
                            nonce: a.nonce,
                        },
                        a.y_parity,
                        a.r,
                        a.s,
                    )
                })
                .collect(),
            input: tx.input.clone(),
        }),
        TxType::AccessList => return Err("EIP-2930 transactions are not generated".into()),
    })
}

impl Unsigned {
    fn signature_hash(&self) -> B256 {
        match self {
            Unsigned::Legacy(t) => t.signature_hash(),
            Unsigned::Eip1559(t) => t.signature_hash(),
            Unsigned::Eip4844(t) => t.signature_hash(),
            Unsigned::Eip7702(t) => t.signature_hash(),
        }
    }

    fn into_envelope(self, signature: AlloySignature) -> RlpTransaction {
        match self {
            Unsigned::Legacy(t) => EthereumTxEnvelope::Legacy(t.into_signed(signature)),
            Unsigned::Eip1559(t) => EthereumTxEnvelope::Eip1559(t.into_signed(signature)),
            Unsigned::Eip4844(t) => EthereumTxEnvelope::Eip4844(t.into_signed(signature)),
            Unsigned::Eip7702(t) => EthereumTxEnvelope::Eip7702(t.into_signed(signature)),
        }
    }
}

/// Signs `tx` with `key`: sets its sender, signature and secret key. Legacy transactions get
/// an EIP-155 `v`; typed ones their y parity, as the blockchain-test loader records them.
pub fn sign(tx: &mut Transaction, key: &SigningKey) -> Result<(), String> {
    let hash = unsigned(tx)?.signature_hash();
    let (r, s, odd) = sign_hash(key, &hash);
    let parity = U256::from(u8::from(odd));
    let v = match (tx.tx_type, tx.chain_id) {
        (TxType::Legacy, Some(id)) => U256::from(id) * U256::from(2) + U256::from(35) + parity,
        (TxType::Legacy, None) => U256::from(27) + parity,
        _ => parity,
    };
    tx.sender = address_of(key);
    tx.signature = Some(Signature { v, r, s });
    tx.secret_key = Some(B256::from_slice(&key.to_bytes()));
    Ok(())
}

/// The signed alloy envelope of `tx` (which must carry a signature), for its block's RLP.
pub fn envelope(tx: &Transaction) -> Result<RlpTransaction, String> {
    let sig = tx.signature.ok_or("the transaction carries no signature")?;
    let odd = match tx.tx_type {
        TxType::Legacy => {
            // 27/28 or EIP-155's chain_id * 2 + 35/36: the parity is the low bit after the offset.
            let base = match tx.chain_id {
                Some(id) => U256::from(id) * U256::from(2) + U256::from(35),
                None => U256::from(27),
            };
            sig.v != base
        }
        _ => !sig.v.is_zero(),
    };
    Ok(unsigned(tx)?.into_envelope(AlloySignature::new(sig.r, sig.s, odd)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::blockchain_test::transaction;
    use lockstep_spec::Fork;

    #[test]
    fn the_address_cache_stays_bounded_over_many_seeds() {
        let first = secret_key(0, 0);
        let first_address = address_of(&first);
        for seed in 1..2 * CACHED_ADDRESSES as u64 + 10 {
            let key = secret_key(seed, 0);
            let derived = address_of(&key);
            // Asked again, the cache answers what was derived.
            assert_eq!(address_of(&key), derived);
            assert!(ADDRESSES.with(|cache| cache.borrow().len()) <= CACHED_ADDRESSES);
        }
        // The first key's entry is gone by now; derived again, it gives the same address.
        let secret: [u8; 32] = first.to_bytes().into();
        assert!(!ADDRESSES.with(|cache| cache.borrow().contains_key(&secret)));
        assert_eq!(address_of(&first), first_address);
    }

    #[test]
    fn keys_are_deterministic_and_distinct() {
        assert_eq!(secret_key(1, 0).to_bytes(), secret_key(1, 0).to_bytes());
        assert_ne!(secret_key(1, 0).to_bytes(), secret_key(1, 1).to_bytes());
        assert_ne!(secret_key(1, 0).to_bytes(), secret_key(2, 0).to_bytes());
    }

    #[test]
    fn signed_transactions_recover_their_sender_through_the_loader() {
        let key = secret_key(7, 3);
        for tx_type in [TxType::Legacy, TxType::DynamicFee, TxType::Blob] {
            let mut tx = Transaction::call(Address::ZERO, Address::repeat_byte(0x11), 4, 50_000, 9);
            tx.tx_type = tx_type;
            if tx_type != TxType::Legacy {
                tx.max_priority_fee_per_gas = Some(2);
            }
            if tx_type == TxType::Blob {
                tx.max_fee_per_blob_gas = Some(5);
                tx.blob_versioned_hashes = vec![B256::with_last_byte(1)];
            }
            tx.value = U256::from(77);
            sign(&mut tx, &key).expect("signs");
            let decoded =
                transaction(&envelope(&tx).expect("envelope"), Fork::Cancun).expect("decodes");
            assert_eq!(decoded.sender, address_of(&key), "{tx_type:?}");
            assert_eq!(decoded.signature, tx.signature, "{tx_type:?}");
            assert_eq!(decoded.nonce, 4);
            assert_eq!(decoded.value, U256::from(77));
        }
    }

    #[test]
    fn authorizations_recover_their_authority() {
        let key = secret_key(7, 9);
        let auth = authorize(&key, 1, Address::repeat_byte(0x22), 3);
        assert_eq!(
            lockstep_spec::delegation::recover_authority(&auth),
            Some(address_of(&key))
        );
    }
}

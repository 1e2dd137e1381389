//! Transactions of every type: legacy, EIP-2930, EIP-1559, EIP-4844, EIP-7702.

use alloy_primitives::{Address, Bytes, B256, U256};
use serde::{Deserialize, Serialize};

/// The EIP-2718 type of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TxType {
    /// Untyped (type 0).
    Legacy,
    /// EIP-2930 access list transaction (type 1).
    AccessList,
    /// EIP-1559 dynamic fee transaction (type 2).
    DynamicFee,
    /// EIP-4844 blob transaction (type 3).
    Blob,
    /// EIP-7702 set-code transaction (type 4).
    SetCode,
}

impl TxType {
    /// The EIP-2718 type byte.
    pub fn byte(self) -> u8 {
        match self {
            TxType::Legacy => 0,
            TxType::AccessList => 1,
            TxType::DynamicFee => 2,
            TxType::Blob => 3,
            TxType::SetCode => 4,
        }
    }
}

/// Call or create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxKind {
    /// Message call to an address.
    Call(Address),
    /// Contract creation.
    Create,
}

/// One entry of an EIP-2930 access list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessListItem {
    /// Address to warm.
    pub address: Address,
    /// Storage keys to warm.
    pub storage_keys: Vec<B256>,
}

/// An ECDSA signature over secp256k1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// `v` as encoded (27/28, EIP-155 `chain_id * 2 + 35/36`, or the y parity for typed ones).
    pub v: U256,
    /// `r`.
    pub r: U256,
    /// `s`.
    pub s: U256,
}

/// An EIP-7702 authorization tuple, signed by the authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    /// Chain id the authorization is valid on (0: any).
    pub chain_id: U256,
    /// The address whose code the authority delegates to.
    pub address: Address,
    /// The authority's nonce.
    pub nonce: u64,
    /// Signature y parity.
    pub y_parity: u8,
    /// Signature `r`.
    pub r: U256,
    /// Signature `s`.
    pub s: U256,
    /// The recovered authority, if the loader knows it (`None`: invalid signature or unknown).
    pub authority: Option<Address>,
}

/// A transaction with its sender already known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// EIP-2718 type.
    pub tx_type: TxType,
    /// The sender, recovered from the signature or given by the fixture.
    pub sender: Address,
    /// Sender nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Legacy and EIP-2930 gas price; for EIP-1559 and later, the max fee per gas.
    pub gas_price: u128,
    /// EIP-1559 max priority fee per gas; `None` for legacy and EIP-2930 transactions.
    pub max_priority_fee_per_gas: Option<u128>,
    /// Call target or creation.
    pub kind: TxKind,
    /// Value in wei.
    pub value: U256,
    /// Call data or init code.
    pub input: Bytes,
    /// Chain id the transaction is bound to (EIP-155 / typed); `None` for pre-EIP-155 legacy.
    pub chain_id: Option<u64>,
    /// EIP-2930 access list.
    pub access_list: Vec<AccessListItem>,
    /// EIP-4844 max fee per blob gas.
    pub max_fee_per_blob_gas: Option<u128>,
    /// EIP-4844 blob versioned hashes.
    pub blob_versioned_hashes: Vec<B256>,
    /// EIP-7702 authorizations.
    pub authorization_list: Vec<Authorization>,
    /// The signature, when the fixture carries one.
    pub signature: Option<Signature>,
    /// The sender's secret key, when the fixture carries one (state tests, generated blocks).
    pub secret_key: Option<B256>,
}

impl Transaction {
    /// A legacy call with no signature; a convenient starting point for tests and generators.
    pub fn call(sender: Address, to: Address, nonce: u64, gas_limit: u64, gas_price: u128) -> Self {
        Transaction {
            tx_type: TxType::Legacy,
            sender,
            nonce,
            gas_limit,
            gas_price,
            max_priority_fee_per_gas: None,
            kind: TxKind::Call(to),
            value: U256::ZERO,
            input: Bytes::new(),
            chain_id: Some(1),
            access_list: Vec::new(),
            max_fee_per_blob_gas: None,
            blob_versioned_hashes: Vec::new(),
            authorization_list: Vec::new(),
            signature: None,
            secret_key: None,
        }
    }
}

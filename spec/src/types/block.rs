//! A block: its environment, transactions, withdrawals and ommers.

use super::Transaction;
use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The blob gas parameters in force (EIP-4844, changed by EIP-7691 and the BPO forks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobSchedule {
    /// Target blobs per block.
    pub target: u64,
    /// Maximum blobs per block.
    pub max: u64,
    /// Denominator of the blob base fee update.
    pub update_fraction: u64,
}

impl BlobSchedule {
    /// The mainnet blob schedule of `fork`; `None` before Cancun and for BPO forks that mainnet
    /// has not scheduled (fixtures then carry their own in `config.blobSchedule`).
    pub fn mainnet(fork: crate::Fork) -> Option<BlobSchedule> {
        use crate::Fork;
        let (target, max, update_fraction) = match fork {
            f if f < Fork::Cancun => return None,
            // EIP-4844.
            Fork::Cancun => (3, 6, 3_338_477),
            // EIP-7691; Osaka keeps Prague's parameters.
            Fork::Prague | Fork::Osaka => (6, 9, 5_007_716),
            Fork::Bpo1 => (10, 15, 8_346_193),
            Fork::Bpo2 => (14, 21, 11_684_671),
            _ => return None,
        };
        Some(BlobSchedule {
            target,
            max,
            update_fraction,
        })
    }
}

/// What a transaction can see of its block, and what the block adds around its transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEnv {
    /// Chain id (EIP-155); 1 for mainnet and the JSON tests.
    pub chain_id: u64,
    /// Block number.
    pub number: u64,
    /// Unix timestamp.
    pub timestamp: u64,
    /// Recipient of priority fees and block rewards (COINBASE).
    pub beneficiary: Address,
    /// Block gas limit.
    pub gas_limit: u64,
    /// EIP-1559 base fee, from London on.
    pub base_fee: Option<u64>,
    /// Proof-of-work difficulty (DIFFICULTY before Paris).
    pub difficulty: U256,
    /// EIP-4399 randomness (PREVRANDAO from Paris on).
    pub prevrandao: Option<B256>,
    /// EIP-4844 excess blob gas, from Cancun on.
    pub excess_blob_gas: Option<u64>,
    /// Blob gas parameters in force, from Cancun on; `None` means the fork's default.
    pub blob_schedule: Option<BlobSchedule>,
    /// EIP-4788 parent beacon block root, from Cancun on.
    pub parent_beacon_block_root: Option<B256>,
    /// Hashes of earlier blocks that BLOCKHASH may return, by number.
    pub block_hashes: BTreeMap<u64, B256>,
}

/// An EIP-4895 withdrawal: a credit in gwei applied after the transactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Withdrawal index.
    pub index: u64,
    /// Validator index.
    pub validator_index: u64,
    /// Recipient.
    pub address: Address,
    /// Amount in gwei.
    pub amount_gwei: u64,
}

/// An ommer (uncle) header as far as rewards need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ommer {
    /// The ommer's beneficiary; `None` when the snapshot does not carry the header.
    pub beneficiary: Option<Address>,
    /// The ommer's block number.
    pub number: u64,
}

/// A block to execute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The environment.
    pub env: BlockEnv,
    /// Transactions in block order.
    pub transactions: Vec<Transaction>,
    /// Withdrawals (Shanghai on), credited after the transactions.
    pub withdrawals: Vec<Withdrawal>,
    /// Ommers (before Paris), rewarded after the transactions.
    pub ommers: Vec<Ommer>,
    /// Whether this is a whole block (block and ommer rewards, system calls, withdrawals) or a
    /// state test's lone transaction, which applies none of these.
    pub full_block: bool,
    /// Whether this is the DAO fork block (balance move of EIP-779).
    pub dao_transition: bool,
}

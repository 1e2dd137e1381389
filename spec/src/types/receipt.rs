//! Receipts, logs and the logs bloom.

use super::TxType;
use alloy_primitives::{Address, Bloom, BloomInput, Bytes, B256};
use serde::{Deserialize, Serialize};

/// A log entry emitted by LOG0..LOG4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    /// Emitting contract.
    pub address: Address,
    /// Up to four topics.
    pub topics: Vec<B256>,
    /// Data.
    pub data: Bytes,
}

/// The receipt of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Transaction type (selects the EIP-2718 envelope of the encoded receipt).
    pub tx_type: TxType,
    /// Whether execution succeeded (EIP-658 status, from Byzantium on).
    pub success: bool,
    /// Before Byzantium: the state root after the transaction, if the executor computed it.
    pub post_state: Option<B256>,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Logs in emission order.
    pub logs: Vec<Log>,
}

impl Receipt {
    /// The bloom filter of this receipt's logs.
    pub fn bloom(&self) -> Bloom {
        logs_bloom(&self.logs)
    }
}

/// The 2048-bit bloom filter over the addresses and topics of `logs`.
pub fn logs_bloom<'a>(logs: impl IntoIterator<Item = &'a Log>) -> Bloom {
    let mut bloom = Bloom::ZERO;
    for log in logs {
        bloom.accrue(BloomInput::Raw(log.address.as_slice()));
        for topic in &log.topics {
            bloom.accrue(BloomInput::Raw(topic.as_slice()));
        }
    }
    bloom
}

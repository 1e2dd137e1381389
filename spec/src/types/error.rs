//! Why a block is invalid: which transaction broke which rule, or which block rule failed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A transaction validity rule. The executor that rejects a transaction names the rule;
/// executors agree when they reject the same transaction for the same rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxRule {
    /// Nonce below the sender's.
    NonceTooLow,
    /// Nonce above the sender's.
    NonceTooHigh,
    /// Nonce at its maximum (EIP-2681).
    NonceMax,
    /// Balance cannot cover gas limit times fee cap plus value (and blob fees).
    InsufficientFunds,
    /// Gas limit below the intrinsic gas (or the EIP-7623 floor).
    IntrinsicGas,
    /// Gas limit above what is left in the block.
    GasLimitReached,
    /// Gas limit above the EIP-7825 transaction cap.
    GasLimitCap,
    /// Max fee per gas below the block's base fee.
    FeeCapBelowBaseFee,
    /// Priority fee above the max fee.
    PriorityFeeAboveFeeCap,
    /// Gas price arithmetic overflows.
    FeeOverflow,
    /// Blob transaction rules (EIP-4844, 7594): count, versioned hash, fee, create.
    BlobRules,
    /// EIP-7702 rules: empty authorization list, create.
    SetCodeRules,
    /// Init code above the EIP-3860 limit.
    InitCodeTooLarge,
    /// Sender has code (EIP-3607).
    SenderNotEoa,
    /// Chain id does not match.
    ChainId,
    /// Transaction type not enabled at this fork.
    TypeNotSupported,
    /// Signature invalid or sender unknown.
    InvalidSignature,
    /// Any other rule; the message says which.
    Other,
}

/// A block-level rule (header checks, gas and blob totals, withdrawals, requests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockRule {
    /// A header field is inconsistent with the parent or the block body.
    Header,
    /// Gas used differs from the header.
    GasUsed,
    /// Blob gas used or excess blob gas is wrong.
    BlobGas,
    /// The block is not decodable.
    Rlp,
    /// The block size exceeds the EIP-7934 limit.
    BlockSize,
    /// A system contract that must run has no code, or its call failed (EIP-7002, EIP-7251).
    SystemCall,
    /// The block's requests cannot be read, such as a malformed deposit log (EIP-6110).
    Requests,
    /// Any other rule; the message says which.
    Other,
}

/// A block was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockError {
    /// Transaction `index` broke `rule`.
    Transaction {
        /// Position of the offending transaction in the block.
        index: usize,
        /// The rule it broke.
        rule: TxRule,
        /// The executor's own words.
        message: String,
    },
    /// A block-level rule failed.
    Block {
        /// The rule.
        rule: BlockRule,
        /// The executor's own words.
        message: String,
    },
}

impl BlockError {
    /// The index of the offending transaction, for transaction errors.
    pub fn tx_index(&self) -> Option<usize> {
        match self {
            BlockError::Transaction { index, .. } => Some(*index),
            BlockError::Block { .. } => None,
        }
    }
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockError::Transaction {
                index,
                rule,
                message,
            } => write!(f, "transaction {index} invalid ({rule:?}): {message}"),
            BlockError::Block { rule, message } => write!(f, "block invalid ({rule:?}): {message}"),
        }
    }
}

impl std::error::Error for BlockError {}

//! What executing a block produces.

use super::{Receipt, WorldState};
use alloy_primitives::Bytes;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Counters an executor reports about how it ran a block. Not part of the semantics: two
/// executors agree when everything but the stats is equal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecStats {
    /// Whether the parallel path ran (false for sequential executors and for fallbacks).
    pub parallel: bool,
    /// Why the executor fell back to sequential execution, if it did (a fixed text where
    /// one does: the smallest blocks take a few microseconds, and an allocation shows).
    pub fallback: Option<Cow<'static, str>>,
    /// Transaction incarnations executed (equals the transaction count with no re-execution).
    pub incarnations: u64,
    /// Incarnations aborted because a read turned out stale or a dependency was found.
    pub aborts: u64,
    /// Read-set validations performed.
    pub validations: u64,
    /// Times a transaction waited on an unfinished dependency.
    pub dependency_waits: u64,
    /// How the block was run, where an executor chooses (for example `auto`'s choice and
    /// its reason, or how many shards ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Cow<'static, str>>,
}

/// The result of executing a valid block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockOutcome {
    /// World state after the block (normalized: no zero storage slots).
    pub post_state: WorldState,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Gas used by each transaction (after refunds; what the sender paid for).
    pub gas_used: Vec<u64>,
    /// Blob gas used by the block (EIP-4844).
    pub blob_gas_used: u64,
    /// The block's execution-layer requests (EIP-7685, Prague on): each entry is the request
    /// type byte followed by the concatenated requests of that type, in type order, with
    /// types that have no request left out (so `requestsHash` is computed over exactly these).
    pub requests: Vec<Bytes>,
    /// How the executor ran. Ignored by comparison.
    pub stats: ExecStats,
}

impl BlockOutcome {
    /// Gas used by the whole block.
    pub fn block_gas_used(&self) -> u64 {
        self.receipts.last().map_or(0, |r| r.cumulative_gas_used)
    }
}

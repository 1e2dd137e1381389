//! A block's execution as an executor produces it, before it is turned into lockstep's data
//! model: the post-state as changes over the pre-state (what a client would write to its
//! database), the receipts and the counters. Converting to a full
//! [`WorldState`](lockstep_spec::types::WorldState) is left to [`Executed::into_outcome`],
//! outside what a benchmark of the executor times.

use crate::state::BlockState;
use alloy_primitives::Bytes;
use lockstep_spec::types::{BlockOutcome, ExecStats, Receipt};

/// The result of executing a valid block.
#[derive(Debug)]
pub struct Executed<'a> {
    /// The state after the block.
    pub state: BlockState<'a>,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Gas used by each transaction (after refunds).
    pub gas_used: Vec<u64>,
    /// Blob gas used by the block (EIP-4844).
    pub blob_gas_used: u64,
    /// The block's execution-layer requests (EIP-7685).
    pub requests: Vec<Bytes>,
    /// How the executor ran.
    pub stats: ExecStats,
}

impl Executed<'_> {
    /// The outcome in lockstep's data model, with the whole post-state.
    pub fn into_outcome(self) -> BlockOutcome {
        BlockOutcome {
            post_state: self.state.to_world_state(),
            receipts: self.receipts,
            gas_used: self.gas_used,
            blob_gas_used: self.blob_gas_used,
            requests: self.requests,
            stats: self.stats,
        }
    }
}

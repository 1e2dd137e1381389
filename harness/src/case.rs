//! A test case: a pre-state, one or more blocks, and what each block must produce.
//!
//! Every loader turns a file into `Case`s; every executor runs them; every check reads the
//! expectations here.

use alloy_primitives::{Bloom, B256};
use lockstep_spec::types::{Block, WorldState};
use lockstep_spec::Fork;
use std::path::PathBuf;

/// The kind of fixture a case came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// ethereum/tests GeneralStateTests or EEST `state_test`.
    StateTest,
    /// ethereum/tests BlockchainTests or EEST `blockchain_test`.
    BlockchainTest,
    /// A mainnet block snapshot.
    MainnetBlock,
    /// A generated block.
    Generated,
}

/// Values a block's header claims (or a state test's `post` entry expects). `None` fields are
/// not checked. A block is accepted only if its execution reproduces every claim.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidExpect {
    /// State root after the block.
    pub state_root: Option<B256>,
    /// keccak-256 of the RLP of all logs (state tests).
    pub logs_hash: Option<B256>,
    /// Receipts root of the header.
    pub receipts_root: Option<B256>,
    /// Gas used of the header.
    pub gas_used: Option<u64>,
    /// Logs bloom of the header.
    pub logs_bloom: Option<Bloom>,
    /// Blob gas used of the header.
    pub blob_gas_used: Option<u64>,
    /// Hash of the block's execution-layer requests (EIP-7685, Prague on).
    pub requests_hash: Option<B256>,
}

/// What a block must do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockExpect {
    /// What the header (or state test) claims the block produces. Filled for blocks that must
    /// be rejected too (from their RLP header), since a wrong claim is one reason to reject.
    pub claims: ValidExpect,
    /// `Some`: the block must be rejected; the fixture's exception names (`|`-separated).
    pub exception: Option<String>,
    /// A header rule the block breaks with respect to its parent, found by the loader; such a
    /// block is rejected before any executor runs it.
    pub header_error: Option<String>,
    /// A body rule the block breaks that execution does not decide (its transactions root). It
    /// is applied after execution, so that executors still meet the block's invalid
    /// transactions: an accepted block with a body error is rejected.
    pub body_error: Option<String>,
}

/// One block of a case, with the fork in force for it.
#[derive(Clone, Debug)]
pub struct CaseBlock {
    /// Rules for this block (transition networks change fork mid-chain).
    pub fork: Fork,
    /// The block, or why it could not be decoded (an undecodable block must be expected to
    /// be invalid).
    pub block: Result<Block, String>,
    /// Hash of the block header, where the fixture gives it (blockchain tests).
    pub hash: Option<B256>,
    /// What the block must do.
    pub expect: BlockExpect,
}

/// What must hold after the last block.
#[derive(Clone, Debug, Default)]
pub struct FinalExpect {
    /// The full post-state, where the fixture gives it.
    pub post_state: Option<WorldState>,
    /// The post-state root, where the fixture gives only a hash.
    pub state_root: Option<B256>,
    /// Hash of the last block accepted.
    pub last_block_hash: Option<B256>,
}

/// A runnable case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Unique, stable id: `file::test[fork][d0g0v0]` style.
    pub id: String,
    /// The fixture file.
    pub file: PathBuf,
    /// The test name inside the file.
    pub test: String,
    /// The fork of the case (of its first block for transition networks), used by `--fork`.
    pub fork: Fork,
    /// Which format the case came from.
    pub kind: CaseKind,
    /// State before the first block.
    pub pre: WorldState,
    /// Blocks in chain order.
    pub blocks: Vec<CaseBlock>,
    /// What must hold at the end.
    pub expect: FinalExpect,
    /// Why this case cannot run at all (the loader knows it cannot be represented), if so.
    pub skip: Option<String>,
}

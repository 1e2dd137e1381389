//! The partitioning pass's prediction: which accounts a transaction will write, from what a
//! transaction says about itself, without running it. A prediction only decides which
//! transactions share a shard; a wrong one costs a re-execution, never a wrong result.

use crate::contention;
use crate::fast_hash::PreHashed;
use crate::state::BlockState;
use alloy_primitives::Address;
use lockstep_spec::types::{Block, Transaction, TxKind};
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};

/// The accounts `tx` is predicted to write: its sender (nonce and balance) and, for a value
/// transfer to an account without code, the recipient. A call to a contract is not predicted
/// to write the contract: calls to one token must not all land in one shard, and what they
/// do to its storage is seen by validation. The beneficiary, written by every transaction's
/// fee, is left out (fees are credited lazily).
pub fn written_accounts(
    tx: &Transaction,
    pre: &BlockState<'_>,
    beneficiary: Address,
) -> SmallVec<[Address; 2]> {
    let mut accounts = SmallVec::new();
    accounts.push(tx.sender);
    if let TxKind::Call(to) = tx.kind {
        let has_code = pre
            .info(&to)
            .and_then(|info| info.code.as_ref())
            .is_some_and(|code| !code.is_empty());
        if !has_code && to != beneficiary && to != tx.sender {
            accounts.push(to);
        }
    }
    accounts.retain(|a| *a != beneficiary);
    accounts
}

/// Cheap features of a block, for choosing how to run it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    /// Transactions in the block.
    pub transactions: usize,
    /// The sum of the transactions' gas limits.
    pub gas: u64,
    /// The share of the block's gas in its largest predicted group (1.0: everything depends
    /// on everything; no shard can run beside it).
    pub largest_group_share: f64,
    /// The share of transactions that repeat an earlier transaction's call exactly (same
    /// contract, same input): such calls usually write the same storage and conflict.
    pub repeated_calls: f64,
    /// The share of transactions sent from or to the beneficiary: each of them reads it,
    /// and so depends on the fees of every transaction before it.
    pub beneficiary_share: f64,
    /// The share of transactions that are value transfers to accounts without code or calls
    /// of the block's most called contract: blocks that are mostly one kind of work, whose
    /// partition tends to be clean.
    pub uniform_share: f64,
    /// The share of transactions that are calls of accounts without code: mostly plain
    /// transfers, which the sharded executor runs without revm.
    pub plain_share: f64,
    /// The share of transactions sent by the block's busiest sender (a nonce chain).
    pub top_sender_share: f64,
    /// The longest predicted chain of dependent transactions
    /// ([`crate::contention::critical_path`], found in the same pass).
    pub longest_chain: usize,
}

/// The [`Features`] of `block`, given the size of its largest predicted group's gas.
pub fn features(block: &Block, largest_group_gas: u64, pre: &BlockState<'_>) -> Features {
    let gas: u64 = block.transactions.iter().map(|tx| tx.gas_limit).sum();
    // The features are computed for every block `auto` runs, in one pass that also finds
    // the longest chain, with the chain's 64-bit keys: calls are told apart by the hash of
    // callee and input (a collision merely counts a call as repeated), so that identical
    // inputs are not compared byte by byte, and each callee is looked up once.
    let transactions = block.transactions.len();
    let mut seen: HashSet<u64, PreHashed> =
        HashSet::with_capacity_and_hasher(transactions, PreHashed);
    let mut chain = contention::ChainScan::with_capacity(transactions);
    let mut keys = [0u64; 3];
    let mut repeated = 0usize;
    let mut plain = 0usize;
    // Counts by account key (a collision merely merges two counts).
    let mut calls: HashMap<u64, usize, PreHashed> = HashMap::with_hasher(PreHashed);
    let mut senders: HashMap<u64, usize, PreHashed> =
        HashMap::with_capacity_and_hasher(transactions, PreHashed);
    for tx in &block.transactions {
        let callee_has_code = match tx.kind {
            TxKind::Call(to) => pre.info(&to).is_some_and(|info| !info.is_empty_code_hash()),
            TxKind::Create => false,
        };
        let count = contention::chain_keys(tx, callee_has_code, &mut keys);
        chain.add(&keys[..count]);
        *senders.entry(keys[0]).or_default() += 1;
        let TxKind::Call(to) = tx.kind else { continue };
        if !callee_has_code {
            plain += 1;
            continue;
        }
        *calls.entry(contention::account_key(&to)).or_default() += 1;
        // The call's key follows the sender's.
        if !seen.insert(keys[1]) {
            repeated += 1;
        }
    }
    let most_called = calls.values().copied().max().unwrap_or(0);
    Features {
        transactions,
        gas,
        largest_group_share: if gas == 0 {
            0.0
        } else {
            largest_group_gas as f64 / gas as f64
        },
        repeated_calls: share(repeated, transactions),
        beneficiary_share: crate::contention::beneficiary_share(block),
        uniform_share: share(plain + most_called, transactions),
        plain_share: share(plain, transactions),
        top_sender_share: share(senders.values().copied().max().unwrap_or(0), transactions),
        longest_chain: chain.longest(),
    }
}

/// `part` of `whole` as a fraction (0 for an empty whole).
fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

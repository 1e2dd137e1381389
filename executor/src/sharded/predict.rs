//! The partitioning pass's prediction: which accounts a transaction will write, from what a
//! transaction says about itself, without running it. A prediction only decides which
//! transactions share a shard; a wrong one costs a re-execution, never a wrong result.

use crate::contention;
use crate::fast_hash::PreHashed;
use crate::state::BlockState;
use alloy_primitives::Address;
use lockstep_spec::types::{Block, TxKind};
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};

/// What the prediction reads of one transaction, once per block: the keys of its sender, of
/// the account it calls and of the call itself ([`contention::account_key`],
/// [`contention::call_key`]), whether that account has code (the one lookup of the state a
/// prediction makes), its gas limit and whether it is sent from or to the beneficiary.
/// Everything `auto` and Block-STM's fallback look at is computed from these: a transaction
/// takes several cache lines, a block of thousands is read from memory once, not once per
/// question asked of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxFacts {
    /// The sender's key.
    pub sender: u64,
    /// The called account's key (`None`: a creation).
    pub callee: Option<u64>,
    /// The key of the call, the callee with the exact call data (`None`: a creation): calls
    /// that say the same thing to the same account.
    pub call: Option<u64>,
    /// Whether the called account has code.
    pub callee_has_code: bool,
    /// Whether the transaction is sent from or to the block's beneficiary.
    pub with_beneficiary: bool,
    /// The transaction's gas limit (its weight in the partition).
    pub gas_limit: u64,
}

/// The [`TxFacts`] of every transaction of `block`, on the state `pre` at its start.
pub fn facts(block: &Block, pre: &BlockState<'_>) -> Vec<TxFacts> {
    let beneficiary = block.env.beneficiary;
    // The last callee with its key and code: a block calling one contract again and again
    // (a token, a counter) hashes and looks it up once.
    let mut last: Option<(Address, u64, bool)> = None;
    block
        .transactions
        .iter()
        .map(|tx| {
            let (callee, call, callee_has_code) = match tx.kind {
                TxKind::Call(to) => {
                    let (callee, has_code) = match last {
                        Some((address, key, has_code)) if address == to => (key, has_code),
                        _ => {
                            let key = contention::account_key(&to);
                            let has_code =
                                pre.info(&to).is_some_and(|info| !info.is_empty_code_hash());
                            last = Some((to, key, has_code));
                            (key, has_code)
                        }
                    };
                    (
                        Some(callee),
                        Some(contention::call_key(callee, &tx.input)),
                        has_code,
                    )
                }
                TxKind::Create => (None, None, false),
            };
            TxFacts {
                sender: contention::account_key(&tx.sender),
                callee,
                call,
                callee_has_code,
                with_beneficiary: tx.sender == beneficiary || tx.kind == TxKind::Call(beneficiary),
                gas_limit: tx.gas_limit,
            }
        })
        .collect()
}

/// The sum of the gas limits of the transactions whose facts are `facts`.
pub fn gas(facts: &[TxFacts]) -> u64 {
    facts.iter().map(|facts| facts.gas_limit).sum()
}

/// The share of the transactions whose facts are `facts` sent from or to the beneficiary.
pub fn beneficiary_share(facts: &[TxFacts]) -> f64 {
    share(
        facts.iter().filter(|f| f.with_beneficiary).count(),
        facts.len(),
    )
}

/// The keys of the accounts a transaction with `facts` is predicted to write: its sender
/// (nonce and balance) and, for a call of an account without code (a value transfer), the
/// recipient. A call to a contract is not predicted to write the contract: calls to one
/// token must not all land in one shard, and what they do to its storage is seen by
/// validation. The beneficiary (keyed `beneficiary`), written by every transaction's fee, is
/// left out (fees are credited lazily). A key shared by two accounts merely joins
/// transactions that need not be.
pub fn written_accounts(facts: &TxFacts, beneficiary: u64) -> SmallVec<[u64; 2]> {
    let mut accounts = SmallVec::new();
    if facts.sender != beneficiary {
        accounts.push(facts.sender);
    }
    if let Some(callee) = facts.callee {
        if !facts.callee_has_code && callee != beneficiary && callee != facts.sender {
            accounts.push(callee);
        }
    }
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
    /// The share of transactions that are value transfers to accounts without code or calls
    /// of the block's most called contract: blocks that are mostly one kind of work, whose
    /// partition tends to be clean.
    pub uniform_share: f64,
}

/// The [`Features`] of a block whose transactions' facts are `facts`, given the size of its
/// largest predicted group's gas. (The share of the transactions sent from or to the
/// beneficiary is [`beneficiary_share`], and that of the busiest sender
/// [`top_sender_share`]: `auto` reads each where it needs it, not on every block.)
pub fn features(facts: &[TxFacts], largest_group_gas: u64) -> Features {
    let gas = gas(facts);
    // Calls are told apart by their 64-bit key of callee and input (a collision merely
    // counts a call as repeated), so that identical inputs are not compared byte by byte.
    let transactions = facts.len();
    let mut seen: HashSet<u64, PreHashed> =
        HashSet::with_capacity_and_hasher(transactions, PreHashed);
    let mut repeated = 0usize;
    let mut plain = 0usize;
    // Counts by account key (a collision merely merges two counts).
    let mut calls: HashMap<u64, usize, PreHashed> = HashMap::with_hasher(PreHashed);
    for facts in facts {
        let (Some(callee), Some(call)) = (facts.callee, facts.call) else {
            continue;
        };
        if !facts.callee_has_code {
            plain += 1;
            continue;
        }
        *calls.entry(callee).or_default() += 1;
        if !seen.insert(call) {
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
        uniform_share: share(plain + most_called, transactions),
    }
}

/// The share of the transactions whose facts are `facts` sent by their busiest sender (a
/// nonce chain). It counts every sender in a table: on a block of 5,000 transfers from
/// distinct senders, a quarter of the time spent choosing how to run it, so `auto` asks only
/// for a block that is not of one kind.
pub fn top_sender_share(facts: &[TxFacts]) -> f64 {
    let mut senders: HashMap<u64, usize, PreHashed> =
        HashMap::with_capacity_and_hasher(facts.len(), PreHashed);
    for facts in facts {
        *senders.entry(facts.sender).or_default() += 1;
    }
    share(senders.values().copied().max().unwrap_or(0), facts.len())
}

/// The item of `items` that more than half of them equal (by `same`), with how many do: a
/// majority vote (Boyer and Moore's) and a count, two passes of comparisons without a table.
fn majority<T: Copy>(
    items: impl Iterator<Item = T> + Clone,
    same: impl Fn(T, T) -> bool,
) -> Option<(T, usize)> {
    let mut candidate = None;
    let mut votes = 0usize;
    for item in items.clone() {
        match candidate {
            Some(c) if votes > 0 && same(c, item) => votes += 1,
            Some(_) if votes > 0 => votes -= 1,
            _ => {
                candidate = Some(item);
                votes = 1;
            }
        }
    }
    let candidate = candidate?;
    let (count, total) = items.fold((0, 0), |(count, total), item| {
        (count + usize::from(same(candidate, item)), total + 1)
    });
    (2 * count > total).then_some((candidate, count))
}

/// The share of the transactions whose facts are `facts` sent by their one sender of more
/// than half of them, or 0 when no sender has half.
pub fn majority_sender_share(facts: &[TxFacts]) -> f64 {
    majority(facts.iter().map(|f| f.sender), |a, b| a == b)
        .map_or(0.0, |(_, sent)| share(sent, facts.len()))
}

/// The call (callee and exact call data, by [`TxFacts::call`]) that more than half of the
/// transactions whose facts are `facts` make: whether its callee has code, and how many make
/// it (creations vote for no call).
pub fn majority_call(facts: &[TxFacts]) -> Option<(bool, usize)> {
    let (candidate, count) = majority(facts.iter(), |a, b| a.call == b.call)?;
    candidate.call.map(|_| (candidate.callee_has_code, count))
}

/// `part` of `whole` as a fraction (0 for an empty whole).
pub(crate) fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Bytes;
    use lockstep_spec::types::Transaction;

    fn block_from(senders: &[u8]) -> Block {
        let transactions = senders
            .iter()
            .map(|&s| {
                Transaction::call(
                    Address::with_last_byte(s),
                    Address::repeat_byte(0xcc),
                    0,
                    1,
                    1,
                )
            })
            .collect();
        Block {
            transactions,
            ..Default::default()
        }
    }

    /// The facts of `block` on a pre-state where 0xcc… holds code.
    fn facts_of(block: &Block) -> Vec<TxFacts> {
        let pre = crate::contention::tests::pre_with_contract(Address::repeat_byte(0xcc));
        facts(block, &BlockState::new(&pre))
    }

    #[test]
    fn the_majority_sender_is_found_and_no_majority_is_none() {
        // Five of eight from sender 1, spread out, with the vote's candidate changing.
        let block = block_from(&[2, 1, 3, 1, 1, 4, 1, 1]);
        assert!((majority_sender_share(&facts_of(&block)) - 5.0 / 8.0).abs() < 1e-9);
        // Half is not a majority; an empty block has none.
        let half = block_from(&[1, 2, 1, 2]);
        assert_eq!(majority_sender_share(&facts_of(&half)), 0.0);
        assert_eq!(majority_sender_share(&facts_of(&block_from(&[]))), 0.0);
    }

    #[test]
    fn the_majority_call_is_one_callee_with_one_input() {
        let mut block = block_from(&[1, 2, 3, 4, 5]);
        // Three of five make the same call; another input or a creation is another vote.
        block.transactions[1].input = Bytes::from_static(b"x");
        block.transactions[3].kind = TxKind::Create;
        assert_eq!(majority_call(&facts_of(&block)), Some((true, 3)));
        block.transactions[4].input = Bytes::from_static(b"y");
        assert_eq!(majority_call(&facts_of(&block)), None);
        // Calls of an account without code: a majority, of no code.
        let mut transfers = block_from(&[1, 2, 3]);
        for tx in &mut transfers.transactions {
            tx.kind = TxKind::Call(Address::with_last_byte(9));
        }
        assert_eq!(majority_call(&facts_of(&transfers)), Some((false, 3)));
    }

    #[test]
    fn facts_give_the_gas_and_the_share_with_the_beneficiary() {
        let mut block = block_from(&[1, 2, 3, 4]);
        block.env.beneficiary = Address::with_last_byte(0xbb);
        block.transactions[0].sender = Address::with_last_byte(0xbb);
        block.transactions[2].kind = TxKind::Call(Address::with_last_byte(0xbb));
        block.transactions[3].gas_limit = 7;
        let facts = facts_of(&block);
        assert!((beneficiary_share(&facts) - 0.5).abs() < 1e-9);
        assert_eq!(gas(&facts), 3 + 7);
        assert!(facts[1].callee_has_code && !facts[2].callee_has_code);
    }
}

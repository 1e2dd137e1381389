//! A cheap look at a block before running it, for executors allowed to fall back to sequential
//! execution: a block whose transactions form one long chain of dependencies gains nothing
//! from Block-STM and pays for its aborts, so it is better run sequentially from the start
//! than abandoned after wasted work (`block_stm::too_contended` stays as the backstop).
//!
//! The prediction uses only what a transaction says about itself. Each transaction is given
//! keys: its sender's account (the nonce makes transactions of one sender a chain); the
//! recipient's account when the recipient has no code (a value transfer writes both balances)
//! or when value is sent; and, for a call to code, the pair of the callee and the exact call
//! data, since calls that say the same thing to the same contract (a counter, a mint) tend to
//! write the same slots while calls with different arguments (token transfers between
//! different accounts) tend not to. The longest chain of transactions linked by shared keys
//! bounds the parallelism the block can have.

use crate::fast_hash::{FastHash, FastHasher, PreHashed};
use crate::sharded::predict::{self, TxFacts};
use crate::state::BlockState;
use alloy_primitives::Address;
use lockstep_spec::types::{Block, Transaction};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// The length of the longest chain of transactions of `block` in which each shares a key
/// (see the module doc) with the one before it, on the state `pre` at its start.
pub fn critical_path(block: &Block, pre: &BlockState<'_>) -> usize {
    longest_chain(block, &predict::facts(block, pre))
}

/// [`critical_path`] from the transactions' facts, already read.
pub fn longest_chain(block: &Block, facts: &[TxFacts]) -> usize {
    scan_chains(block, facts, |_, _| true).unwrap_or(0)
}

/// Why `block` is predicted serial by its longest chain ([`serial_reason`] of
/// [`longest_chain`]), if it is, from the transactions' facts. The scan stops as soon as the
/// transactions left could no longer make a chain long enough (a chain grows by one at most
/// per transaction): a block of independent transactions is decided after its first eighth.
pub fn chain_bound(block: &Block, facts: &[TxFacts]) -> Option<String> {
    let transactions = block.transactions.len();
    let longest = scan_chains(block, facts, |longest, scanned| {
        predicts_serial(longest + (transactions - scanned), transactions)
    })?;
    serial_reason(longest, transactions)
}

/// The longest chain of `block`'s transactions, scanned in block order while `go_on` (given
/// the longest chain so far and the transactions scanned) holds; `None` if it stopped early.
fn scan_chains(
    block: &Block,
    facts: &[TxFacts],
    mut go_on: impl FnMut(usize, usize) -> bool,
) -> Option<usize> {
    let mut scan = ChainScan::with_capacity(block.transactions.len());
    let mut keys = [0u64; 3];
    for (scanned, (tx, facts)) in block.transactions.iter().zip(facts).enumerate() {
        if !go_on(scan.longest(), scanned) {
            return None;
        }
        let count = chain_keys(tx, facts, &mut keys);
        scan.add(&keys[..count]);
    }
    Some(scan.longest())
}

/// The key of an account: a 64-bit hash of its address (a collision merely links two
/// transactions in the prediction).
pub fn account_key(address: &Address) -> u64 {
    FastHash.hash_one(address)
}

/// The key of a call of the account keyed `callee` with `input` (never an account's key,
/// but for a collision).
pub fn call_key(callee: u64, input: &[u8]) -> u64 {
    let mut hasher = FastHasher::from_state(callee);
    // The length first, so that a call differs from its account even with empty input.
    hasher.write_usize(input.len() + 1);
    hasher.write(input);
    hasher.finish()
}

/// The chain keys of `tx` (see the module doc), whose facts are `facts`, into `keys`; returns
/// how many there are. The first key is the sender's account; the second, when the callee
/// has code, is the call's (callee and call data).
pub fn chain_keys(tx: &Transaction, facts: &TxFacts, keys: &mut [u64; 3]) -> usize {
    keys[0] = facts.sender;
    let mut count = 1;
    if let Some(callee) = facts.callee {
        if let Some(call) = facts.call.filter(|_| facts.callee_has_code) {
            keys[count] = call;
            count += 1;
        }
        if !facts.callee_has_code || !tx.value.is_zero() {
            keys[count] = callee;
            count += 1;
        }
    }
    count
}

/// The longest chain of linked transactions, found one transaction at a time in block order:
/// per key, the length of the longest chain ending at its last holder.
#[derive(Debug, Default)]
pub struct ChainScan {
    depth: HashMap<u64, usize, PreHashed>,
    longest: usize,
}

impl ChainScan {
    /// A scan with room for the keys of `transactions` transactions.
    pub fn with_capacity(transactions: usize) -> Self {
        ChainScan {
            depth: HashMap::with_capacity_and_hasher(2 * transactions, PreHashed),
            longest: 0,
        }
    }

    /// Adds the next transaction, with its keys.
    pub fn add(&mut self, keys: &[u64]) {
        let here = 1 + keys
            .iter()
            .filter_map(|key| self.depth.get(key))
            .max()
            .copied()
            .unwrap_or(0);
        for key in keys {
            self.depth.insert(*key, here);
        }
        self.longest = self.longest.max(here);
    }

    /// The longest chain so far.
    pub fn longest(&self) -> usize {
        self.longest
    }
}

/// A block in which more than this share of the transactions are sent from or to the
/// beneficiary runs sequentially (unless forced): each of them reads the beneficiary's
/// balance, which every earlier transaction's fee changes, so each waits for all before it.
pub const MAX_BENEFICIARY_SHARE: f64 = 0.1;

/// Why a block whose transactions' facts are `facts` is bound by its beneficiary's balance
/// (more than [`MAX_BENEFICIARY_SHARE`] of its transactions sent from or to the
/// beneficiary), if it is.
pub fn beneficiary_bound(facts: &[TxFacts]) -> Option<String> {
    beneficiary_share_bound(predict::beneficiary_share(facts))
}

/// [`beneficiary_bound`] for a block whose [`predict::beneficiary_share`] is `share`.
pub fn beneficiary_share_bound(share: f64) -> Option<String> {
    (share > MAX_BENEFICIARY_SHARE).then(|| {
        format!(
            "{:.0}% of the transactions are sent from or to the beneficiary",
            100.0 * share
        )
    })
}

/// Whether a block of `transactions` whose longest predicted chain (see
/// [`critical_path`]) holds `longest_chain` of them looks too serial to gain from parallel
/// execution: the chain holds more than seven eighths of the transactions, so that the rest
/// could not keep a second thread busy beside it. (Chains of one sender do not abort:
/// Block-STM waits for a sender's previous transaction. A chain of half the block still
/// runs on one thread while the other half runs on another; measured on mainnet, such
/// blocks gain 1.1-1.5x. Tuned on the bundled mainnet blocks: 13,217,637 and 15,274,915,
/// with predicted chains of 85% and 81% of the block, gain 1.4x and 1.17x under Block-STM;
/// 14,396,881, with a chain of 89% (1,197 of its 1,346 transactions), loses: 0.85-0.97x.)
pub fn predicts_serial(longest_chain: usize, transactions: usize) -> bool {
    longest_chain > transactions * 7 / 8
}

/// Why a block of `transactions` with a longest predicted chain of `longest_chain` is
/// predicted serial (see [`predicts_serial`]), if it is.
pub fn serial_reason(longest_chain: usize, transactions: usize) -> Option<String> {
    predicts_serial(longest_chain, transactions).then(|| {
        format!("predicted serial: a chain of {longest_chain} of the {transactions} transactions")
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::PreState;
    use alloy_primitives::{Address, Bytes};
    use lockstep_spec::types::{Account, BlockEnv, TxKind, WorldState};

    /// A pre-state holding one account, `contract`, with code (one STOP): shared by the
    /// prediction's tests.
    pub(crate) fn pre_with_contract(contract: Address) -> PreState {
        let mut world = WorldState::default();
        world.accounts.insert(
            contract,
            Account {
                code: Bytes::from_static(&[0x00]),
                ..Default::default()
            },
        );
        PreState::new(&world, &BlockEnv::default())
    }

    /// The critical path of a block of `txs` on `pre`.
    fn path(pre: &PreState, txs: &[Transaction]) -> usize {
        let block = Block {
            transactions: txs.to_vec(),
            ..Default::default()
        };
        critical_path(&block, &BlockState::new(pre))
    }

    fn call(sender: u8, to: Address, input: &'static [u8]) -> Transaction {
        let mut tx = Transaction::call(Address::with_last_byte(sender), to, 0, 50_000, 1);
        tx.input = Bytes::from_static(input);
        tx
    }

    #[test]
    fn independent_transfers_and_distinct_calls_have_no_chain() {
        let contract = Address::repeat_byte(0xcc);
        let pre = pre_with_contract(contract);
        let transfers: Vec<_> = (0..10)
            .map(|i| {
                let mut tx = call(i, Address::with_last_byte(100 + i), b"");
                tx.value = alloy_primitives::U256::from(1);
                tx
            })
            .collect();
        assert_eq!(path(&pre, &transfers), 1);
        let calls: Vec<_> = [b"a", b"b", b"c"]
            .iter()
            .enumerate()
            .map(|(i, input)| call(i as u8, contract, *input))
            .collect();
        assert_eq!(path(&pre, &calls), 1);
        assert!(!predicts_serial(path(&pre, &calls), calls.len()));
    }

    #[test]
    fn same_call_same_sender_and_shared_recipients_chain() {
        let contract = Address::repeat_byte(0xcc);
        let pre = pre_with_contract(contract);
        let same_call: Vec<_> = (0..6).map(|i| call(i, contract, b"inc")).collect();
        assert_eq!(path(&pre, &same_call), 6);
        assert!(serial_reason(6, same_call.len()).is_some_and(|r| r.contains("6 of the 6")));
        // Seven eighths is the limit: 7 of 8 is not serial, 8 of 9 is.
        assert!(!predicts_serial(7, 8) && predicts_serial(8, 9));
        // A ring of transfers among two accounts: every transaction touches both.
        let ring: Vec<_> = (0..6u8)
            .map(|i| call(i % 2, Address::with_last_byte((i + 1) % 2), b""))
            .collect();
        assert_eq!(path(&pre, &ring), 6);
        // Two senders with three transactions each, unrelated otherwise: chains of three.
        let two_senders: Vec<_> = (0..6u8)
            .map(|i| call(i % 2, Address::with_last_byte(50 + i), b""))
            .collect();
        assert_eq!(path(&pre, &two_senders), 3);
        assert_eq!(serial_reason(3, two_senders.len()), None);
        // The scan that stops early decides as the full one does.
        for txs in [&same_call, &ring, &two_senders] {
            let block = Block {
                transactions: txs.to_vec(),
                ..Default::default()
            };
            let facts = predict::facts(&block, &BlockState::new(&pre));
            assert_eq!(
                chain_bound(&block, &facts),
                serial_reason(longest_chain(&block, &facts), txs.len())
            );
        }
    }

    #[test]
    fn blocks_of_the_beneficiary_are_bound_by_it() {
        let beneficiary = Address::with_last_byte(0xbb);
        let mut block = Block::default();
        block.env.beneficiary = beneficiary;
        block.transactions = (0..10u8)
            .map(|i| call(i, Address::with_last_byte(100 + i), b""))
            .collect();
        let pre = PreState::default();
        let facts = |block: &Block| predict::facts(block, &BlockState::new(&pre));
        assert_eq!(predict::beneficiary_share(&facts(&block)), 0.0);
        assert_eq!(beneficiary_bound(&facts(&block)), None);
        // One in ten is at the limit; two in ten (one sent by it, one to it) are over it.
        block.transactions[0].kind = TxKind::Call(beneficiary);
        assert_eq!(beneficiary_bound(&facts(&block)), None);
        block.transactions[1].sender = beneficiary;
        assert!((predict::beneficiary_share(&facts(&block)) - 0.2).abs() < 1e-9);
        assert!(beneficiary_bound(&facts(&block)).is_some_and(|r| r.contains("20%")));
    }
}

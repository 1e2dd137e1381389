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

use crate::state::PreState;
use alloy_primitives::map::{DefaultHashBuilder, HashMap};
use lockstep_spec::types::{Block, Transaction, TxKind};
use std::hash::BuildHasher;

/// The length of the longest chain of transactions of `txs` in which each shares a key (see
/// the module doc) with the one before it, on the pre-state `pre`.
pub fn critical_path(pre: &PreState, txs: &[Transaction]) -> usize {
    chain(pre, txs, usize::MAX)
}

/// [`critical_path`], stopping as soon as a chain longer than `enough` is found.
fn chain(pre: &PreState, txs: &[Transaction], enough: usize) -> usize {
    // Keys are hashed once into words (a collision merely links two transactions in the
    // prediction); per key, the length of the longest chain ending at its last holder.
    let hasher = DefaultHashBuilder::default();
    let mut depth: HashMap<u64, usize> = HashMap::default();
    depth.reserve(2 * txs.len());
    let mut longest = 0;
    let mut keys = [0u64; 3];
    for tx in txs {
        keys[0] = hasher.hash_one((tx.sender, None::<&[u8]>));
        let mut count = 1;
        if let TxKind::Call(to) = tx.kind {
            let has_code = pre
                .account(&to)
                .is_some_and(|account| !account.info.is_empty_code_hash());
            if has_code {
                keys[count] = hasher.hash_one((to, Some(tx.input.as_ref())));
                count += 1;
            }
            if !has_code || !tx.value.is_zero() {
                keys[count] = hasher.hash_one((to, None::<&[u8]>));
                count += 1;
            }
        }
        let keys = &keys[..count];
        let here = 1 + keys
            .iter()
            .filter_map(|key| depth.get(key))
            .max()
            .copied()
            .unwrap_or(0);
        for key in keys {
            depth.insert(*key, here);
        }
        longest = longest.max(here);
        if longest > enough {
            break;
        }
    }
    longest
}

/// A block in which more than this share of the transactions are sent from or to the
/// beneficiary runs sequentially (unless forced): each of them reads the beneficiary's
/// balance, which every earlier transaction's fee changes, so each waits for all before it.
pub const MAX_BENEFICIARY_SHARE: f64 = 0.1;

/// The share of `block`'s transactions sent from or to its beneficiary.
pub fn beneficiary_share(block: &Block) -> f64 {
    let beneficiary = block.env.beneficiary;
    let with_beneficiary = block
        .transactions
        .iter()
        .filter(|tx| tx.sender == beneficiary || tx.kind == TxKind::Call(beneficiary))
        .count();
    if block.transactions.is_empty() {
        0.0
    } else {
        with_beneficiary as f64 / block.transactions.len() as f64
    }
}

/// Why `block` is bound by its beneficiary's balance (more than [`MAX_BENEFICIARY_SHARE`] of
/// its transactions sent from or to the beneficiary), if it is.
pub fn beneficiary_bound(block: &Block) -> Option<String> {
    let share = beneficiary_share(block);
    (share > MAX_BENEFICIARY_SHARE).then(|| {
        format!(
            "{:.0}% of the transactions are sent from or to the beneficiary",
            100.0 * share
        )
    })
}

/// Whether a block of `txs` on `pre` looks too serial to gain from parallel execution: its
/// longest predicted chain holds more than seven eighths of the transactions, so that the
/// rest could not keep a second thread busy beside it. (Chains of one sender do not abort:
/// Block-STM waits for a sender's previous transaction. A chain of half the block still
/// runs on one thread while the other half runs on another; measured on mainnet, such
/// blocks gain 1.1-1.5x. Tuned on the bundled mainnet blocks: 13,217,637 and 15,274,915,
/// with predicted chains of 85% and 81% of the block, gain 1.4x and 1.17x under Block-STM;
/// 14,396,881, with a chain of 89% (1,197 of its 1,346 transactions pay one account), loses:
/// 0.85-0.97x.) Returns the chain found (the scan stops once it is long enough).
pub fn predicts_serial(pre: &PreState, txs: &[Transaction]) -> Option<usize> {
    let enough = txs.len() * 7 / 8;
    let path = chain(pre, txs, enough);
    (path > enough).then_some(path)
}

/// Why a block of `txs` on `pre` is predicted serial (see [`predicts_serial`]), if it is.
pub fn serial_reason(pre: &PreState, txs: &[Transaction]) -> Option<String> {
    predicts_serial(pre, txs).map(|path| {
        format!(
            "predicted serial: a chain of {path} of the {} transactions",
            txs.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, Bytes};
    use lockstep_spec::types::{Account, BlockEnv, WorldState};

    fn pre_with_contract(contract: Address) -> PreState {
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
        assert_eq!(critical_path(&pre, &transfers), 1);
        let calls: Vec<_> = [b"a", b"b", b"c"]
            .iter()
            .enumerate()
            .map(|(i, input)| call(i as u8, contract, *input))
            .collect();
        assert_eq!(critical_path(&pre, &calls), 1);
        assert_eq!(predicts_serial(&pre, &calls), None);
    }

    #[test]
    fn same_call_same_sender_and_shared_recipients_chain() {
        let contract = Address::repeat_byte(0xcc);
        let pre = pre_with_contract(contract);
        let same_call: Vec<_> = (0..6).map(|i| call(i, contract, b"inc")).collect();
        assert_eq!(critical_path(&pre, &same_call), 6);
        // The scan stops once the chain holds more than seven eighths of the block.
        assert_eq!(predicts_serial(&pre, &same_call), Some(6));
        // A ring of transfers among two accounts: every transaction touches both.
        let ring: Vec<_> = (0..6u8)
            .map(|i| call(i % 2, Address::with_last_byte((i + 1) % 2), b""))
            .collect();
        assert_eq!(critical_path(&pre, &ring), 6);
        // Two senders with three transactions each, unrelated otherwise: chains of three.
        let two_senders: Vec<_> = (0..6u8)
            .map(|i| call(i % 2, Address::with_last_byte(50 + i), b""))
            .collect();
        assert_eq!(critical_path(&pre, &two_senders), 3);
        assert_eq!(predicts_serial(&pre, &two_senders), None);
    }

    #[test]
    fn blocks_of_the_beneficiary_are_bound_by_it() {
        let beneficiary = Address::with_last_byte(0xbb);
        let mut block = Block::default();
        block.env.beneficiary = beneficiary;
        block.transactions = (0..10u8)
            .map(|i| call(i, Address::with_last_byte(100 + i), b""))
            .collect();
        assert_eq!(beneficiary_share(&block), 0.0);
        assert_eq!(beneficiary_bound(&block), None);
        // One in ten is at the limit; two in ten (one sent by it, one to it) are over it.
        block.transactions[0].kind = TxKind::Call(beneficiary);
        assert_eq!(beneficiary_bound(&block), None);
        block.transactions[1].sender = beneficiary;
        assert!((beneficiary_share(&block) - 0.2).abs() < 1e-9);
        assert!(beneficiary_bound(&block).is_some_and(|r| r.contains("20%")));
    }
}

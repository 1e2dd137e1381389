//! Metamorphic properties of the executors: relations between the outcomes of related blocks
//! that must hold whatever the outcomes are, checked on generated Cancun and Prague blocks of
//! 2 to 24 transactions (transfers among funded accounts and to fresh addresses, calls of the
//! contracts in `common`: a hot-slot counter, a beneficiary-balance reader, an inspector, a
//! self-destructing contract and a slot copier whose long loops hold reads open), for
//! sequential revm and for the parallel executor on two threads. Every block either executor
//! runs here is also required to give the two the same outcome.
//!
//! 1. Appending a transaction that touches only fresh accounts leaves the earlier receipts and
//!    the rest of the state alone (the beneficiary only gains the new priority fee).
//! 2. Executing a block in two halves, the second on the first's post-state, gives the whole
//!    block's final state and receipts (cumulative gas restarting at the split).
//! 3. Reordering transfers of distinct senders to distinct fresh recipients among the other
//!    transactions changes no receipt but for its cumulative gas, and no state but the
//!    beneficiary balances the reader contract records.
//!
//! Blocks are derived from plain generated parameters (indices and amounts), so that proptest
//! shrinks a failure to a short block of simple transactions.

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::{Address, Bytes, U256};
use common::*;
use lockstep_executor::{sequential, ParallelExecutor};
use lockstep_spec::types::{Block, BlockOutcome, Log, Receipt, Transaction, TxType, WorldState};
use lockstep_spec::Fork;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;

/// Funded senders (and recipients) of the generated transactions: `addr(1..=POOL)`.
const POOL: u64 = 6;
/// Fresh recipients of the generated transfers: `addr(FRESH..FRESH + FRESH_COUNT)`, absent
/// from the pre-state.
const FRESH: u64 = 0x500;
/// How many fresh recipients the generated transfers share.
const FRESH_COUNT: u64 = 4;
/// Senders of the disjoint transfers of property 3 (`addr(DISJOINT_SENDER + i)`).
const DISJOINT_SENDER: u64 = 0x600;
/// Recipients of the disjoint transfers of property 3 (`addr(DISJOINT_RECIPIENT + i)`).
const DISJOINT_RECIPIENT: u64 = 0x700;
/// The fresh sender of the transaction appended in property 1.
const APPENDED_SENDER: u64 = 0x800;
/// The fresh recipient of the transaction appended in property 1.
const APPENDED_RECIPIENT: u64 = 0x801;

/// The [`COUNTER`] contract: one hot slot.
fn counter() -> Address {
    addr(0x100)
}

/// The [`COINBASE_READER`] contract.
fn reader() -> Address {
    addr(0x101)
}

/// The [`INSPECTOR`] contract.
fn inspector() -> Address {
    addr(0x102)
}

/// The [`SUICIDE`] contract (after Cancun it only sends its balance to the caller).
fn suicide() -> Address {
    addr(0x103)
}

/// The [`SLOW_COPY`] contract.
fn copier() -> Address {
    addr(0x104)
}

/// What one generated transaction does; every field is a plain index or amount.
#[derive(Clone, Debug)]
enum Kind {
    /// A transfer of `value` wei between pool accounts (possibly to the sender itself).
    Transfer { from: u64, to: u64, value: u64 },
    /// A transfer of `value` wei (possibly zero) to the fresh address `fresh`.
    ToFresh { from: u64, fresh: u64, value: u64 },
    /// A call of the hot-slot counter.
    Counter { from: u64 },
    /// A call of the beneficiary-balance reader.
    Reader { from: u64 },
    /// A call of the inspector on pool account `target`.
    Inspect { from: u64, target: u64 },
    /// A call of the self-destructing contract with `value` wei, which it sends back.
    Suicide { from: u64, value: u64 },
    /// `SSTORE(write, SLOAD(read) + 1)` in the copier, after `loops` iterations (up to
    /// 20,000: long enough for a later transaction to read `write` stale in parallel).
    Copy {
        from: u64,
        read: u64,
        write: u64,
        loops: u64,
    },
}

/// A pool sender index.
fn sender_index() -> impl Strategy<Value = u64> {
    0..POOL
}

/// One generated transaction.
fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => (sender_index(), sender_index(), 0..10_000u64)
            .prop_map(|(from, to, value)| Kind::Transfer { from, to, value }),
        2 => (sender_index(), 0..FRESH_COUNT, 0..10_000u64)
            .prop_map(|(from, fresh, value)| Kind::ToFresh { from, fresh, value }),
        3 => sender_index().prop_map(|from| Kind::Counter { from }),
        1 => sender_index().prop_map(|from| Kind::Reader { from }),
        1 => (sender_index(), sender_index()).prop_map(|(from, target)| Kind::Inspect { from, target }),
        1 => (sender_index(), 0..10_000u64).prop_map(|(from, value)| Kind::Suicide { from, value }),
        1 => (sender_index(), 0..3u64, 0..3u64, 1..20_000u64)
            .prop_map(|(from, read, write, loops)| Kind::Copy { from, read, write, loops }),
    ]
}

/// The forks the blocks are built for.
fn fork() -> impl Strategy<Value = Fork> {
    prop::sample::select(vec![Fork::Cancun, Fork::Prague])
}

/// The pre-state of every generated block: the funded pool, the contracts, a funded
/// beneficiary and (Prague) stub EIP-7002/7251 request contracts, without which a full Prague
/// block is invalid.
fn base_pre(fork: Fork) -> WorldState {
    let mut pre = world((1..=POOL).map(|n| (addr(n), eoa(100))));
    pre.accounts.insert(counter(), contract(&COUNTER));
    pre.accounts.insert(reader(), contract(&COINBASE_READER));
    pre.accounts.insert(inspector(), contract(&INSPECTOR));
    pre.accounts.insert(suicide(), contract(&SUICIDE));
    pre.accounts.insert(copier(), contract(&SLOW_COPY));
    pre.accounts.insert(coinbase(), eoa(1));
    add_request_stubs(fork, &mut pre);
    pre
}

/// The 32-byte call data word holding `address`.
fn address_word(address: Address) -> Bytes {
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(address.as_slice());
    Bytes::copy_from_slice(&word)
}

/// The transactions of `kinds`, with each sender's nonces counted up from those in `nonces`
/// (which this updates).
fn transactions(
    fork: Fork,
    kinds: &[Kind],
    nonces: &mut BTreeMap<Address, u64>,
) -> Vec<Transaction> {
    let pool = |n: u64| addr(n + 1);
    kinds
        .iter()
        .map(|kind| {
            let (from, mut tx) = match *kind {
                Kind::Transfer { from, to, value } => (
                    pool(from),
                    call(fork, pool(from), 0, pool(to), U256::from(value)),
                ),
                Kind::ToFresh { from, fresh, value } => (
                    pool(from),
                    call(fork, pool(from), 0, addr(FRESH + fresh), U256::from(value)),
                ),
                Kind::Counter { from } => {
                    (pool(from), call(fork, pool(from), 0, counter(), U256::ZERO))
                }
                Kind::Reader { from } => {
                    (pool(from), call(fork, pool(from), 0, reader(), U256::ZERO))
                }
                Kind::Inspect { from, target } => {
                    let mut tx = call(fork, pool(from), 0, inspector(), U256::ZERO);
                    tx.input = address_word(pool(target));
                    (pool(from), tx)
                }
                Kind::Suicide { from, value } => (
                    pool(from),
                    call(fork, pool(from), 0, suicide(), U256::from(value)),
                ),
                Kind::Copy {
                    from,
                    read,
                    write,
                    loops,
                } => (
                    pool(from),
                    slow_copy(pool(from), copier(), read, loops, write, 1),
                ),
            };
            let nonce = nonces.entry(from).or_insert(0);
            tx.nonce = *nonce;
            *nonce += 1;
            tx
        })
        .collect()
}

/// A block of `txs` under `fork`: a full one (`full`) or one without any system call,
/// reward or withdrawal around the transactions.
fn make_block(fork: Fork, txs: Vec<Transaction>, full: bool) -> Block {
    Block {
        full_block: full,
        ..block(fork, txs)
    }
}

/// The executors under test, in the order [`execute_both`] returns their outcomes.
const EXECUTORS: [&str; 2] = ["sequential", "parallel (2 threads)"];

/// Executes `block` on `pre` with sequential revm and with the parallel executor on two
/// threads, requires both to accept it with the same outcome (the parallel path having run),
/// and returns the two outcomes in [`EXECUTORS`] order.
fn execute_both(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
) -> Result<[BlockOutcome; 2], TestCaseError> {
    let expected = sequential::execute_block(fork, pre, block);
    let got = ParallelExecutor::new(2).execute(fork, pre, block);
    prop_assert!(
        same(&expected, &got),
        "parallel differs from sequential\nsequential: {expected:#?}\nparallel: {got:#?}"
    );
    let expected = expected
        .map_err(|e| TestCaseError::fail(format!("sequential rejected the block: {e:?}")))?;
    let got =
        got.map_err(|e| TestCaseError::fail(format!("parallel rejected the block: {e:?}")))?;
    prop_assert!(got.stats.fallback.is_none(), "fell back: {:?}", got.stats);
    Ok([expected, got])
}

/// A receipt without its cumulative gas: type, status, logs and the transaction's own gas.
type OwnReceipt = (TxType, bool, Vec<Log>, u64);

/// Each receipt's own part: its cumulative gas minus the previous receipt's.
fn own_receipts(receipts: &[Receipt]) -> Vec<OwnReceipt> {
    let mut previous = 0;
    receipts
        .iter()
        .map(|r| {
            let own = r.cumulative_gas_used - previous;
            previous = r.cumulative_gas_used;
            (r.tx_type, r.success, r.logs.clone(), own)
        })
        .collect()
}

/// The balance of `address` in `state` (zero when absent).
fn balance(state: &WorldState, address: Address) -> U256 {
    state.get(&address).map(|a| a.balance).unwrap_or_default()
}

/// `state` without the accounts in `drop`.
fn without(state: &WorldState, drop: &[Address]) -> WorldState {
    world(
        state
            .accounts
            .iter()
            .filter(|(a, _)| !drop.contains(a))
            .map(|(a, account)| (*a, account.clone())),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Property 1: a transfer from a fresh funded sender to a fresh recipient appended to a
    /// block leaves the earlier receipts unchanged, credits exactly its value and fee, and
    /// changes no other account.
    #[test]
    fn appending_a_fresh_transfer_keeps_earlier_receipts(
        fork in fork(),
        kinds in prop::collection::vec(kind(), 2..=23),
        value in 0..1_000_000u64,
    ) {
        let pre = base_pre(fork);
        let txs = transactions(fork, &kinds, &mut BTreeMap::new());
        let shorter = execute_both(fork, &pre, &make_block(fork, txs.clone(), true))?;

        let (sender, recipient) = (addr(APPENDED_SENDER), addr(APPENDED_RECIPIENT));
        let mut longer_pre = pre.clone();
        longer_pre.accounts.insert(sender, eoa(1));
        let mut longer_txs = txs;
        longer_txs.push(call(fork, sender, 0, recipient, U256::from(value)));
        let longer = execute_both(fork, &longer_pre, &make_block(fork, longer_txs, true))?;

        for ((name, short), long) in EXECUTORS.iter().zip(&shorter).zip(&longer) {
            let n = short.receipts.len();
            prop_assert_eq!(&long.receipts[..n], &short.receipts[..], "{}: earlier receipts", name);
            prop_assert_eq!(&long.gas_used[..n], &short.gas_used[..], "{}: earlier gas", name);
            let appended = &long.receipts[n];
            prop_assert!(appended.success, "{}: the appended transfer failed", name);
            let gas = long.gas_used[n];
            let price = U256::from(GAS_PRICE);
            let tip = U256::from(gas) * U256::from(GAS_PRICE - u128::from(BASE_FEE));
            prop_assert_eq!(
                balance(&long.post_state, sender),
                balance(&longer_pre, sender) - U256::from(value) - U256::from(gas) * price,
                "{}: sender balance", name
            );
            prop_assert_eq!(balance(&long.post_state, recipient), U256::from(value),
                "{}: recipient balance", name);
            prop_assert_eq!(
                balance(&long.post_state, coinbase()),
                balance(&short.post_state, coinbase()) + tip,
                "{}: beneficiary balance", name
            );
            let untouched = [sender, recipient, coinbase()];
            prop_assert_eq!(
                without(&long.post_state, &untouched),
                without(&short.post_state, &untouched),
                "{}: other accounts", name
            );
        }
    }

    /// Property 2: executing a block's transactions in two blocks, the second on the first's
    /// post-state and under the same environment (no system calls, rewards or withdrawals
    /// between them), gives the whole block's final state, and its receipts with the
    /// cumulative gas restarting at the split.
    #[test]
    fn splitting_a_block_keeps_the_final_state(
        fork in fork(),
        kinds in prop::collection::vec(kind(), 2..=24),
        split in any::<Index>(),
    ) {
        let pre = base_pre(fork);
        let txs = transactions(fork, &kinds, &mut BTreeMap::new());
        let at = split.index(txs.len() + 1);
        let whole = execute_both(fork, &pre, &make_block(fork, txs.clone(), false))?;
        let first = execute_both(fork, &pre, &make_block(fork, txs[..at].to_vec(), false))?;
        // Both executors left the same state after the first half.
        let second = execute_both(
            fork,
            &first[0].post_state,
            &make_block(fork, txs[at..].to_vec(), false),
        )?;
        for (((name, whole), first), second) in
            EXECUTORS.iter().zip(&whole).zip(&first).zip(&second)
        {
            prop_assert_eq!(&second.post_state, &whole.post_state, "{}: final state", name);
            prop_assert_eq!(&first.receipts[..], &whole.receipts[..at], "{}: first half", name);
            let offset = first.block_gas_used();
            let shifted: Vec<Receipt> = second
                .receipts
                .iter()
                .map(|r| Receipt {
                    cumulative_gas_used: r.cumulative_gas_used + offset,
                    ..r.clone()
                })
                .collect();
            prop_assert_eq!(&shifted[..], &whole.receipts[at..], "{}: second half", name);
            let gas: Vec<u64> = first.gas_used.iter().chain(&second.gas_used).copied().collect();
            prop_assert_eq!(gas, whole.gas_used.clone(), "{}: gas used", name);
        }
    }

    /// Property 3: moving and reordering transfers of distinct fresh senders to distinct fresh
    /// recipients among the other transactions (whose relative order stays) changes no
    /// transaction's status, logs or own gas, and no account but the beneficiary-balance
    /// records of the reader contract.
    #[test]
    fn reordering_disjoint_transfers_keeps_receipts(
        fork in fork(),
        kinds in prop::collection::vec(kind(), 1..=16),
        disjoint in prop::collection::vec((any::<Index>(), any::<Index>(), 0..1_000_000u64), 1..=8),
    ) {
        let mut pre = base_pre(fork);
        let others = transactions(fork, &kinds, &mut BTreeMap::new());
        let transfers: Vec<Transaction> = disjoint
            .iter()
            .enumerate()
            .map(|(i, (_, _, value))| {
                let (sender, recipient) =
                    (addr(DISJOINT_SENDER + i as u64), addr(DISJOINT_RECIPIENT + i as u64));
                pre.accounts.insert(sender, eoa(1));
                call(fork, sender, 0, recipient, U256::from(*value))
            })
            .collect();

        // Each transaction's place: the others at (j, 1, 0), transfer i before other `slot`,
        // ties among transfers broken by index in the original and reversed in the reordering.
        enum Item { Other(usize), Transfer(usize) }
        let order = |reordered: bool| -> Vec<Item> {
            let n = others.len();
            let mut keyed: Vec<((usize, u8, usize), Item)> =
                (0..n).map(|j| ((j, 1, 0), Item::Other(j))).collect();
            for (i, (a, b, _)) in disjoint.iter().enumerate() {
                let key = if reordered {
                    (b.index(n + 1), 0, disjoint.len() - i)
                } else {
                    (a.index(n + 1), 0, i)
                };
                keyed.push((key, Item::Transfer(i)));
            }
            keyed.sort_by_key(|(key, _)| *key);
            keyed.into_iter().map(|(_, item)| item).collect()
        };
        let arrange = |items: &[Item]| -> Vec<Transaction> {
            items
                .iter()
                .map(|item| match item {
                    Item::Other(j) => others[*j].clone(),
                    Item::Transfer(i) => transfers[*i].clone(),
                })
                .collect()
        };
        let (original, reordered) = (order(false), order(true));
        let a = execute_both(fork, &pre, &make_block(fork, arrange(&original), true))?;
        let b = execute_both(fork, &pre, &make_block(fork, arrange(&reordered), true))?;

        for ((name, a), b) in EXECUTORS.iter().zip(&a).zip(&b) {
            // Each transaction's own receipt, keyed by what it is.
            let by_item = |items: &[Item], outcome: &BlockOutcome| {
                let mut map = BTreeMap::new();
                for (item, own) in items.iter().zip(own_receipts(&outcome.receipts)) {
                    let key = match item {
                        Item::Other(j) => (0, *j),
                        Item::Transfer(i) => (1, *i),
                    };
                    map.insert(key, own);
                }
                map
            };
            prop_assert_eq!(by_item(&original, a), by_item(&reordered, b), "{}: receipts", name);
            prop_assert_eq!(a.block_gas_used(), b.block_gas_used(), "{}: block gas", name);
            for (i, (_, _, value)) in disjoint.iter().enumerate() {
                let recipient = addr(DISJOINT_RECIPIENT + i as u64);
                prop_assert_eq!(balance(&b.post_state, recipient), U256::from(*value),
                    "{}: recipient {}", name, i);
            }
            prop_assert_eq!(
                without(&a.post_state, &[reader()]),
                without(&b.post_state, &[reader()]),
                "{}: post-state", name
            );
        }
    }
}

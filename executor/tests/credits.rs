//! Plain transfers that credit their recipient instead of writing its whole account (Block-STM
//! on a block where no balance can overflow): many payments to one deposit address, with a
//! contract reading its balance among them; the same deposit address sending a transaction
//! of its own (whose payments are written whole); a block where credits are off (balances
//! that could overflow); and a deposit address that gets code in the middle of the block
//! (EIP-7702), after which transfers to it run that code. Each block must come out as
//! sequential execution has it, and each test checks the part of the outcome its case is
//! about.

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::{Address, Bytes, U256};
use common::delegation::{authority, authorize, set_code};
use common::*;
use lockstep_spec::types::{Account, BlockOutcome, Transaction, WorldState};
use lockstep_spec::Fork;

/// The forks with EIP-161 (where the fast path, and so the credits, apply) and one before.
const FORKS: [Fork; 5] = [
    Fork::Homestead,
    Fork::SpuriousDragon,
    Fork::London,
    Fork::Cancun,
    Fork::Prague,
];

/// The exchange's deposit address every test pays.
fn deposit() -> Address {
    addr(0xde)
}

/// Where the sweep sends the deposit's ether.
fn cold_wallet() -> Address {
    addr(0xc01d)
}

/// A contract storing the deposit's balance at the slot of its caller.
fn deposit_reader() -> (Address, Account) {
    (addr(0xbb), contract(&common::balance_reader(deposit())))
}

/// A pre-state with senders 1..=40 and the deposit address funded, the balance reader, and
/// the stub request contracts of Prague.
fn pre(fork: Fork) -> WorldState {
    let mut pre = world((1..=40).map(|n| (addr(n), eoa(1))));
    pre.accounts.insert(deposit(), eoa(1));
    let (reader, code) = deposit_reader();
    pre.accounts.insert(reader, code);
    add_request_stubs(fork, &mut pre);
    pre
}

/// Senders `from..=to` each pay the deposit `n` wei (their first transaction).
fn payments(fork: Fork, from: u64, to: u64) -> impl Iterator<Item = Transaction> {
    (from..=to).map(move |n| call(fork, addr(n), 0, deposit(), U256::from(n)))
}

/// Nineteen payments, the balance reader (called by sender 20), nineteen more payments,
/// and the reader again (called by sender 40); with `sweep`, the deposit also sends 1,000
/// wei on after the first payments.
fn deposit_block(fork: Fork, sweep: bool) -> Vec<Transaction> {
    let mut txs: Vec<Transaction> = payments(fork, 1, 19).collect();
    if sweep {
        txs.push(call(fork, deposit(), 0, cold_wallet(), U256::from(1_000)));
    }
    txs.push(call(fork, addr(20), 0, deposit_reader().0, U256::ZERO));
    txs.extend(payments(fork, 21, 39));
    txs.push(call(fork, addr(40), 0, deposit_reader().0, U256::ZERO));
    txs
}

fn balance(outcome: &BlockOutcome, address: Address) -> U256 {
    outcome
        .post_state
        .get(&address)
        .map_or(U256::ZERO, |account| account.balance)
}

/// `txs` as a block on `pre`, in parallel as sequentially (several times on 1, 2, 4 and 8
/// threads), and their outcome, which must be valid.
fn run(fork: Fork, pre: &WorldState, txs: Vec<Transaction>) -> BlockOutcome {
    let block = block(fork, txs);
    assert_parallel_matches(fork, pre, &block, 3)
        .unwrap_or_else(|error| panic!("{fork}: the block is valid: {error:?}"))
}

/// The deposit's balance as the reader saw it when `caller` called it.
fn seen_by(outcome: &BlockOutcome, caller: Address) -> U256 {
    outcome
        .post_state
        .get(&deposit_reader().0)
        .and_then(|account| {
            let slot = U256::from_be_slice(caller.as_slice());
            account.storage.get(&slot).copied()
        })
        .unwrap_or_default()
}

/// What senders `from..=to` paid the deposit.
fn paid(from: u64, to: u64) -> U256 {
    U256::from((from..=to).sum::<u64>())
}

#[test]
fn payments_to_one_account_add_up_and_every_full_read_sees_them() {
    for fork in FORKS {
        let pre = pre(fork);
        let outcome = run(fork, &pre, deposit_block(fork, false));
        let start = U256::from(ETHER);
        // Each reader saw every payment before it, and none after.
        assert_eq!(seen_by(&outcome, addr(20)), start + paid(1, 19), "{fork}");
        let total = start + paid(1, 19) + paid(21, 39);
        assert_eq!(seen_by(&outcome, addr(40)), total, "{fork}");
        assert_eq!(balance(&outcome, deposit()), total, "{fork}");
    }
}

#[test]
fn a_deposit_address_that_also_sends_pays_out_of_every_payment_before_it() {
    for fork in FORKS {
        let pre = pre(fork);
        let outcome = run(fork, &pre, deposit_block(fork, true));
        let sweep = U256::from(1_000);
        assert_eq!(balance(&outcome, cold_wallet()), sweep, "{fork}");
        // The sweep paid its gas too: the deposit holds less than the payments left it.
        let left = balance(&outcome, deposit());
        let without_gas = U256::from(ETHER) + paid(1, 19) + paid(21, 39) - sweep;
        assert!(left < without_gas, "{fork}: the sweep paid no gas");
        assert!(left > without_gas - U256::from(ETHER / 1_000), "{fork}");
        assert_eq!(seen_by(&outcome, addr(40)), left, "{fork}");
    }
}

#[test]
fn where_a_balance_could_overflow_payments_write_the_whole_account() {
    for fork in FORKS {
        let mut pre = pre(fork);
        // Sums past 2^256 with the other balances: no transfer may credit lazily.
        pre.accounts.insert(
            addr(0xf0),
            Account {
                balance: U256::MAX,
                ..Default::default()
            },
        );
        let outcome = run(fork, &pre, deposit_block(fork, false));
        assert_eq!(
            seen_by(&outcome, addr(40)),
            balance(&outcome, deposit()),
            "{fork}"
        );
    }
}

#[test]
fn a_deposit_address_that_gets_code_mid_block_runs_it_for_later_payments() {
    for fork in [Fork::Prague, Fork::Osaka] {
        let mut pre = pre(fork);
        let wallet = authority(7);
        pre.accounts.insert(wallet, eoa(1));
        pre.accounts.insert(counter_address(), contract(&COUNTER));
        let mut txs: Vec<Transaction> = (1..=15)
            .map(|n| call(fork, addr(n), 0, wallet, U256::from(n)))
            .collect();
        // The wallet's owner delegates it to the counter: from here on, paying it runs code.
        txs.push(set_code(
            addr(16),
            0,
            addr(17),
            vec![authorize(7, counter_address(), 0)],
        ));
        txs.extend((18..=35).map(|n| call(fork, addr(n), 0, wallet, U256::from(n))));
        let outcome = run(fork, &pre, txs);
        let wallet_after = outcome.post_state.get(&wallet).expect("the wallet exists");
        assert_eq!(
            wallet_after.storage.get(&U256::ZERO).copied(),
            Some(U256::from(18)),
            "{fork}: each of the 18 later payments ran the counter"
        );
        assert!(
            wallet_after.code != Bytes::new(),
            "{fork}: the wallet is delegated"
        );
    }
}

/// The counter the wallet delegates to.
fn counter_address() -> Address {
    addr(0x100)
}

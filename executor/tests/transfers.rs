//! Plain value transfers, which the parallel executors and `auto`'s sequential runs apply on
//! a fast path beside revm, against the sequential baseline (revm alone): each case sits
//! among ordinary transfers, and covers one edge of the fast path's rules (a case outside
//! them must be handed to revm and come out the same).

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::{Address, U256};
use common::*;
use lockstep_executor::sequential::{self, Transfers};
use lockstep_executor::state::PreState;
use lockstep_spec::types::{
    Account, Block, BlockError, BlockOutcome, Transaction, TxKind, TxType, WorldState,
};
use lockstep_spec::Fork;

const FORKS: [Fork; 10] = [
    Fork::Frontier,
    Fork::Homestead,
    Fork::TangerineWhistle,
    Fork::SpuriousDragon,
    Fork::Byzantium,
    Fork::Berlin,
    Fork::London,
    Fork::Cancun,
    Fork::Prague,
    Fork::Osaka,
];

/// `case` for transaction 2 of a block of five transfers between distinct funded accounts
/// (senders 1..=5, recipients 101..=105), on `pre` extended by `extra`.
fn check(
    name: &str,
    extra: &[(Address, Account)],
    case: impl Fn(Fork, &mut Transaction),
) -> Vec<(Fork, lockstep_spec::types::BlockOutcome)> {
    let mut outcomes = Vec::new();
    for fork in FORKS {
        let mut pre: WorldState = world((1..=5).map(|n| (addr(n), eoa(1))));
        add_request_stubs(fork, &mut pre);
        for (address, account) in extra {
            pre.accounts.insert(*address, account.clone());
        }
        let mut txs: Vec<Transaction> = (1..=5)
            .map(|n| call(fork, addr(n), 0, addr(100 + n), U256::from(n)))
            .collect();
        case(fork, &mut txs[2]);
        let block = block(fork, txs);
        let outcome = assert_parallel_matches(fork, &pre, &block, 2);
        assert_direct_matches(name, fork, &pre, &block, &outcome);
        if let Ok(outcome) = outcome {
            outcomes.push((fork, outcome));
        } else {
            // An invalid transaction: the same error from both is all that is asked.
            eprintln!("{name} on {fork}: {outcome:?}");
        }
    }
    outcomes
}

/// Asserts that a sequential run applying plain transfers directly
/// ([`Transfers::Direct`]) gives `expected`, the baseline's outcome of `block`.
fn assert_direct_matches(
    name: &str,
    fork: Fork,
    pre: &WorldState,
    block: &Block,
    expected: &Result<BlockOutcome, BlockError>,
) {
    let prepared = PreState::new(pre, &block.env);
    let direct = sequential::execute_with(fork, &prepared, block, Transfers::Direct)
        .map(|executed| executed.into_outcome());
    assert!(
        same(expected, &direct),
        "{name} on {fork}: direct transfers differ from revm\nrevm: {expected:#?}\ndirect: {direct:#?}"
    );
}

#[test]
fn ordinary_transfers_pay_value_gas_and_fee() {
    let outcomes = check("ordinary", &[], |_, _| {});
    assert_eq!(outcomes.len(), FORKS.len());
    for (_, outcome) in &outcomes {
        assert_eq!(outcome.gas_used, vec![21_000; 5]);
        assert_eq!(
            outcome.post_state.get(&addr(103)).map(|a| a.balance),
            Some(U256::from(3))
        );
        assert_eq!(outcome.post_state.get(&addr(3)).map(|a| a.nonce), Some(1));
    }
}

#[test]
fn zero_value_to_absent_and_to_empty_accounts() {
    check("zero to absent", &[], |_, tx| tx.value = U256::ZERO);
    let empty = addr(103);
    let outcomes = check("zero to empty", &[(empty, Account::default())], |_, tx| {
        tx.value = U256::ZERO;
    });
    // EIP-161: the touched empty account is gone (it stays before Spurious Dragon).
    assert_eq!(outcomes.len(), FORKS.len());
    for (fork, outcome) in &outcomes {
        let gone = outcome.post_state.get(&empty).is_none();
        assert_eq!(gone, *fork >= Fork::SpuriousDragon, "{fork}");
    }
    check("zero to funded", &[(addr(103), eoa(1))], |_, tx| {
        tx.value = U256::ZERO;
    });
}

#[test]
fn invalid_transfers_fail_the_same_way() {
    check("nonce too high", &[], |_, tx| tx.nonce = 1);
    check("balance too low", &[], |_, tx| {
        tx.value = U256::from(ETHER) * U256::from(2);
    });
    check("gas under 21000", &[], |_, tx| tx.gas_limit = 20_999);
    check("gas over the block", &[], |_, tx| tx.gas_limit = 40_000_000);
    check("wrong chain", &[], |_, tx| tx.chain_id = Some(5));
    check("fee cap under base fee", &[], |fork, tx| {
        if fork >= Fork::London {
            tx.gas_price = u128::from(BASE_FEE) - 1;
        }
    });
    check("sender absent", &[], |_, tx| tx.sender = addr(999));
}

#[test]
fn exact_gas_and_dynamic_fees() {
    check("exact gas", &[], |_, tx| tx.gas_limit = 21_000);
    check("eip-1559 tip", &[], |fork, tx| {
        if fork >= Fork::London {
            tx.tx_type = TxType::DynamicFee;
            tx.gas_price = 50;
            tx.max_priority_fee_per_gas = Some(3);
        }
    });
    check("eip-1559 tip above cap", &[], |fork, tx| {
        if fork >= Fork::London {
            tx.tx_type = TxType::DynamicFee;
            tx.gas_price = 50;
            tx.max_priority_fee_per_gas = Some(60);
        }
    });
}

#[test]
fn recipients_and_senders_the_fast_path_leaves_to_revm() {
    check("to self", &[], |_, tx| tx.kind = TxKind::Call(tx.sender));
    check("to the beneficiary", &[], |_, tx| {
        tx.kind = TxKind::Call(coinbase())
    });
    check("from the beneficiary", &[(coinbase(), eoa(1))], |_, tx| {
        tx.sender = coinbase()
    });
    check("to a precompile", &[], |_, tx| {
        tx.kind = TxKind::Call(Address::with_last_byte(4))
    });
    check(
        "to a contract",
        &[(addr(103), contract(&COUNTER))],
        |_, _| {},
    );
    check(
        "from a contract",
        &[(addr(3), contract(&COUNTER))],
        |_, _| {},
    );
    check("with data", &[], |_, tx| tx.input = vec![1u8, 2, 3].into());
}

#[test]
fn a_base_fee_in_a_pre_london_environment_is_not_subtracted_from_the_fee() {
    // State tests give every fork's environment a base fee; before London it means nothing,
    // and the beneficiary is paid the whole gas price.
    for fork in [Fork::SpuriousDragon, Fork::Byzantium, Fork::Berlin] {
        let pre: WorldState = world((1..=5).map(|n| (addr(n), eoa(1))));
        let txs = (1..=5)
            .map(|n| call(fork, addr(n), 0, addr(100 + n), U256::from(n)))
            .collect();
        let mut block = block(fork, txs);
        block.env.base_fee = Some(BASE_FEE);
        let outcome = assert_parallel_matches(fork, &pre, &block, 2);
        let paid = outcome
            .ok()
            .and_then(|o| o.post_state.get(&coinbase()).map(|a| a.balance));
        // The block reward is whole ether; the fees are what is left over.
        let fees = paid.map(|p| p % U256::from(ETHER));
        assert_eq!(fees, Some(U256::from(5 * 21_000 * GAS_PRICE)), "{fork}");
    }
}

#[test]
fn payouts_from_and_to_the_beneficiary_are_paid_in_order() {
    // A mining pool's payout block: the beneficiary pays everyone, and some pay it back.
    // A sequential run applies these directly (the fee credited after the transfer); the
    // parallel executors leave them to revm.
    for fork in FORKS {
        let mut pre: WorldState = world((1..=5).map(|n| (addr(n), eoa(1))));
        pre.accounts.insert(coinbase(), eoa(3));
        add_request_stubs(fork, &mut pre);
        let mut txs: Vec<Transaction> = (0..6u64)
            .map(|n| call(fork, coinbase(), n, addr(100 + n), U256::from(n + 1)))
            .collect();
        txs.extend((1..=5).map(|n| call(fork, addr(n), 0, coinbase(), U256::from(7 * n))));
        txs.push(call(fork, coinbase(), 6, addr(1), U256::ZERO));
        let block = block(fork, txs);
        let expected = assert_parallel_matches(fork, &pre, &block, 1);
        assert!(expected.is_ok(), "{fork}: {expected:?}");
        assert_direct_matches("payouts", fork, &pre, &block, &expected);
    }
}

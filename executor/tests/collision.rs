//! EIP-7610 in the revm-based executors: creating a contract at an address whose account has
//! storage but no code and no nonce collides. Each block runs sequentially, in parallel (1, 2,
//! 4 and 8 threads) and in the reference interpreter; all must agree, and the outcome must
//! show the collision (or, where the storage is gone, its absence).

#![cfg(not(feature = "shuttle"))]

mod common;

use alloy_primitives::{Address, Bytes, U256};
use common::*;
use lockstep_spec::types::{Account, Block, BlockOutcome, WorldState};
use lockstep_spec::Fork;

/// An account with one storage slot and nothing else: what EIP-7610 is about.
fn storage_only() -> Account {
    let mut account = Account::default();
    account.storage.insert(U256::from(7), U256::from(9));
    account
}

/// Runs `block` through every executor and returns the common outcome.
fn run(fork: Fork, pre: &WorldState, block: &Block) -> BlockOutcome {
    let expected = assert_parallel_matches(fork, pre, block, 3);
    let spec = lockstep_spec::execute_block(fork, pre, block);
    assert!(
        same(&spec, &expected),
        "{fork}: revm differs from the spec\nspec: {spec:#?}\nrevm: {expected:#?}"
    );
    expected.unwrap_or_else(|e| panic!("{fork}: block rejected: {e:?}"))
}

#[test]
fn a_creation_transaction_collides_with_storage() {
    for fork in [Fork::Berlin, Fork::Cancun] {
        let sender = addr(1);
        let target = sender.create(0);
        let pre = world([(sender, eoa(10)), (target, storage_only())]);
        let tx = create(fork, sender, 0, counter_init_code());
        let gas_limit = tx.gas_limit;
        let outcome = run(fork, &pre, &block(fork, vec![tx]));
        assert!(
            !outcome.receipts[0].success,
            "{fork}: the creation succeeded"
        );
        assert_eq!(outcome.gas_used[0], gas_limit, "{fork}: gas not consumed");
        let post = &outcome.post_state.accounts;
        assert_eq!(post[&sender].nonce, 1, "{fork}: the sender's nonce");
        assert_eq!(post[&target], storage_only(), "{fork}: the target changed");
    }
}

#[test]
fn create2_collides_with_storage_and_spends_the_factory_nonce() {
    for fork in [Fork::Berlin, Fork::Cancun] {
        let sender = addr(1);
        let factory = addr(2);
        let init = counter_init_code();
        let target = factory.create2(
            U256::ZERO.to_be_bytes::<32>(),
            alloy_primitives::keccak256(&init),
        );
        let pre = world([
            (sender, eoa(10)),
            (factory, contract(&FACTORY)),
            (target, storage_only()),
        ]);
        let mut tx = call(fork, sender, 0, factory, U256::ZERO);
        tx.input = init;
        let outcome = run(fork, &pre, &block(fork, vec![tx]));
        assert!(
            outcome.receipts[0].success,
            "{fork}: the factory call failed"
        );
        let post = &outcome.post_state.accounts;
        assert_eq!(post[&factory].nonce, 2, "{fork}: the factory's nonce");
        // The failed CREATE2 pushed zero, which the factory stored.
        assert_eq!(
            post[&factory].storage.get(&U256::ZERO),
            None,
            "{fork}: address stored"
        );
        assert_eq!(post[&target], storage_only(), "{fork}: the target changed");
    }
}

#[test]
fn without_storage_the_same_creation_succeeds() {
    for fork in [Fork::Berlin, Fork::Cancun] {
        let sender = addr(1);
        let target = sender.create(0);
        let pre = world([(sender, eoa(10)), (target, Account::default())]);
        let outcome = run(
            fork,
            &pre,
            &block(fork, vec![create(fork, sender, 0, counter_init_code())]),
        );
        assert!(outcome.receipts[0].success, "{fork}: the creation failed");
        let code = &outcome.post_state.accounts[&target].code;
        assert_eq!(
            code,
            &Bytes::copy_from_slice(&COUNTER),
            "{fork}: code not deployed"
        );
    }
}

#[test]
fn storage_deleted_earlier_in_the_block_no_longer_collides() {
    for fork in [Fork::Berlin, Fork::Cancun] {
        let creator = addr(1);
        let toucher = addr(3);
        let target: Address = creator.create(0);
        let pre = world([
            (creator, eoa(10)),
            (toucher, eoa(10)),
            (target, storage_only()),
        ]);
        // A zero-value call touches the empty account, which EIP-161 deletes with its
        // storage; the creation after it then finds nothing in the way.
        let touch = call(fork, toucher, 0, target, U256::ZERO);
        let creation = create(fork, creator, 0, counter_init_code());
        let outcome = run(fork, &pre, &block(fork, vec![touch, creation]));
        assert!(outcome.receipts[1].success, "{fork}: the creation failed");
        let account = &outcome.post_state.accounts[&target];
        assert!(account.storage.is_empty(), "{fork}: old storage survived");
        assert_eq!(account.nonce, 1, "{fork}: the new contract's nonce");
    }
}

//! Each template does what its documentation says, run by the spec on a Cancun block.

use super::*;
use crate::executors::{BlockExecutor, SpecExecutor};
use crate::gen::build::{block_env, genesis_header};
use alloy_primitives::{Address, U256};
use lockstep_spec::types::{Account, Block, BlockOutcome, Transaction, WorldState};
use lockstep_spec::Fork;

const SENDER: Address = Address::repeat_byte(0x51);
const COINBASE: Address = Address::repeat_byte(0xcb);
/// Gas limit of every test transaction (a CREATE2 collision burns 63/64 of it).
const GAS: u64 = 1_500_000;

/// A contract address well away from the precompiles.
fn code_at(n: u8) -> Address {
    crate::bench::workloads::address(0xaa, u64::from(n))
}

/// Runs calls (`to`, call data) from one sender on a state holding `contracts`.
fn run(contracts: &[(Address, Bytes)], calls: &[(Address, Vec<u8>)]) -> BlockOutcome {
    let mut pre = WorldState::default();
    pre.accounts.insert(
        SENDER,
        Account {
            balance: U256::from(10u128.pow(20)),
            ..Account::default()
        },
    );
    for (address, code) in contracts {
        pre.accounts.insert(
            *address,
            Account {
                nonce: 1,
                balance: U256::from(500),
                code: code.clone(),
                ..Account::default()
            },
        );
    }
    let env = block_env(Fork::Cancun, &genesis_header(Fork::Cancun, &pre), COINBASE);
    let fee = 2 * u128::from(env.base_fee.unwrap_or_default()) + 1;
    let transactions = calls
        .iter()
        .enumerate()
        .map(|(i, (to, data))| {
            let mut tx = Transaction::call(SENDER, *to, i as u64, GAS, fee);
            tx.input = Bytes::from(data.clone());
            tx
        })
        .collect();
    let block = Block {
        env,
        transactions,
        withdrawals: vec![],
        ommers: vec![],
        full_block: true,
        dao_transition: false,
    };
    SpecExecutor
        .execute(Fork::Cancun, &pre, &block)
        .expect("the block is valid")
}

fn slot(out: &BlockOutcome, address: Address, slot: u64) -> U256 {
    out.post_state.storage(&address, &U256::from(slot))
}

fn word(address: Address) -> U256 {
    U256::from_be_slice(address.as_slice())
}

#[test]
fn hot_slot_increments_logs_and_returns() {
    let hot = code_at(1);
    let out = run(
        &[(hot, hot_slot(5, 2, 10))],
        &[(hot, vec![]), (hot, vec![])],
    );
    assert_eq!(slot(&out, hot, 5), U256::from(4));
    assert!(out.receipts.iter().all(|r| r.success && r.logs.len() == 1));
    assert_eq!(
        out.receipts[1].logs[0].data.as_ref(),
        &U256::from(4).to_be_bytes::<32>()
    );
    // The hashing between read and write costs gas: more work, more gas.
    let light = run(&[(hot, hot_slot(5, 2, 0))], &[(hot, vec![])]);
    assert!(out.gas_used[0] > light.gas_used[0] + 500);
}

#[test]
fn balance_probe_stores_target_self_coinbase_and_caller_balances() {
    let probe = code_at(2);
    let target = code_at(3);
    let out = run(
        &[
            (probe, balance_probe(target, 0x10)),
            (target, Bytes::from_static(&[0])),
        ],
        &[(probe, vec![]), (probe, vec![])],
    );
    assert_eq!(slot(&out, probe, 0x10), U256::from(500));
    assert_eq!(slot(&out, probe, 0x11), U256::from(500));
    // The second call sees the tips the first one paid the coinbase.
    assert!(!slot(&out, probe, 0x12).is_zero());
    assert!(slot(&out, probe, 0x13) > U256::from(10u128.pow(19)));
}

#[test]
fn caller_records_success_and_result_by_kind() {
    let (a, hot) = (code_at(4), code_at(1));
    let call = run(
        &[
            (a, caller(CallKind::Call, hot, 0, None, 0x20)),
            (hot, hot_slot(0, 1, 0)),
        ],
        &[(a, vec![])],
    );
    assert_eq!(slot(&call, a, 0x20), U256::from(1));
    assert_eq!(slot(&call, a, 0x21), U256::from(1)); // the counter's new value
    assert_eq!(slot(&call, hot, 0), U256::from(1));
    let delegate = run(
        &[
            (a, caller(CallKind::DelegateCall, hot, 0, None, 0x20)),
            (hot, hot_slot(0, 1, 0)),
        ],
        &[(a, vec![])],
    );
    assert_eq!(
        slot(&delegate, a, 0),
        U256::from(1),
        "runs on the caller's storage"
    );
    assert_eq!(slot(&delegate, hot, 0), U256::ZERO);
    let stat = run(
        &[
            (a, caller(CallKind::StaticCall, hot, 0, None, 0x20)),
            (hot, hot_slot(0, 1, 0)),
        ],
        &[(a, vec![])],
    );
    assert_eq!(
        slot(&stat, a, 0x20),
        U256::ZERO,
        "a write under STATICCALL fails"
    );
    assert!(
        stat.receipts[0].success,
        "the caller survives the failed call"
    );
}

#[test]
fn create2_with_a_fixed_salt_collides_the_second_time() {
    let f = code_at(5);
    let factory = creator(
        &Child::Runtime(counter_runtime()),
        Salt::Fixed(3),
        0,
        false,
        false,
        0x30,
    );
    let once = run(&[(f, factory.clone())], &[(f, vec![])]);
    let child = Address::from_word(slot(&once, f, 0x30).into());
    assert_ne!(child, Address::ZERO);
    assert_eq!(
        slot(&once, f, 0x31),
        U256::from(10),
        "the counter runtime was deployed"
    );
    assert_eq!(once.post_state.get(&child).map(|a| a.code.len()), Some(10));
    let twice = run(&[(f, factory)], &[(f, vec![]), (f, vec![])]);
    assert_eq!(
        slot(&twice, f, 0x30),
        U256::ZERO,
        "the second creation collides"
    );
    assert!(
        twice.receipts[1].success,
        "with the 1/64 of gas left to record it"
    );
}

#[test]
fn a_creation_inside_a_reverting_call_leaves_nothing() {
    let (guard, f) = (code_at(6), code_at(7));
    let factory = creator(
        &Child::Runtime(counter_runtime()),
        Salt::Fixed(1),
        0,
        false,
        true,
        0x30,
    );
    let out = run(
        &[
            (guard, caller(CallKind::Call, f, 0, None, 0x40)),
            (f, factory),
        ],
        &[(guard, vec![])],
    );
    assert_eq!(slot(&out, guard, 0x40), U256::ZERO, "the call reverted");
    assert_eq!(
        out.post_state.accounts.len(),
        4,
        "sender, coinbase, guard, factory only"
    );
}

#[test]
fn a_child_destroyed_in_its_creating_transaction_is_deleted_and_can_return() {
    let f = code_at(8);
    let beneficiary = code_at(9);
    for (child, call_child) in [
        (Child::DestroyedInInit(beneficiary), false),
        (Child::Runtime(self_destruct(beneficiary)), true),
    ] {
        let factory = creator(&child, Salt::FromCallData, 7, call_child, false, 0x30);
        let salt = U256::from(2).to_be_bytes::<32>().to_vec();
        let out = run(&[(f, factory)], &[(f, salt.clone()), (f, salt)]);
        let address = Address::from_word(slot(&out, f, 0x30).into());
        assert_ne!(
            address,
            Address::ZERO,
            "the second creation at the same address works"
        );
        assert!(
            out.post_state.get(&address).is_none(),
            "EIP-6780 deleted it"
        );
        assert_eq!(
            out.post_state.get(&beneficiary).map(|a| a.balance),
            Some(U256::from(14)),
            "each child's 7 wei went to the beneficiary"
        );
    }
}

#[test]
fn a_pre_existing_contract_survives_its_selfdestruct_from_cancun() {
    let (d, beneficiary) = (code_at(10), code_at(11));
    let out = run(&[(d, self_destruct(beneficiary))], &[(d, vec![])]);
    let account = out.post_state.get(&d).expect("still exists (EIP-6780)");
    assert!(account.balance.is_zero() && !account.code.is_empty());
    assert_eq!(
        out.post_state.get(&beneficiary).map(|a| a.balance),
        Some(U256::from(500))
    );
}

#[test]
fn transient_storage_adds_three_per_transaction() {
    let t = code_at(12);
    let out = run(&[(t, transient(0x50))], &[(t, vec![]), (t, vec![])]);
    assert_eq!(slot(&out, t, 0x50), U256::from(6));
}

#[test]
fn revert_and_out_of_gas_undo_their_writes() {
    let (r, o) = (code_at(13), code_at(14));
    let out = run(
        &[(r, revert_after_write(0)), (o, out_of_gas(0x60))],
        &[(r, vec![]), (o, vec![])],
    );
    assert!(!out.receipts[0].success && !out.receipts[1].success);
    assert_eq!(out.gas_used[1], GAS, "out of gas uses it all");
    assert!(slot(&out, r, 0).is_zero() && slot(&out, o, 0x60).is_zero());
}

#[test]
fn precompile_calls_store_their_output() {
    let (e, i) = (code_at(15), code_at(16));
    let key = crate::gen::sign::secret_key(1, 3_000);
    let hash = alloy_primitives::keccak256(b"probe");
    let (signature, recovery) = key
        .sign_prehash_recoverable(hash.as_slice())
        .expect("signs");
    let ecrecover = Precompile::Ecrecover {
        hash: hash.0,
        v: 27 + u8::from(recovery.is_y_odd()),
        r: signature.r().to_bytes().into(),
        s: signature.s().to_bytes().into(),
    };
    let out = run(
        &[
            (e, precompile(ecrecover, 0, 0x70)),
            (i, precompile(Precompile::Identity, 0, 0x70)),
        ],
        &[(e, vec![]), (i, vec![])],
    );
    assert_eq!(
        slot(&out, e, 0x70),
        word(crate::gen::sign::address_of(&key))
    );
    assert_eq!(
        slot(&out, i, 0x70),
        word(SENDER),
        "identity returns the caller word"
    );
    assert!(slot(&out, e, 0x71).is_zero() && slot(&out, i, 0x71).is_zero());
}

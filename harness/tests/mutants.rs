//! Mutation tests through the harness (feature `faults`): with a seeded bug switched on in the
//! parallel executor, the runner reports the case as diverged and names the executor and the
//! first difference. Here the EIP-7702 bug: a delegation changed earlier in the block is not
//! seen by a later transaction.
#![cfg(feature = "faults")]

mod common;

use alloy_primitives::{keccak256, Address, Bytes, U256};
use common::one_block_case;
use k256::ecdsa::SigningKey;
use lockstep::case::Case;
use lockstep::executors::{BlockExecutor, ParallelAdapter, RevmExecutor, SpecExecutor};
use lockstep::result::Status;
use lockstep::run::Runner;
use lockstep_executor::faults::Fault;
use lockstep_spec::delegation::{designator, signing_hash};
use lockstep_spec::types::{
    Account, Authorization, Block, BlockEnv, Transaction, TxType, WorldState,
};
use lockstep_spec::Fork;
use std::sync::Arc;
use std::time::Duration;

/// `SSTORE(0, value)`, then stop.
fn store(value: u8) -> Bytes {
    Bytes::from(vec![0x60, value, 0x60, 0x00, 0x55, 0x00])
}

fn funded() -> Account {
    Account {
        balance: U256::from(10u64.pow(18)),
        ..Default::default()
    }
}

/// The address of a secret key.
fn address_of(key: &SigningKey) -> Address {
    let public = key.verifying_key().to_encoded_point(false);
    Address::from_slice(&keccak256(&public.as_bytes()[1..])[12..])
}

/// An authorization by `key` delegating to `to`, signed.
fn authorize(key: &SigningKey, to: Address, nonce: u64) -> Authorization {
    let mut auth = Authorization {
        chain_id: U256::from(1),
        address: to,
        nonce,
        y_parity: 0,
        r: U256::ZERO,
        s: U256::ZERO,
        authority: Some(address_of(key)),
    };
    let (signature, recovery) = key
        .sign_prehash_recoverable(&signing_hash(&auth))
        .expect("a 32-byte hash signs");
    auth.y_parity = u8::from(recovery.is_y_odd());
    auth.r = U256::from_be_slice(&signature.r().to_bytes());
    auth.s = U256::from_be_slice(&signature.s().to_bytes());
    auth
}

/// The authority is delegated to A (which stores 1) before the block; transaction 0
/// re-delegates it to B (which stores 2); transaction 1 calls it, so B must run.
fn redelegation_case() -> Case {
    let key = SigningKey::from_slice(&[0x42; 32]).expect("a valid secret key");
    let authority = address_of(&key);
    let (a, b) = (Address::with_last_byte(0xa1), Address::with_last_byte(0xb1));
    let (s1, s2) = (Address::with_last_byte(0x51), Address::with_last_byte(0x52));
    let mut pre = WorldState::default();
    for (address, code) in [(a, store(1)), (b, store(2))] {
        pre.accounts.insert(
            address,
            Account {
                code,
                nonce: 1,
                ..Default::default()
            },
        );
    }
    pre.accounts.insert(
        authority,
        Account {
            code: designator(a),
            ..funded()
        },
    );
    pre.accounts.insert(s1, funded());
    pre.accounts.insert(s2, funded());
    let mut redelegate = Transaction::call(s1, s2, 0, 100_000, 10);
    redelegate.tx_type = TxType::SetCode;
    redelegate.chain_id = Some(1);
    redelegate.max_priority_fee_per_gas = Some(0);
    redelegate.authorization_list = vec![authorize(&key, b, 0)];
    let call = Transaction::call(s2, authority, 0, 100_000, 10);
    let block = Block {
        env: BlockEnv {
            chain_id: 1,
            number: 1,
            gas_limit: 30_000_000,
            base_fee: Some(7),
            excess_blob_gas: Some(0),
            ..Default::default()
        },
        transactions: vec![redelegate, call],
        ..Default::default()
    };
    one_block_case("mem::redelegation", Fork::Prague, pre, block)
}

fn runner(executors: Vec<Arc<dyn BlockExecutor>>) -> Runner {
    common::runner(executors, Duration::from_secs(30))
}

#[test]
fn the_correct_executors_agree_on_the_redelegation() {
    let result = runner(vec![
        Arc::new(RevmExecutor),
        Arc::new(SpecExecutor),
        Arc::new(ParallelAdapter::new(2)),
    ])
    .run_case(&redelegation_case());
    assert_eq!(result.status, Status::Passed, "{:?}", result.status);
}

#[test]
fn the_stale_delegation_mutant_is_a_named_divergence() {
    let case = redelegation_case();
    let key = SigningKey::from_slice(&[0x42; 32]).expect("a valid secret key");
    let authority = address_of(&key).to_string();
    let result = runner(vec![
        Arc::new(RevmExecutor),
        Arc::new(ParallelAdapter::with_fault(2, Fault::StaleDelegation)),
    ])
    .run_case(&case);
    match &result.status {
        // The first difference is at the authority: its code or its storage.
        Status::Diverged(reason) => {
            assert!(reason.contains("parallel+StaleDelegation"), "{reason}");
            assert!(reason.contains(&format!("account {authority}")), "{reason}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

/// `lockstep mutants` hunts every mutant with generated blocks (and the corpora after them)
/// and catches each, printing one row per mutant and exiting 0.
#[test]
fn lockstep_mutants_catches_every_mutant() {
    let data = std::env::var_os("LOCKSTEP_TESTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if !data.join("mainnet-blocks").is_dir() {
        eprintln!(
            "skipped: no mainnet blocks in {} (set LOCKSTEP_TESTS_DIR); one mutant needs them",
            data.display()
        );
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .env("LOCKSTEP_TESTS_DIR", &data)
        .args(["mutants", "--budget", "60", "--json"])
        .arg(std::env::temp_dir().join(format!("lockstep-mutants-{}.json", std::process::id())))
        .output()
        .expect("lockstep runs");
    let log = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{log}");
    for fault in Fault::ALL {
        let row = log
            .lines()
            .find(|line| line.starts_with(&format!("{fault:?} ")))
            .unwrap_or_else(|| panic!("no row for {fault:?}:\n{log}"));
        assert!(row.split_whitespace().nth(1) == Some("yes"), "{row}");
    }
    let all = format!("{n} of {n} mutants caught", n = Fault::ALL.len());
    assert!(log.contains(&all), "{log}");
}

//! First differing step: the spec's and revm's EIP-3155 traces of the same block agree step by
//! step, and a divergence made on purpose is named at its instruction (transaction, depth, pc,
//! opcode, field), as is revm's known EIP-7610 bug on the pinned ethereum/tests.

mod common;

use alloy_primitives::{address, Address, Bytes, B256, U256};
use lockstep::trace::{first_difference, trace_block, trace_case, Tracing};
use lockstep_spec::types::{AccessListItem, Account, Block, BlockEnv, Transaction, WorldState};
use lockstep_spec::Fork;
use std::path::PathBuf;

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const CONTRACT: Address = address!("1000000000000000000000000000000000000001");
const CALLEE: Address = address!("1000000000000000000000000000000000000002");

/// A Cancun block of one call to a contract that stores 42 in slot 1, calls CALLEE (which
/// stores 1 in its slot 0), and logs; `warm_slot` puts slot 1 in the access list.
fn block_and_pre(warm_slot: bool) -> (WorldState, Block) {
    let code = vec![
        0x60, 0x2a, 0x60, 0x01, 0x55, // SSTORE(1, 42)
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60,
        0x00, // CALL args: out, in, value
        0x73, // PUSH20 CALLEE
    ];
    let mut code = code;
    code.extend_from_slice(CALLEE.as_slice());
    code.extend_from_slice(&[0x5a, 0xf1, 0x50]); // GAS CALL POP
    code.extend_from_slice(&[0x60, 0x07, 0x60, 0x00, 0x60, 0x00, 0xa1, 0x00]); // LOG1, STOP
    let mut pre = WorldState::default();
    let account = |code: Vec<u8>| Account {
        code: Bytes::from(code),
        nonce: 1,
        ..Default::default()
    };
    pre.accounts.insert(CONTRACT, account(code));
    pre.accounts
        .insert(CALLEE, account(vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x00]));
    pre.accounts.insert(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(18)),
            ..Default::default()
        },
    );
    let mut tx = Transaction::call(SENDER, CONTRACT, 0, 200_000, 10);
    // The sender's well-known key, for t8n tools that sign.
    tx.secret_key = "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"
        .parse()
        .ok();
    if warm_slot {
        tx.tx_type = lockstep_spec::types::TxType::AccessList;
        tx.access_list = vec![AccessListItem {
            address: CONTRACT,
            storage_keys: vec![B256::with_last_byte(1)],
        }];
    }
    let block = Block {
        env: BlockEnv {
            chain_id: 1,
            number: 1,
            timestamp: 1_000,
            gas_limit: 30_000_000,
            base_fee: Some(7),
            prevrandao: Some(B256::ZERO),
            excess_blob_gas: Some(0),
            ..Default::default()
        },
        transactions: vec![tx],
        ..Default::default()
    };
    (pre, block)
}

#[test]
fn spec_and_revm_traces_agree_step_by_step() {
    let (pre, block) = block_and_pre(false);
    let spec = trace_block(&Tracing::Spec, Fork::Cancun, &pre, &block).expect("spec traces");
    let revm = trace_block(&Tracing::Revm, Fork::Cancun, &pre, &block).expect("revm traces");
    // 17 steps in the contract, 4 in the callee (its STOP included).
    assert_eq!(spec.len(), 21, "{spec:#?}");
    assert!(
        spec.iter().any(|s| s.depth == 2),
        "the callee's steps are there"
    );
    assert_eq!(first_difference(&spec, &revm), None);
}

#[test]
fn a_changed_sstore_cost_is_named_at_its_instruction() {
    // The same call, but revm sees slot 1 warm (access list): SSTORE costs 2,100 less there,
    // as an SSTORE with a changed gas rule would.
    let (pre, cold) = block_and_pre(false);
    let (_, warm) = block_and_pre(true);
    let spec = trace_block(&Tracing::Spec, Fork::Cancun, &pre, &cold).expect("spec traces");
    let revm = trace_block(&Tracing::Revm, Fork::Cancun, &pre, &warm).expect("revm traces");
    let d = first_difference(&spec, &revm).expect("they differ");
    // The gas before the first instruction already differs (the access list's intrinsic
    // cost), so compare from the second block's own start: shift revm by the intrinsic delta.
    assert_eq!((d.step, d.field), (0, "gas"), "{d:?}");
    let delta = revm[0].gas as i128 - spec[0].gas as i128;
    let shifted: Vec<_> = revm
        .iter()
        .map(|s| lockstep::trace::TraceStep {
            gas: (s.gas as i128 - delta) as u64,
            ..s.clone()
        })
        .collect();
    let d = first_difference(&spec, &shifted).expect("SSTORE differs");
    assert_eq!(d.step, 3, "the step after SSTORE (pc 4): {d:?}");
    assert_eq!(d.field, "gas");
    assert_eq!(spec[2].op, 0x55, "the step before is the SSTORE");
    let text = d.render("spec", "revm", &spec, &shifted, 3);
    assert!(
        text.contains("transaction 0, depth 1, pc 5, PUSH1: gas spec"),
        "{text}"
    );
    assert!(text.contains("SSTORE"), "context names the culprit: {text}");
}

#[test]
fn revm_eip7610_bug_is_traced_to_its_create2() {
    let dir = std::env::var_os("LOCKSTEP_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let file = dir.join("ethereum-tests/GeneralStateTests/stCreate2/create2collisionStorage.json");
    if !file.is_file() {
        eprintln!(
            "skipped: {} not found (set LOCKSTEP_TESTS_DIR)",
            file.display()
        );
        return;
    }
    let cases = lockstep::fixtures::load_file(&file).expect("loads");
    let case = cases
        .iter()
        .find(|c| c.id.ends_with("::London::d0g0v0"))
        .expect("the London case");
    let report = trace_case(case, &Tracing::Spec, &Tracing::Revm, 2);
    // The spec fails the CREATE2 (collision with existing storage, EIP-7610) and pushes 0;
    // revm creates the contract: the step after CREATE2 differs.
    assert!(
        report.contains("first difference at step 5: transaction 0, depth 1, pc 9, STOP: gas"),
        "{report}"
    );
    assert!(report.contains("CREATE2"), "{report}");
}

#[test]
fn the_python_spec_traces_like_the_spec() {
    let eels = std::env::var_os("LOCKSTEP_EELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/eels-venv/bin/ethereum-spec-evm")
        });
    if !eels.is_file() {
        eprintln!(
            "skipped: the Python spec is not installed at {} (scripts/install-eels.sh)",
            eels.display()
        );
        return;
    }
    let (pre, block) = block_and_pre(false);
    let t8n = Tracing::by_name(&format!("t8n:{} t8n", eels.display())).expect("a tracer");
    let spec = trace_block(&Tracing::Spec, Fork::Cancun, &pre, &block).expect("spec traces");
    let python = trace_block(&t8n, Fork::Cancun, &pre, &block).expect("the Python spec traces");
    assert_eq!(python.len(), spec.len());
    assert_eq!(first_difference(&spec, &python), None);
}
